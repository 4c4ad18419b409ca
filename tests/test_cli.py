"""The command line as a user meets it: `advviewer predict` and `train`, and every kind of bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from strokes import draw_digit


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "advviewer", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    assert "predict" in out.stdout and "train" in out.stdout


def test_predict_prints_class_and_ten_probabilities(drawn_digit_files):
    out = run("predict", *drawn_digit_files)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{drawn_digit_files[0]}: 3 ")
    assert lines[0].count(":") == 1 + 10


def test_predict_json(drawn_digit_files):
    out = run("predict", drawn_digit_files[1], "--json", "--model", "cnn")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["class"] == 8 and record["model"] == "cnn"
    assert len(record["probabilities"]) == 10 and sum(record["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def _bad_inputs(tmp_path, huge_png):
    text = tmp_path / "readme.png"
    text.write_text("hello")
    good = tmp_path / "good.png"
    Image.fromarray(draw_digit(1)).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:300])
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 4, 5)))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((28, 28), np.nan))
    return {
        "non-image": ([text], "not an image file"),
        "truncated": ([cut], "corrupt or truncated"),
        "huge": ([huge_png], "refused"),
        "wrong-shape": ([wrong], "shape"),
        "nan": ([nan], "NaN"),
        "missing": ([tmp_path / "nope.png"], "no such file"),
        "directory": ([tmp_path], "is a directory"),
    }


@pytest.mark.parametrize("case", ["non-image", "truncated", "huge", "wrong-shape", "nan", "missing", "directory"])
def test_bad_image_gets_one_clear_line(tmp_path, huge_png, case):
    paths, message = _bad_inputs(tmp_path, huge_png)[case]
    out = run("predict", *paths, timeout=30)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and str(paths[0]) in lines[0]


def test_one_bad_image_does_not_stop_the_others(tmp_path, drawn_digit_files):
    out = run("predict", tmp_path / "nope.png", drawn_digit_files[0])
    assert out.returncode != 0
    assert out.stdout.startswith(f"{drawn_digit_files[0]}: 3 ")


def test_unknown_model_and_corrupt_weights(tmp_path, drawn_digit_files):
    out = run("predict", drawn_digit_files[0], "--model", "resnet50")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert out.stderr.strip() == ("advviewer: unknown model 'resnet50': not one of cnn, fc10-1e-4, fc10-1e-2, fc10-1, "
                                  "fc100-100-10, fc200-200-10, ae400-10, cnn-robust and no such file")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    out = run("predict", drawn_digit_files[0], "--model", corrupt)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "not an advviewer weights file" in out.stderr


def test_train_writes_weights_and_card_that_load(tmp_path, drawn_digit_files):
    out_file = tmp_path / "mine.pt"
    out = run("train", "fc10-1e-2", "--epochs", "3", "--seed", "5", "--out", out_file)
    assert out.returncode == 0, out.stderr
    assert "epoch" in out.stderr  # the progress bar
    card = json.loads(out_file.with_suffix(".json").read_text())
    assert card["epochs"] == 3 and card["seed"] == 5 and 0 < card["test_error"] < 0.5
    out = run("predict", drawn_digit_files[0], "--model", out_file, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["class"] in range(10)


def test_train_rejects_unknown_model_and_bad_data_dir(tmp_path):
    out = run("train", "vgg")
    assert out.returncode == 2 and "invalid choice" in out.stderr
    out = run("train", "fc10-1", "--data-dir", tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "no train-images-idx3-ubyte" in out.stderr


class BlankIsInfinite(torch.nn.Module):
    """Fine on every real digit (validated at load), infinite on a blank image: fails at use, not at load."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(784, 10)

    def forward(self, x):
        flat = x.flatten(1)
        return self.fc(flat) / flat.sum(1, keepdim=True)


def test_a_model_that_fails_on_an_image_is_one_line_and_exit_2(tmp_path, drawn_digit_files):
    from advviewer.models import export_classifier

    model = export_classifier(BlankIsInfinite().eval(), tmp_path / "fragile.pt2")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(blank)
    out = run("predict", blank, drawn_digit_files[0], "--model", model)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == f"advviewer: {blank}: the model returned NaN or infinite logits for this input"
    assert out.stdout.startswith(f"{drawn_digit_files[0]}: ")  # the good image is still answered
    assert "nan" not in out.stdout.lower()
