"""export_result: the files a user gets, and nothing half-written when the disk says no."""

import errno
import json
import os

import numpy as np
import pytest
from PIL import Image

from advviewer import ExportError, predict
from advviewer.attack import lbfgs_attack
from advviewer.models.zoo import sha256_file, shipped_weights_path
from advviewer.writing.export import export_result, export_stem
from advviewer.writing.pixels import diverging_rgb


@pytest.fixture(scope="module")
def success(cnn, test_digits):
    x = test_digits[0][1]
    return lbfgs_attack(cnn, x, int(np.argsort(predict(cnn, x))[-2]))


@pytest.fixture(scope="module")
def failure(cnn, test_digits):
    x = test_digits[0][1]
    return lbfgs_attack(cnn, x, int(np.argsort(predict(cnn, x))[-2]), c=1e-4)


def test_files_of_a_successful_attack(cnn, success, tmp_path):
    files = export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1", source="digit.png")
    assert {p.name for p in files.values()} == {"d1_adversarial.png", "d1_adversarial_x10_viewing-copy.png",
                                                 "d1_perturbation.png", "d1_figure.png", "d1.npy", "d1.json"}
    with Image.open(files["figure_png"]) as figure:
        assert figure.width > 3 * 280 and figure.height > 280  # three enlarged pictures and their captions
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in files.values())  # no temporary files left
    with Image.open(files["adversarial_png"]) as png:
        assert png.mode == "L" and png.size == (28, 28)
        reread = np.asarray(png, dtype=np.float32) / 255.0
    assert np.abs(reread - success.adversarial).max() <= 0.5 / 255 + 1e-6
    with Image.open(files["adversarial_x10_png"]) as big:
        assert big.size == (280, 280)
    with Image.open(files["perturbation_png"]) as colours:
        assert colours.mode == "RGB"
        assert float(colours.text["scale"]) == pytest.approx(success.linf, rel=1e-5)
    npy = np.load(files["npy"])
    assert npy.dtype == np.float32 and np.array_equal(npy, success.adversarial)
    record = json.loads(files["json"].read_text())
    assert record["model"] == "cnn" and record["image"] == "digit.png"
    assert record["weights_sha256"] == sha256_file(shipped_weights_path("cnn"))
    assert record["target"] == success.target and record["c"] == success.c and record["l2"] == success.l2
    assert len(record["adversarial_probs"]) == 10 and record["success"] is True
    # the 8-bit verdict is what the model says about the PNG as written
    assert record["png_fools_model"] == (predict(cnn, reread).argmax() == success.target)
    assert record["png_class"] == int(predict(cnn, reread).argmax())


def test_a_failed_attack_writes_only_its_record(cnn, failure, tmp_path):
    assert not failure.success
    files = export_result(failure, tmp_path, model=cnn, model_name="cnn", stem="f")
    assert list(files) == ["json"]
    assert os.listdir(tmp_path) == ["f.json"]
    assert json.loads(files["json"].read_text())["success"] is False


def test_diverging_map_is_symmetric():
    rgb = diverging_rgb(np.array([[-1.0, 0.0, 1.0, 5.0]]), 1.0)
    assert tuple(rgb[0, 1]) == (247, 247, 247)
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 2, 0] > rgb[0, 2, 2]  # blue below, red above
    assert np.array_equal(rgb[0, 2], rgb[0, 3])  # clipped at the scale


def _fail_on_write(monkeypatch, after: int, error: BaseException):
    """Make the (after+1)-th file write raise ``error``: a full disk, Ctrl+C."""
    import advviewer.writing.atomic_files as atomic

    calls = []
    real_write = os.write

    def write(fd, data):
        calls.append(fd)
        if len(calls) > after:
            raise error
        return real_write(fd, data)

    monkeypatch.setattr(atomic.os, "write", write)


def test_full_disk_leaves_nothing_behind(cnn, success, tmp_path, monkeypatch):
    (tmp_path / "d1.json").write_text("previous export")
    _fail_on_write(monkeypatch, 2, OSError(errno.ENOSPC, "No space left on device"))  # the third file hits a full disk
    with pytest.raises(ExportError) as e:
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    assert "disk full" in str(e.value) and "\n" not in str(e.value)
    assert os.listdir(tmp_path) == ["d1.json"]  # no partial files, the old file untouched
    assert (tmp_path / "d1.json").read_text() == "previous export"


