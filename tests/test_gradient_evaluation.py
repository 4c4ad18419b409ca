"""The live path's gradient in one pass (evaluate_input) and the finite-difference agreement measure."""

import numpy as np
import pytest

from advviewer.calculus.gradients import evaluate_input, gradient_agreement, input_gradient, predict


@pytest.fixture(scope="module")
def digit(test_digits):
    return test_digits[0][0]


def test_predicted_class_gradient_in_one_forward_pass(cnn, digit):
    forwards = []
    handle = cnn.register_forward_hook(lambda *_: forwards.append(1))
    try:
        e = evaluate_input(cnn, digit, "predicted")
    finally:
        handle.remove()
    assert len(forwards) == 1
    probs = predict(cnn, digit)
    np.testing.assert_allclose(e.probs, probs, rtol=1e-6)
    assert e.predicted == e.gradient_class == int(probs.argmax())
    np.testing.assert_allclose(e.gradient, input_gradient(cnn, digit, e.predicted), rtol=1e-5, atol=1e-9)


def test_runner_up_and_numbered_classes(cnn, digit):
    e = evaluate_input(cnn, digit, "runner-up")
    assert e.gradient_class == int(np.argsort(e.probs)[-2]) != e.predicted
    e3 = evaluate_input(cnn, digit, 3)
    assert e3.gradient_class == 3
    np.testing.assert_allclose(e3.gradient, input_gradient(cnn, digit, 3), rtol=1e-5, atol=1e-9)
    for bad in (10, -1, "target", True):
        with pytest.raises(ValueError):
            evaluate_input(cnn, digit, bad)


def test_gradient_agreement():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(28, 28))
    same = gradient_agreement(g, g)
    assert same.relative_difference == 0 and same.correlation == pytest.approx(1.0)
    scaled = gradient_agreement(1.1 * g, g)
    assert scaled.relative_difference == pytest.approx(0.1) and scaled.correlation == pytest.approx(1.0)
    assert gradient_agreement(-g, g).correlation == pytest.approx(-1.0)
    zero = gradient_agreement(g, np.zeros_like(g))
    assert zero.relative_difference == pytest.approx(np.linalg.norm(g)) and zero.correlation == 1.0


def test_finite_differences_agree_with_backprop_by_this_measure(cnn, digit):
    agreement = gradient_agreement(input_gradient(cnn, digit, 3, method="finite-difference"), input_gradient(cnn, digit, 3))
    assert agreement.relative_difference < 0.05 and agreement.correlation > 0.99
