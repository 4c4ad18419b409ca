"""The second layer (advviewer.reading.sandbox): whatever a file makes our reading code do, it ends in one line, in time.

Each hostile function runs in the sandbox's child process; the test checks that the caller gets one
AdvViewerError line (no traceback, nothing printed) within the time limit, and that normal files give
exactly the arrays the same code gives in this process.
"""

import os
import shutil
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sandbox_cases as cases
import torch
from PIL import Image

from advviewer.errors import Cancelled, DataFormatError, ImageLoadError, ModelLoadError
from advviewer.reading import sandbox

pytestmark = pytest.mark.skipif(not sandbox.mechanism().memory_limited, reason="needs fork and an enforced RLIMIT_AS (Linux)")

SMALL = sandbox.Limits(memory_mb=512, cpu_seconds=2, wall_seconds=30.0)  # 2 s of processor time may take 5 s on a busy machine


def isolated(function, *args, limits=SMALL):
    return sandbox.run_isolated(function, args, limits=limits, error=ImageLoadError, name="digit.png")


def refusal(function, *args, limits=SMALL) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(ImageLoadError) as caught:
        isolated(function, *args, limits=limits)
    elapsed = time.monotonic() - start
    text = str(caught.value)
    assert "\n" not in text and text.isprintable() and text.startswith("digit.png: ")
    return text, elapsed


@pytest.mark.parametrize("allocate", [cases.allocate_4_gb, cases.grow_forever])
def test_a_reader_that_allocates_gigabytes_is_refused_in_one_line(allocate):
    text, elapsed = refusal(allocate)
    assert text == "digit.png: reading it needed more than 512 MB of memory; refused"
    assert elapsed < SMALL.wall_seconds


def test_a_failed_allocation_turned_into_our_error_is_still_named_as_memory():
    text, _ = refusal(cases.refuse_after_a_failed_allocation)
    assert text == "digit.png: reading it needed more than 512 MB of memory; refused"
    with pytest.raises(ImageLoadError, match=r"^MemoryError\.png: not an image file$"):  # a file's name is not a failure
        isolated(cases.refuse, "MemoryError.png: not an image file")


def test_a_reader_that_spins_is_stopped_by_its_processor_time():
    text, elapsed = refusal(cases.spin_forever)
    assert text == "digit.png: reading it used more than 2 s of processor time (or was killed); refused"
    assert elapsed < SMALL.wall_seconds


def test_a_reader_that_waits_is_stopped_by_the_clock():
    text, elapsed = refusal(cases.sleep_forever, limits=sandbox.Limits(512, 2, wall_seconds=1.5))
    assert text == "digit.png: reading it took more than 1.5 s; refused"
    assert 1.5 <= elapsed < 5.0


def _server_family() -> set[int]:
    """The processes the fork server has forked that are still there (supervisors and readers; Linux /proc)."""
    server = sandbox._server._process
    if server is None:
        return set()
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
        except OSError:
            continue  # ended meanwhile
        if stat:
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (name) state": the parent's pid
    family, generation = set(), {server.pid}
    while generation:
        generation = {pid for pid, parent in parents.items() if parent in generation} - family
        family |= generation
    return family


def _server_family_ends(within: float) -> bool:
    end = time.monotonic() + within
    while _server_family():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def _cancelled_after(seconds: float, limits: sandbox.Limits) -> float:
    """How long a read of a reader that sleeps for good takes to end once cancelled from another thread after ``seconds``."""
    cancel = threading.Event()
    timer = threading.Timer(seconds, cancel.set)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Cancelled):
            sandbox.run_isolated(cases.sleep_forever, (), limits=limits, error=ImageLoadError, name="digit.png",
                                 cancel=cancel)
    finally:
        timer.cancel()
    return time.monotonic() - start


