"""The c sweep around a found minimal c, and its "fooled" rule (advviewer.attack.c_sweep)."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from advviewer import load_model
from advviewer.attack import AttackCancelled, lbfgs_attack
from advviewer.attack.c_sweep import SWEEP_FACTORS, c_sweep, fooled


def test_fooled_rule():
    hit = SimpleNamespace(success=True, untargeted=False, adversarial_class=3, original_class=7)
    missed = SimpleNamespace(success=False, untargeted=False, adversarial_class=5, original_class=7)
    assert fooled(hit) and not fooled(missed)
    assert fooled(missed, untargeted=True)  # another class, just not the target: fools an untargeted attack
    assert not fooled(SimpleNamespace(success=False, untargeted=True, adversarial_class=7, original_class=7))


@pytest.fixture(scope="module")
def linear_and_found(test_digits):
    model = load_model("fc10-1e-2")
    x = test_digits[0][0]
    target = int(np.argsort(model(__import__("torch").as_tensor(x)[None, None]).detach().numpy()[0])[-2])
    return model, lbfgs_attack(model, x, target=target)


def test_the_sweep_brackets_the_found_c(linear_and_found):
    model, found = linear_and_found
    assert found.success
    points = c_sweep(model, found)
    assert len(points) == len(SWEEP_FACTORS)
    below = [p for p in points if p.c < found.c]
    above = [p for p in points if p.c > found.c]
    assert [p.c / found.c for p in below] == pytest.approx(sorted((f for f in SWEEP_FACTORS if f < 1), reverse=True))
    assert all(p.fooled for p in above)  # a larger c pushes harder: still fooled, bigger perturbation
    assert not below[-1].fooled  # a quarter of the minimal c does not fool it
    by_c = sorted(points, key=lambda p: p.c)
    assert all(a.l2 <= b.l2 + 1e-4 for a, b in zip(by_c, by_c[1:]))  # the perturbation grows with c


def test_the_sweep_can_be_cancelled_and_needs_the_image(linear_and_found):
    model, found = linear_and_found
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(AttackCancelled):
        c_sweep(model, found, cancel=cancel)
    with pytest.raises(ValueError, match="image"):
        c_sweep(model, SimpleNamespace(**{**found.__dict__, "original": None}))