def test_ctrl_c_while_writing_leaves_the_folder_as_it_was(cnn, success, tmp_path, monkeypatch):
    (tmp_path / "d1.json").write_text("previous export")
    _fail_on_write(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    assert os.listdir(tmp_path) == ["d1.json"]  # no .tmp files left
    assert (tmp_path / "d1.json").read_text() == "previous export"


def _folder_contents(folder):
    """Every path under ``folder`` with its bytes (None for a folder): what a user would find there."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in folder.rglob("*")}


def _fail_moving_into_place(monkeypatch, which: int, restore_fails: bool = False):
    """Make the ``which``-th move of a finished file into place fail (-1: the last, the JSON record);
    with ``restore_fails``, moving an earlier file back fails too."""
    import advviewer.writing.atomic_files as atomic

    real_replace = os.replace
    moves = []

    def replace(src, dst):
        if str(src).endswith(".tmp"):
            moves.append(dst)
            if len(moves) - 1 == which or which == -1 and str(dst).endswith(".json"):
                raise OSError(errno.EIO, "Input/output error")
        if restore_fails and str(src).endswith(".old"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    return moves


@pytest.mark.parametrize("which", [0, 2, -1], ids=["first", "middle", "last"])
def test_a_failed_rename_restores_the_earlier_export(cnn, success, tmp_path, monkeypatch, which):
    """An earlier export's files with the same names are all back, byte for byte, whichever move fails."""
    first = export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    before = _folder_contents(tmp_path)
    moves = _fail_moving_into_place(monkeypatch, which)
    with pytest.raises(ExportError, match="input/output error") as e:
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    assert "\n" not in str(e.value)
    assert len(moves) == (len(first) if which == -1 else which + 1)  # it failed where it was meant to
    assert _folder_contents(tmp_path) == before
    assert set(before) == {p.name for p in first.values()}


def test_a_folder_where_the_record_goes_is_refused_and_kept(cnn, success, tmp_path):
    """Issue 20: the earlier export's JSON name is now a folder. It was moved aside to a hidden name,
    the new record put in its place, and success reported; now nothing is written and it says why."""
    export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    (tmp_path / "d1.json").unlink()
    (tmp_path / "d1.json").mkdir()
    (tmp_path / "d1.json" / "notes.txt").write_text("the user's own notes")
    before = _folder_contents(tmp_path)
    with pytest.raises(ExportError) as e:
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    assert str(e.value) == f"cannot write d1.json in {tmp_path}: a folder of that name is in the way; nothing was written"
    assert _folder_contents(tmp_path) == before  # the folder and the earlier PNGs as they were, nothing hidden left


def test_an_earlier_file_that_cannot_be_put_back_is_named(cnn, success, tmp_path, monkeypatch):
    """If even the roll-back fails, the one line says where the earlier file is (whole, under a hidden name)."""
    export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    earlier = (tmp_path / "d1.json").read_bytes()
    _fail_moving_into_place(monkeypatch, -1, restore_fails=True)
    with pytest.raises(ExportError, match="could not all be put back") as e:
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(".d1.json.")]
    assert len(kept) == 1 and kept[0].read_bytes() == earlier and f"d1.json as {kept[0].name}" in str(e.value)


def test_files_get_the_umasks_permissions(cnn, success, tmp_path):
    old = os.umask(0o022)
    try:
        files = export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
        os.umask(0o027)
        other = export_result(success, tmp_path / "group", model=cnn, model_name="cnn", stem="d1")
    finally:
        os.umask(old)
    assert {p.stat().st_mode & 0o777 for p in files.values()} == {0o644}  # mkstemp made them 0600
    assert {p.stat().st_mode & 0o777 for p in other.values()} == {0o640}


@pytest.mark.parametrize("stem", ["./../x", "../x", "/tmp/x", "a/b", ".hidden", "", "a\0b", "x" * 201])
def test_a_stem_can_never_leave_the_folder(cnn, success, tmp_path, stem):
    inside = tmp_path / "out"
    with pytest.raises(ExportError, match="cannot export under the name"):
        export_result(success, inside, model=cnn, model_name="cnn", stem=stem)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing anywhere, not even the folder


def test_a_missing_folder_is_created(cnn, success, tmp_path):
    files = export_result(success, tmp_path / "new" / "folder", model=cnn, model_name="cnn", stem="d1")
    assert all(p.parent == tmp_path / "new" / "folder" and p.is_file() for p in files.values())


def test_a_device_is_not_a_folder(cnn, success):
    with pytest.raises(ExportError) as e:
        export_result(success, "/dev/full", model=cnn, model_name="cnn", stem="d1")
    assert str(e.value) == "/dev/full is not a folder; choose a folder to export into"


def test_stems_are_unique_within_one_export_and_bounded(success):
    taken: set[str] = set()
    first = export_stem(success, "cnn", "a/7.png", taken)
    second = export_stem(success, "cnn", "b/7.png", taken)
    assert first != second and second == first + "-2"
    long = export_stem(success, "model/" + "m" * 300 + ".pt2", "/pics/" + "ä" * 300 + ".png")
    assert len(long.encode()) <= 200 and "/" not in long