def test_a_cancelled_read_ends_at_once_and_its_reader_is_killed():
    """A read nobody wants any more (a newer scene was asked for) ends within a moment of its cancel flag, not at its
    wall-clock limit, and its reader does not sleep on."""
    assert isolated(cases.nothing) is None  # the server runs: the reader starts at once
    assert _server_family_ends(within=5.0)
    elapsed = _cancelled_after(0.2, sandbox.Limits(512, 2, wall_seconds=20.0))
    assert 0.2 <= elapsed < 1.0
    assert _server_family_ends(within=1.0)
    assert isolated(cases.nothing) is None  # and the next file reads


def test_a_read_cancelled_before_its_reader_started_never_runs():
    """Cancelled while a fresh server still imports its modules: the reader, forked later, finds nobody reading its
    pipe and ends at its first word, before it runs the function."""
    sandbox._server.stop()  # the next request waits for a new server (a second or more)
    elapsed = _cancelled_after(0.05, sandbox.Limits(512, 2, wall_seconds=20.0))
    assert elapsed < 1.0
    assert isolated(cases.nothing) is None  # served after the cancelled request: its reader was forked before
    assert _server_family_ends(within=2.0)
    already = threading.Event()
    already.set()
    with pytest.raises(Cancelled):  # a flag set before the call: no reader at all
        sandbox.run_isolated(cases.sleep_forever, (), limits=SMALL, error=ImageLoadError, name="digit.png", cancel=already)
    assert not _server_family()


def test_a_reader_that_crashes_is_one_line():
    text, elapsed = refusal(cases.segfault)
    assert text == "digit.png: reading it crashed the reading process (SIGSEGV); refused"
    assert elapsed < SMALL.wall_seconds


def test_what_a_reader_prints_reaches_neither_stdout_nor_stderr(capfd):
    answer = isolated(cases.chatter_then_answer)
    np.testing.assert_array_equal(answer, np.arange(12, dtype=np.int16).reshape(3, 4))
    assert answer.dtype == np.int16 and answer.flags.writeable
    text, _ = refusal(cases.chatter_then_fail)
    assert text == "digit.png: reading it failed (ValueError: first line); refused"
    out, err = capfd.readouterr()
    assert out == "" and "decoder" not in err and "fd 2" not in err and "about to fail" not in err


def test_a_reader_cannot_write_files(tmp_path):
    text, _ = refusal(cases.write_a_file, str(tmp_path / "written"))
    assert text.endswith("; refused")
    assert not (tmp_path / "written").exists() or (tmp_path / "written").stat().st_size == 0


def test_our_errors_come_back_with_their_class_and_text():
    with pytest.raises(ImageLoadError, match=r"^not a picture: \\x1b\[0m$"):
        isolated(cases.refuse, "not a picture: \x1b[0m")  # control characters escaped, as every line from a file
    assert isolated(cases.nothing) is None
    first, second = isolated(cases.answers)
    np.testing.assert_array_equal(first, cases.answers()[0])
    np.testing.assert_array_equal(second, cases.answers()[1])
    assert first.dtype == np.float32 and second.dtype == np.int64


def test_only_numeric_arrays_come_back():
    text, _ = refusal(cases.object_array)
    assert text.startswith("digit.png: reading it failed (") and text.endswith("; refused")
    with pytest.raises(sandbox._ProtocolError):  # the parent's check, should a child ever announce one
        sandbox._array_headers({"kind": "array", "arrays": [{"dtype": "|O", "shape": [1]}]})


# ---------------------------------------------------------------- the entry points


@pytest.fixture
def pictures(tmp_path, test_digits):
    images, _ = test_digits
    digit = images[0]
    paper = Image.fromarray(((1.0 - digit) * 255).astype(np.uint8)).resize((140, 140), Image.Resampling.BILINEAR)
    paths = []
    for suffix in ("png", "jpg", "tiff"):
        paths.append(tmp_path / f"digit.{suffix}")
        paper.save(paths[-1])
    paths.append(tmp_path / "digit.npy")
    np.save(paths[-1], digit)
    paths.append(tmp_path / "photo.npy")
    np.save(paths[-1], np.random.default_rng(0).random((300, 200)) * 1000.0)
    return paths


