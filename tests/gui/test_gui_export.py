"""Export from the window, read the files back; bad folders and a full disk leave nothing behind."""

import json
import os

import numpy as np
import pytest
from helpers import export_and_wait, run_minimal
from PIL import Image

from advviewer.gui import export_actions


def attack(window, qtbot, target):
    return run_minimal(window, qtbot, target, settle=True)  # the c sweep too


def export_current(window, qtbot, folder, robust=False):
    """The shown result exported to ``folder``: what it wrote, or None if nothing was."""
    outcome = export_and_wait(qtbot, window, export_actions.export_current, folder, robust=robust)
    return outcome.done[0] if outcome is not None and outcome.done else None


def test_export_and_read_back(window, qtbot, tmp_path):
    result = attack(window, qtbot, 3)
    written = export_current(window, qtbot, tmp_path).files
    assert set(written) == {"adversarial_png", "adversarial_x10_png", "figure_png", "perturbation_png", "npy", "json"}
    assert all(path.parent == tmp_path and path.exists() for path in written.values())
    with Image.open(written["adversarial_png"]) as png:
        assert png.size == (28, 28)
        np.testing.assert_array_equal(np.asarray(png), np.round(result.adversarial * 255).astype(np.uint8))
    with Image.open(written["adversarial_x10_png"]) as big:
        assert big.size == (280, 280)
    np.testing.assert_array_equal(np.load(written["npy"]), result.adversarial)
    record = json.loads(written["json"].read_text())
    assert record["model"] == "cnn" and len(record["weights_sha256"]) == 64
    assert record["target"] == 3 and record["c"] == pytest.approx(result.c) and record["l2"] == pytest.approx(result.l2)
    assert "png_fools_model" in record and len(record["adversarial_probs"]) == 10
    assert "bundled MNIST" in record["image"]
    assert "Exported 6 files" in window.message.text
    assert window.message.kind == ("info" if record["png_fools_model"] else "error")
    assert window.settings.get("export_folder") == str(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_export_all_results_of_the_session(window, qtbot, tmp_path):
    attack(window, qtbot, 3)
    attack(window, qtbot, 5)
    done = export_and_wait(qtbot, window, export_actions.export_everything, tmp_path / "all").done
    assert len(done) == len(window.state.results.items) == 2
    records = sorted((tmp_path / "all").glob("*.json"))
    assert [json.loads(p.read_text())["target"] for p in records] == [3, 5]
    assert records[0].name.startswith("001_") and "_cnn_7to3_c" in records[0].name


def test_nothing_to_export_says_so(window, qtbot, tmp_path):
    assert export_current(window, qtbot, tmp_path) is None
    assert "run an attack first" in window.message.text
    assert not list(tmp_path.iterdir())


def test_a_folder_that_cannot_be_made(window, qtbot, tmp_path):
    attack(window, qtbot, 3)
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the folder should be")
    canvas_before = window.canvas.to_array()
    assert export_current(window, qtbot, blocker / "out") is None
    assert window.message.kind == "error"
    assert "Export failed, nothing was written" in window.message.text
    assert f"cannot create the export folder {blocker / 'out'}: a part of its path is a file" in window.message.text
    np.testing.assert_array_equal(window.canvas.to_array(), canvas_before)  # the drawing is kept
    assert export_current(window, qtbot, tmp_path / "fine") is not None  # and the app goes on


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_an_unwritable_folder(window, qtbot, tmp_path):
    attack(window, qtbot, 3)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert export_current(window, qtbot, locked) is None
        assert "cannot write" in window.message.text
        assert not list(locked.iterdir())
    finally:
        locked.chmod(0o700)


def test_a_full_disk(window, qtbot, tmp_path, monkeypatch):
    """Every temporary file the export writes goes to /dev/full, which fails with ENOSPC."""
    import advviewer.writing.atomic_files as atomic

    attack(window, qtbot, 3)
    real_open = os.open

    def full_disk_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT:  # a new temporary file: write it to /dev/full instead
            os.close(fd)
            return real_open("/dev/full", os.O_WRONLY)
        return fd

    monkeypatch.setattr(atomic.os, "open", full_disk_open)
    out = tmp_path / "out"
    assert export_current(window, qtbot, out) is None
    assert "disk full" in window.message.text and "nothing was written" in window.message.text
    assert not list(out.iterdir())  # no partial file, no temporary file
    monkeypatch.undo()
    assert export_current(window, qtbot, out) is not None


def test_export_all_runs_beside_the_window_and_closing_midway_keeps_whole_files(window, qtbot, tmp_path, monkeypatch):
    """A long Export all (up to 500 results) never freezes the window; closing it stops between results."""
    import csv
    import time

    from advviewer.session import export as session_export

    attack(window, qtbot, 3)
    attack(window, qtbot, 5)
    attack(window, qtbot, 2)
    real = session_export.export_finished

    def slow(*args, **kwargs):  # a slow user model's 8-bit check, or a slow disk
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(session_export, "export_finished", slow)
    out = tmp_path / "all"
    assert export_actions.export_everything(window, out)
    assert window.state.exports.running() is not None  # it returned at once; the export goes on beside the window
    qtbot.waitUntil(lambda: "1 of 3 results written" in window.message.text, timeout=10_000)
    assert not export_actions.export_current(window, tmp_path / "other")  # one export at a time, and it says so
    assert "still running" in window.message.text and not (tmp_path / "other").exists()
    window.close()
    records = sorted(out.glob("*.json"))
    with open(out / "index.csv") as f:
        rows = list(csv.DictReader(f))
    assert 1 <= len(records) < 3 and [r["stem"] for r in rows] == [p.stem for p in records]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left for exit_now to strand
