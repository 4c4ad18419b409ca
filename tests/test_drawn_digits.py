"""Digits drawn the way people draw them are read right by the default model.

The drawings are held out: hand-written polylines in tests/drawn_heldout.py (four sets, ten
styles of brush, slant, size and place), not the training generator's templates, painted like the
canvas and framed by advviewer.reading.preprocess exactly as the window frames its canvas.
Before training on drawn digits, the cnn misread 4 of the 10 flagged 1s here (3 as 7).
"""

import numpy as np
import pytest
from drawn_heldout import FLAGGED_ONES, STYLES, paint

from advviewer import predict, preprocess
from advviewer.training.drawn_digits import TEMPLATES, draw_canvas, drawn_digits


def _read(model, digit, style) -> int:
    return int(predict(model, preprocess(paint(digit, style))).argmax())


def test_cnn_reads_98_percent_of_held_out_drawings_in_ten_styles(cnn):
    misread = [(style.name, digit, read) for style in STYLES for digit in range(10) if (read := _read(cnn, digit, style)) != digit]
    assert len(STYLES) >= 10
    assert len(misread) <= 2, misread  # of 100


def test_cnn_reads_flagged_ones_as_one(cnn):
    """The continental 1 (a flag up to the top of the stem) in ten variants: length, angle, foot, slant, brush, size."""
    misread = [(style.name, read) for style in FLAGGED_ONES if (read := _read(cnn, 1, style)) != 1]
    assert len(misread) <= 1, misread


def test_the_generator_is_reproducible_from_its_seed():
    first, again, other = drawn_digits(20, seed=0), drawn_digits(20, seed=0), drawn_digits(20, seed=1)
    assert np.array_equal(first.images, again.images) and np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.images, other.images)
    assert first.labels.tolist() == [d % 10 for d in range(20)]


def test_the_generator_makes_framed_model_inputs():
    drawn = drawn_digits(30, seed=5)
    assert drawn.images.shape == (30, 28, 28) and drawn.images.dtype == np.float32
    assert drawn.images.min() >= 0.0 and drawn.images.max() <= 1.0
    ink = drawn.images.sum(axis=(1, 2))
    assert (ink > 20).all()  # every drawing has a digit's worth of ink, framed into the 28x28


@pytest.mark.parametrize("digit", range(10))
def test_every_template_draws_on_the_canvas(digit):
    rng = np.random.default_rng(digit)
    for _ in range(3 * len(TEMPLATES[digit])):
        canvas = draw_canvas(digit, rng)
        assert canvas.shape == (280, 280) and canvas.dtype == np.uint8
        assert canvas.max() == 255 and np.count_nonzero(canvas > 127) >= 100 and np.mean(canvas > 127) < 0.5  # ink, not a filled canvas


def test_the_cnn_reads_its_own_training_drawings(cnn):
    """A check on the generator, not on generalisation: drawings from a seed training does not use read as what they are."""
    drawn = drawn_digits(200, seed=12345)
    assert np.mean(predict(cnn, drawn.images).argmax(1) == drawn.labels) >= 0.95
