"""The window shows a file whose reading the sandbox stopped (memory, time) as one line, and keeps what it had."""

import numpy as np
import pytest
from helpers import open_and_wait
from PIL import Image

from advviewer.reading import sandbox

pytestmark = pytest.mark.skipif(not sandbox.mechanism().memory_limited, reason="needs fork and an enforced RLIMIT_AS (Linux)")


def test_a_picture_whose_reading_overruns_its_memory_is_one_line(window, qtbot, tmp_path, monkeypatch):
    from advviewer.reading import image_io

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (3000, 3000), np.uint8)).save(path)
    monkeypatch.setattr(image_io, "PICTURE_LIMITS", sandbox.Limits(memory_mb=8, cpu_seconds=5, wall_seconds=10.0))
    before = window.canvas.to_array()
    assert not open_and_wait(qtbot, window, path)
    assert window.message.isVisible() and window.message.kind == "error"
    assert window.message.text == (f"Could not open the image: {path}: reading it needed more than 8 MB of memory; "
                                   "refused. Your drawing is unchanged.")
    np.testing.assert_array_equal(window.canvas.to_array(), before)


def test_a_model_whose_check_overruns_its_memory_is_one_line(window, qtbot, tmp_path, monkeypatch):
    import shutil

    from advviewer.models import loading
    from advviewer.models.zoo_cards import shipped_weights_path

    path = tmp_path / "mine.pt"
    shutil.copy(shipped_weights_path("fc10-1"), path)
    monkeypatch.setattr(loading, "MODEL_LIMITS", sandbox.Limits(memory_mb=1, cpu_seconds=5, wall_seconds=10.0))
    assert not open_and_wait(qtbot, window, path)
    assert "\n" not in window.message.text
    assert f"{path}: loading and checking it needed more than 1 MB of memory; refused" in window.message.text
    assert window.state.model.name == "cnn"