def test_unwritable_folder(cnn, success, tmp_path, monkeypatch):
    import advviewer.writing.atomic_files as atomic

    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:  # as a read-only folder does, even for root
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(ExportError) as e:
        export_result(success, tmp_path / "out", model=cnn, model_name="cnn", stem="d1")
    assert "cannot write" in str(e.value) and "permission denied" in str(e.value)


def test_folder_that_is_a_file(cnn, success, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ExportError, match="is not a folder"):
        export_result(success, blocker, model=cnn, model_name="cnn", stem="d1")


@pytest.mark.parametrize("inside", ["file/sub", "file/sub/deeper"])
def test_a_folder_under_a_file_is_named_once_with_the_reason(cnn, success, tmp_path, inside):
    """It said "cannot write X in X: not a directory", the folder twice and the reason in a system's words."""
    (tmp_path / "file").write_text("a file, not a folder")
    target = tmp_path / inside
    with pytest.raises(ExportError) as e:
        export_result(success, target, model=cnn, model_name="cnn", stem="d1")
    message = str(e.value)
    assert message.count(str(target)) == 1 and "not a directory" not in message, message
    assert message == f"cannot create the export folder {target}: a part of its path is a file, not a folder"


def test_the_robust_png_fools_even_when_r_is_far_below_one_level(cnn):
    """A digit a hair from the boundary: the minimal r moves no pixel by half a level, so 5 r rounded away too."""
    from helpers import boundary_digit

    from advviewer.writing.eight_bit import robust_8bit
    from advviewer.writing.pixels import to_8bit

    pixels, first, other = boundary_digit(cnn)
    result = lbfgs_attack(cnn, pixels, other)
    assert result.success and result.linf < 0.5 / 255
    assert int(predict(cnn, to_8bit(result.adversarial) / np.float32(255)).argmax()) == first  # plain rounding undoes it
    made = robust_8bit(cnn, pixels, result.adversarial, other)
    assert made.fools and made.png_class == other and made.scale > 5
    assert int(predict(cnn, made.pixels / np.float32(255)).argmax()) == other


# ---- the record's sha256 names the weights the model was loaded from (issue 21) ----

def _model_file(tmp_path, zoo_name="fc10-1e-2"):
    import shutil

    path = tmp_path / "mine.pt"
    shutil.copyfile(shipped_weights_path(zoo_name), path)
    return path


def test_the_record_names_the_weights_used_not_the_file_as_it_is_at_export(success, tmp_path):
    """Retrained (or replaced) after loading: the window's export still names the model that made the result."""
    from advviewer.models import load_identified_model
    from advviewer.session.export import export_finished
    from advviewer.session.jobs import load_model_job
    from advviewer.session.tasks import TaskState
    from advviewer.session.values import FinishedAttack

    path = _model_file(tmp_path)
    loaded_sha = sha256_file(path)
    choice = load_model_job(str(path))(TaskState())
    assert choice.sha256 == loaded_sha == load_identified_model(path)[1]
    path.write_bytes(shipped_weights_path("cnn").read_bytes())  # another model under the same name
    exported = export_finished(FinishedAttack(success, choice, "digit.png", ()), tmp_path / "out")
    assert exported.record["weights_sha256"] == loaded_sha


def test_the_export_never_reads_the_model_file_again(cnn, success, tmp_path, monkeypatch):
    """Not even a bounded read: by then the file may be gigabytes, or anything else (main re-read it whole)."""
    import builtins

    from advviewer.reading import files

    path = _model_file(tmp_path)

    def no_read(*args, **kwargs):
        raise AssertionError("the model file was read again at export")

    real_open = builtins.open
    monkeypatch.setattr(files, "read_regular_file", no_read)
    monkeypatch.setattr("pathlib.Path.read_bytes", no_read)
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: no_read() if str(f) == str(path) else real_open(f, *a, **k))
    written = export_result(success, tmp_path / "out", model=cnn, model_name=str(path), stem="d1", weights_sha256="ab" * 32)
    assert json.loads(written["json"].read_text())["weights_sha256"] == "ab" * 32


def test_the_hash_is_of_the_bytes_loaded_read_once(tmp_path, monkeypatch):
    """One read of the file gives both the model and its hash: nothing can change between the two."""
    from advviewer.models import load_identified_model, loading

    path = _model_file(tmp_path)
    reads = []
    real = loading.read_regular_file
    monkeypatch.setattr(loading, "read_regular_file", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    module, sha256 = load_identified_model(path)
    assert reads == [path] and sha256 == sha256_file(path)
