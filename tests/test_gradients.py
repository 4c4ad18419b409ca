"""Probabilities and input gradients: backpropagation and finite differences agree, sign as documented."""

import numpy as np
import pytest

from advviewer import available_models, input_gradient, load_model, predict
from advviewer.errors import ImageLoadError


def test_predict_single_and_batch(cnn, test_digits):
    images, labels = test_digits
    p = predict(cnn, images[0])
    assert p.shape == (10,) and p.sum() == pytest.approx(1.0) and p.argmax() == labels[0]
    batch = predict(cnn, images[:5])
    assert batch.shape == (5, 10)
    np.testing.assert_allclose(batch[0], p, atol=1e-6)


@pytest.mark.parametrize("name", available_models())
def test_autograd_and_finite_differences_agree_on_every_model(name, test_digits):
    model = load_model(name)
    images, labels = test_digits
    worst = 0.0
    for i in (3, 250, 777):
        for cls in (int(labels[i]), (int(labels[i]) + 3) % 10):  # the true class (tiny gradient) and another
            auto = input_gradient(model, images[i], cls, method="autograd")
            fd = input_gradient(model, images[i], cls, method="finite-difference")
            assert auto.shape == fd.shape == (28, 28)
            worst = max(worst, float(np.linalg.norm(auto - fd) / np.linalg.norm(auto)))
    assert worst < 1e-2


def test_gradient_sign_descending_looks_more_like_the_class(cnn, test_digits):
    images, labels = test_digits
    x = images[10]
    target = (int(labels[10]) + 1) % 10
    g = input_gradient(cnn, x, target)
    step = 0.02 * g / np.abs(g).max()
    assert predict(cnn, x - step)[target] > predict(cnn, x)[target] > predict(cnn, x + step)[target]


def test_bad_arguments(cnn):
    with pytest.raises(ValueError, match="class must be an integer 0..9"):
        input_gradient(cnn, np.zeros((28, 28), np.float32), 10)
    with pytest.raises(ValueError, match="method"):
        input_gradient(cnn, np.zeros((28, 28), np.float32), 1, method="magic")
    with pytest.raises(ImageLoadError, match="28x28"):
        predict(cnn, np.zeros((27, 28)))
    with pytest.raises(ImageLoadError, match="NaN"):
        predict(cnn, np.full((28, 28), np.nan))


def test_finite_differences_stop_when_cancelled(cnn, test_digits):
    import threading

    from advviewer.attack import AttackCancelled
    from advviewer.errors import Cancelled

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        input_gradient(cnn, test_digits[0][0], 3, method="finite-difference", cancel=cancel)
    assert issubclass(AttackCancelled, Cancelled)  # one exception for "the user stopped it"
