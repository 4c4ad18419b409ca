"""Training: what `advviewer train` promises (README "Models"), on this machine and on any other.

On one machine the same seed gives the same bytes. Another CPU computes float kernels
differently (AVX2 / AVX-512 code, MKL's vector math), so the bytes of the shipped weights are
not compared here; what must hold anywhere is that retraining lands on the card's figures and
answers the test split as the shipped weights do.
"""

import json

import numpy as np
import pytest

from advviewer import load_model, predict
from advviewer.models.zoo import model_card
from advviewer.training.train import cpu_description, train_model


@pytest.fixture(scope="module")
def fc10_twice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    return [train_model("fc10-1e-4", out=folder / f"run{i}.pt") for i in (1, 2)], folder


def _answers(model, test_digits):
    return predict(model, test_digits[0]).argmax(1)


def test_training_is_deterministic_on_one_machine(fc10_twice):
    (first, second), _ = fc10_twice
    assert first["weights_sha256"] == second["weights_sha256"]


def test_augmented_training_is_deterministic_on_one_machine(tmp_path):
    """The cnn's path (convolutions, augmentation by random warps and stroke changes), two short runs."""
    runs = [train_model("cnn", epochs=2, out=tmp_path / f"cnn{i}.pt")["weights_sha256"] for i in (1, 2)]
    assert runs[0] == runs[1]


def test_retraining_lands_on_the_cards_figures_and_answers(fc10_twice, test_digits):
    (card, _), folder = fc10_twice
    shipped = model_card("fc10-1e-4")
    assert card["test_error"] == pytest.approx(shipped["test_error"], abs=0.002)  # at most 2 of 1,000 digits
    assert card["train_error"] == pytest.approx(shipped["train_error"], abs=0.002)
    again = _answers(load_model(folder / "run1.pt"), test_digits)
    assert np.mean(again == _answers(load_model("fc10-1e-4"), test_digits)) >= 0.998


def test_the_card_records_the_processor(fc10_twice):
    _, folder = fc10_twice
    written = json.loads((folder / "run1.json").read_text())
    assert written["cpu"] == cpu_description()
    assert written["cpu"]["model"] and written["cpu"]["threads"] == 1 and written["cpu"]["torch_kernels"]


@pytest.mark.slow
def test_retraining_the_cnn_lands_on_its_card(tmp_path, test_digits):
    """The app's default model, 100 epochs with augmentation (a few minutes)."""
    card = train_model("cnn", out=tmp_path / "cnn.pt")
    assert card["test_error"] <= 0.03
    assert card["test_error"] == pytest.approx(model_card("cnn")["test_error"], abs=0.006)
    again = _answers(load_model(tmp_path / "cnn.pt"), test_digits)
    assert np.mean(again == _answers(load_model("cnn"), test_digits)) >= 0.97
