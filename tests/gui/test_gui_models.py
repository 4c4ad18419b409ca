"""The model picker: every zoo model, switching re-evaluates, user model files and bad ones."""

import numpy as np
import pytest
import torch
from helpers import open_and_wait, save_pt2

from advviewer.models import available_models


def test_picker_lists_every_zoo_model(window):
    names = [window.model_picker.itemData(i) for i in range(window.model_picker.count())]
    assert names == available_models()
    assert window.state.model.name == "cnn"


def test_switching_model_re_evaluates(window, qtbot):
    before = window.state.evaluation.probs.copy()
    index = window.model_picker.findData("fc10-1e-4")
    with qtbot.waitSignal(window.state.events.evaluated, timeout=5000):
        window.model_picker.setCurrentIndex(index)
    assert window.state.model.name == "fc10-1e-4"
    assert not np.allclose(window.state.evaluation.probs, before)
    np.testing.assert_allclose(window.probabilities.probabilities, window.state.evaluation.probs)


def test_open_a_torchscript_classifier(window, qtbot, tmp_path):
    from advviewer import load_model

    path = tmp_path / "mine.pt"
    save_pt2(load_model("fc10-1e-2"), path)
    assert open_and_wait(qtbot, window, path)
    assert window.state.model.name == str(path)
    assert window.model_picker.currentText() == "mine.pt"
    assert not window.message.isVisible()


@pytest.mark.parametrize("kind", ["text", "wrong_shape"])
def test_a_bad_model_file_is_refused_and_the_old_model_kept(window, qtbot, tmp_path, kind):
    path = tmp_path / "bad.pt"
    if kind == "text":
        path.write_text("not a model")
    else:
        save_pt2(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 5)), path)
    probs = window.state.evaluation.probs.copy()
    assert not open_and_wait(qtbot, window, path)
    assert window.message.isVisible()
    assert "Model not loaded" in window.message.text
    if kind == "wrong_shape":
        assert "(20, 5)" in window.message.text
    assert window.state.model.name == "cnn"
    assert window.model_picker.currentData() == "cnn"
    np.testing.assert_array_equal(window.state.evaluation.probs, probs)


def test_about_box_shows_the_model_card(window, qtbot):
    from PySide6.QtWidgets import QMessageBox

    window.actions["about"].trigger()
    box = window.findChild(QMessageBox, "about")
    assert box is not None
    qtbot.waitExposed(box)
    text = box.text()
    assert "The model <b>cnn</b>" in text and "<table" in text
    assert f"{window.state.model.card['test_error']:.1%}" in text  # the card's own figures, as a student reads them
    assert "Sequential(" not in text  # no torch repr
    box.close()


def test_a_model_that_does_not_load_in_time_is_refused(window, qtbot, monkeypatch):
    """Loading and validating run off the GUI thread with a time limit: a hung load cannot freeze the window."""
    import threading
    import time

    import advviewer.models

    release = threading.Event()
    real = advviewer.models.load_identified_model

    def hanging(name, cancel=None):
        if name == "fc10-1":
            release.wait(30)
        return real(name, cancel=cancel)

    monkeypatch.setattr(advviewer.models, "load_identified_model", hanging)
    monkeypatch.setattr(window.state, "_model_time_limit", 0.5)
    t0 = time.perf_counter()
    window.model_picker.setCurrentIndex(window.model_picker.findData("fc10-1"))
    assert time.perf_counter() - t0 < 0.5  # the pick returns at once
    qtbot.waitUntil(lambda: "did not load within 0.5 s" in window.message.text, timeout=10_000)
    assert window.state.model.name == "cnn" and window.model_picker.currentData() == "cnn"
    with qtbot.waitSignal(window.state.events.model, timeout=10_000):  # the next pick gets a fresh thread
        window.model_picker.setCurrentIndex(window.model_picker.findData("fc10-1e-4"))
    assert window.state.model.name == "fc10-1e-4"
    release.set()
