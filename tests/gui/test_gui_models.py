"""The model picker: every zoo model, switching re-evaluates, user model files and bad ones."""

import numpy as np
import pytest
import torch

from advviewer.models import available_models


def save_pt2(module: torch.nn.Module, path) -> None:
    """A user's classifier as advviewer opens it: a torch.export program (TorchScript is refused, it can run code)."""
    from advviewer.models import export_classifier

    export_classifier(module, path)


def test_picker_lists_every_zoo_model(window):
    names = [window.model_picker.itemData(i) for i in range(window.model_picker.count())]
    assert names == available_models()
    assert window.session.model_name == "cnn"


def test_switching_model_re_evaluates(window, qtbot):
    before = window.session.live.probs.copy()
    index = window.model_picker.findData("fc10-1e-4")
    with qtbot.waitSignal(window.session.live_updated, timeout=5000):
        window.model_picker.setCurrentIndex(index)
    assert window.session.model_name == "fc10-1e-4"
    assert not np.allclose(window.session.live.probs, before)
    np.testing.assert_allclose(window.probabilities.probabilities, window.session.live.probs)


def test_open_a_users_classifier(window, tmp_path):
    from advviewer import load_model

    path = tmp_path / "mine.pt"  # the format is read from the file, not its name
    save_pt2(load_model("fc10-1e-2"), path)
    assert window.open_path(path)
    assert window.session.model_name == str(path)
    assert window.model_picker.currentText() == "mine.pt"
    assert not window.message.isVisible()


@pytest.mark.parametrize("kind", ["text", "wrong_shape"])
def test_a_bad_model_file_is_refused_and_the_old_model_kept(window, tmp_path, kind):
    path = tmp_path / "bad.pt"
    if kind == "text":
        path.write_text("not a model")
    else:
        save_pt2(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 5)), path)
    probs = window.session.live.probs.copy()
    assert not window.open_path(path)
    assert window.message.isVisible()
    assert "Model not loaded" in window.message.text
    if kind == "wrong_shape":
        assert "(20, 5)" in window.message.text
    assert window.session.model_name == "cnn"
    assert window.model_picker.currentData() == "cnn"
    np.testing.assert_array_equal(window.session.live.probs, probs)


def test_about_box_shows_the_model_card(window):
    from advviewer.gui.dialogs import model_card_html

    text = model_card_html("cnn")
    assert "cnn" in text and "<table" in text
