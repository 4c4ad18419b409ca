"""Bad arguments get one clear sentence (AttackInputError), before any work is done."""

import numpy as np
import pytest
import torch

from advviewer import AttackInputError, predict
from advviewer.attack import lbfgs_attack


@pytest.fixture(scope="module")
def digit(test_digits):
    return test_digits[0][0]


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    return msg


def test_target_equal_to_the_current_class_suggests_untargeted(cnn, digit):
    current = int(predict(cnn, digit).argmax())
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit, current)
    assert "already answers" in one_line(e) and "untargeted" in str(e.value)


@pytest.mark.parametrize("target", [10, -1, 3.0, "3", True])
def test_target_outside_the_classes(cnn, digit, target):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit, target)
    assert "0..9" in one_line(e)


def test_no_target_and_not_untargeted(cnn, digit):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit)
    assert "untargeted" in one_line(e)


def test_target_and_untargeted_together(cnn, digit):
    with pytest.raises(AttackInputError):
        lbfgs_attack(cnn, digit, 3, untargeted=True)


def test_nan_image(cnn, digit):
    bad = digit.copy()
    bad[3, 4] = np.nan
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, bad, 3)
    assert "NaN" in one_line(e)


def test_out_of_range_image_hints_at_8_bit(cnn, digit):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit * 255, 3)
    assert "[0, 1]" in one_line(e) and "255" in str(e.value)
    with pytest.raises(AttackInputError):
        lbfgs_attack(cnn, digit - 0.5, 3)


@pytest.mark.parametrize("shape, named", [
    ((28,), "image must be (H, W), or a batch (N, H, W) or (N, C, H, W), got shape (28,)"),  # not an image at all
    ((0, 28, 28), "image must be (H, W), or a batch (N, H, W) or (N, C, H, W), got shape (0, 28, 28)"),  # no images
    ((27, 28), "the model does not take images of shape (1, 1, 27, 28)"),  # an image, but not the model's size
    ((2, 3, 28, 28), "the model does not take images of shape (2, 3, 28, 28)"),  # three channels for a one-channel model
])
def test_wrong_shape(cnn, shape, named):
    """Any classifier's images are accepted, so a wrong shape is one the engine cannot read or the model refuses:
    the one line says which, and names the shape it got."""
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, np.zeros(shape, dtype=np.float32), 3)
    assert named in one_line(e)


@pytest.mark.parametrize("c", [0.0, -1.0, float("inf"), float("nan"), "1", True])
def test_bad_c(cnn, digit, c):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit, 3, c=c)
    assert "c must be" in one_line(e)


def test_bad_warm_start(cnn, digit):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit, 3, c=1.0, warm_start=np.zeros((5, 5)))
    assert "warm_start" in one_line(e)


def test_bad_max_iter(cnn, digit):
    with pytest.raises(AttackInputError):
        lbfgs_attack(cnn, digit, 3, max_iter=0)


def test_batch_with_the_wrong_number_of_targets(cnn, test_digits):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, test_digits[0][:3], [1, 2])
    assert "targets" in one_line(e)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_cuda_asked_for_but_absent(cnn, digit):
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(cnn, digit, 3, device="cuda")
    assert "CUDA" in one_line(e)


def test_model_in_training_mode(digit):
    from advviewer import load_model

    model = load_model("fc10-1e-2").train()
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(model, digit, 3)
    assert "eval()" in one_line(e)