def test_pictures_read_in_the_child_are_the_arrays_read_here(pictures):
    from advviewer.reading import image_io

    for path in pictures:
        here = image_io._load_image_here(path)
        there = image_io.load_image(path)
        assert there.dtype == here.dtype == np.float32
        np.testing.assert_array_equal(there, here)  # the same code on the same machine: the same bytes


def test_a_picture_that_overruns_its_limits_is_one_line_from_the_core(tmp_path, monkeypatch):
    from advviewer.reading import image_io

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (3000, 3000), np.uint8)).save(path)
    monkeypatch.setattr(image_io, "PICTURE_LIMITS", sandbox.Limits(memory_mb=8, cpu_seconds=5, wall_seconds=10.0))
    with pytest.raises(ImageLoadError, match=r"big\.png: reading it needed more than 8 MB of memory; refused$"):
        image_io.load_image(path)


def test_the_cli_shows_a_killed_reader_as_one_line(tmp_path, monkeypatch, capsys):
    from advviewer.cli import main
    from advviewer.reading import image_io

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (3000, 3000), np.uint8)).save(path)
    monkeypatch.setattr(image_io, "PICTURE_LIMITS", sandbox.Limits(memory_mb=8, cpu_seconds=5, wall_seconds=10.0))
    assert main(["predict", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err == f"advviewer: {path}: reading it needed more than 8 MB of memory; refused\n"
    assert out == ""


def _user_model_files(tmp_path):
    from advviewer.models import export_classifier, load_model
    from advviewer.models.zoo_cards import shipped_weights_path

    weights = tmp_path / "mine.pt"
    shutil.copy(shipped_weights_path("cnn"), weights)
    program = export_classifier(load_model("cnn"), tmp_path / "mine.pt2")
    return weights, program


def test_a_user_model_checked_in_the_child_is_the_model_loaded_here(tmp_path, test_digits, monkeypatch):
    from advviewer.models import load_model

    digits = torch.from_numpy(test_digits[0][:16]).unsqueeze(1)
    for path in _user_model_files(tmp_path):
        monkeypatch.setenv("ADVVIEWER_SANDBOX", "off")
        here = load_model(path)
        monkeypatch.delenv("ADVVIEWER_SANDBOX")
        checked = load_model(path)
        with torch.no_grad():
            assert torch.equal(checked(digits), here(digits))


def test_a_model_whose_check_overruns_is_one_line(tmp_path, monkeypatch):
    from advviewer.models import loading

    weights, program = _user_model_files(tmp_path)
    monkeypatch.setattr(loading, "MODEL_LIMITS", sandbox.Limits(memory_mb=1, cpu_seconds=5, wall_seconds=20.0))
    for path in (weights, program):
        with pytest.raises(ModelLoadError, match=rf"^{path}: loading and checking it needed more than 1 MB of memory; refused$"):
            loading.load_model(path)


def test_a_model_file_no_longer_wanted_is_not_checked(tmp_path):
    """The model lane's job passes its cancel flag on: a load superseded before its check in the child ends there
    (Cancelled, which the lane drops without a word), instead of checking the file to the end."""
    from advviewer.models.zoo_cards import shipped_weights_path
    from advviewer.session.jobs import load_model_job
    from advviewer.session.tasks import TaskState

    weights = tmp_path / "mine.pt"
    shutil.copy(shipped_weights_path("cnn"), weights)
    state = TaskState()
    state.cancel.set()
    with pytest.raises(Cancelled):
        load_model_job(str(weights))(state)


def test_idx_files_read_in_the_child_are_the_arrays_read_here(tmp_path):
    from advviewer.data import bundled, idx

    folder = tmp_path / "mnist"
    folder.mkdir()
    images, labels = bundled.bundled_split("test")
    _write_idx(folder / "t10k-images-idx3-ubyte", images)
    _write_idx(folder / "t10k-labels-idx1-ubyte", labels.astype(np.uint8))
    got_images, got_labels = idx.load_idx_dataset(folder, "test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels.astype(np.int64))
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.int64


def test_a_gzip_bomb_in_an_idx_folder_is_one_line(tmp_path, monkeypatch):
    """200 MB of images in a 200 kB .gz: gzip.open(...).read() would unpack all of it (a 20 GB one would take the machine)."""
    import gzip

    from advviewer.data import idx

    folder = tmp_path / "mnist"
    folder.mkdir()
    header = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 255_000, 28, 28)
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz", "wb", compresslevel=1) as out:
        out.write(header)
        for _ in range(200):
            out.write(bytes(784_000))
    _write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(255_000, np.uint8))
    monkeypatch.setattr(idx, "IDX_LIMITS", sandbox.Limits(memory_mb=64, cpu_seconds=10, wall_seconds=20.0))
    with pytest.raises(DataFormatError, match=rf"^{folder}: reading it needed more than 64 MB of memory; refused$"):
        idx.load_idx_dataset(folder, "test")


def _write_idx(path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    path.write_bytes(header + array.astype(">u1").tobytes())


def test_without_the_mechanism_files_are_read_here_and_it_is_said_once(monkeypatch, pictures, caplog):
    """ADVVIEWER_SANDBOX=off (as where there is no fork or no resource module): the program still reads files."""
    from advviewer.reading import image_io

    monkeypatch.setattr(sandbox, "_said_once", set())
    monkeypatch.setenv("ADVVIEWER_SANDBOX", "off")
    assert not sandbox.mechanism().isolated
    with caplog.at_level("WARNING", logger="advviewer.reading.sandbox"):
        for _ in range(2):
            np.testing.assert_array_equal(image_io.load_image(pictures[0]), image_io._load_image_here(pictures[0]))
    assert [r.getMessage() for r in caplog.records] == [sandbox.mechanism().explanation]
    monkeypatch.setattr(sandbox, "resource", None)
    monkeypatch.delenv("ADVVIEWER_SANDBOX")
    assert not sandbox.mechanism().isolated and "Windows" in sandbox.mechanism().explanation


def test_a_server_that_cannot_start_leaves_files_readable(monkeypatch, pictures, caplog):
    from advviewer.reading import image_io

    monkeypatch.setattr(sandbox, "_said_once", set())
    monkeypatch.setattr(sandbox, "_server", sandbox._Server())
    monkeypatch.setattr(sandbox, "_server_command", lambda fd, modules: ["/nonexistent/python"])
    with caplog.at_level("WARNING", logger="advviewer.reading.sandbox"):
        for _ in range(2):
            np.testing.assert_array_equal(image_io.load_image(pictures[1]), image_io._load_image_here(pictures[1]))
    assert len(caplog.records) == 1 and "could not start the file-reading process" in caplog.records[0].getMessage()


def test_a_scene_bomb_that_a_static_check_misses_is_stopped_by_the_childs_memory_limit(tmp_path, monkeypatch):
    """The second layer for scene files: with the bound on unpacked members off in the child, the 200 MB zip bomb
    inflates there, meets the child's memory limit, and comes back as one line; this process never holds it."""
    import resource

    from hostile_scenes import HOSTILE_SCENES, good_scene

    from advviewer.errors import SceneFileError
    from advviewer.reading import scene_file

    bomb = next(case for case in HOSTILE_SCENES if case.name == "zip bomb").build(good_scene(tmp_path), tmp_path)
    monkeypatch.setattr(scene_file, "_checked_members", cases.scene_members_without_the_size_bound)
    monkeypatch.setattr(scene_file, "SCENE_LIMITS", sandbox.Limits(memory_mb=64, cpu_seconds=5, wall_seconds=20.0))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(SceneFileError) as refused:
        scene_file.read_scene(bomb)
    assert str(refused.value) == "bomb.advscene: reading it needed more than 64 MB of memory; refused"
    assert time.monotonic() - start < 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kb < 100 * 1024  # the 200 MB never came here
    assert scene_file.read_scene(good_scene(tmp_path, "after.advscene")).result is not None  # and the next scene reads
