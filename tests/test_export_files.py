"""export_result: the files a user gets, and nothing half-written when the disk says no."""

import errno
import json
import os

import numpy as np
import pytest
from PIL import Image

from advviewer import ExportError, predict
from advviewer.attack import lbfgs_attack
from advviewer.export import diverging_rgb, export_result
from advviewer.models.zoo import sha256_file, shipped_weights_path


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
    assert {p.name for p in files.values()} == {"d1_adversarial.png", "d1_adversarial_x10.png", "d1_perturbation.png",
                                                 "d1.npy", "d1.json"}
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


def test_full_disk_leaves_nothing_behind(cnn, success, tmp_path, monkeypatch):
    (tmp_path / "d1.json").write_text("previous export")
    import advviewer.export as export

    real_fdopen = os.fdopen
    opened = []

    class FullDisk:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            if len(opened) >= 3:  # the third file hits a full disk
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    def fdopen(fd, *args, **kwargs):
        opened.append(fd)
        return FullDisk(real_fdopen(fd, *args, **kwargs))

    monkeypatch.setattr(export.os, "fdopen", fdopen)
    with pytest.raises(ExportError) as e:
        export_result(success, tmp_path, model=cnn, model_name="cnn", stem="d1")
    assert "disk full" in str(e.value) and "\n" not in str(e.value)
    assert os.listdir(tmp_path) == ["d1.json"]  # no partial files, the old file untouched
    assert (tmp_path / "d1.json").read_text() == "previous export"


def test_unwritable_folder(cnn, success, tmp_path, monkeypatch):
    import advviewer.export as export

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(export.tempfile, "mkstemp", refuse)  # as a read-only folder does, even for root
    with pytest.raises(ExportError) as e:
        export_result(success, tmp_path / "out", model=cnn, model_name="cnn", stem="d1")
    assert "cannot write" in str(e.value) and "permission denied" in str(e.value)


def test_folder_that_is_a_file(cnn, success, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ExportError):
        export_result(success, blocker, model=cnn, model_name="cnn", stem="d1")
