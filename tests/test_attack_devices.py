"""The attack engine on a model that lives on another device (issue 23: one engine on the model's device).

With no GPU here, the model's weights are put on a simulated device (tests/simulated_device.py) that keeps
the rules a GPU enforces: no operation mixes a device tensor with a CPU one, no ``.numpy()`` of a device
tensor. The engine's algebra then runs there too (every tensor it makes is made on the model's device), and
its answers must be the CPU's: the values are real, only the label is borrowed.
"""

import copy

import numpy as np
import pytest
import torch
from simulated_device import DEVICE, OnDevice, SimulatedDevice, to_simulated_device

from advviewer import lbfgs_attack, lbfgs_attack_batch, load_model, predict


@pytest.fixture(scope="module")
def models():
    """(fc10-1e-2 on the CPU, a copy of it on the simulated device): a cheap network, the engine's work the same."""
    on_cpu = load_model("fc10-1e-2")
    return on_cpu, to_simulated_device(copy.deepcopy(on_cpu))


@pytest.fixture
def pairs(test_digits, models):
    images, _ = test_digits
    idx = np.random.default_rng(11).choice(len(images), 3, replace=False)
    orig = predict(models[0], images[idx]).argmax(1)
    return images[idx], [int((o + 3) % 10) for o in orig]


def test_minimal_mode_runs_on_the_models_device_and_answers_as_on_the_cpu(models, pairs):
    cpu_model, device_model = models
    images, targets = pairs
    here = lbfgs_attack_batch(cpu_model, images, targets)
    with SimulatedDevice():
        there = lbfgs_attack_batch(device_model, torch.as_tensor(images).to(DEVICE), targets)
        assert isinstance(there.adversarial, OnDevice)  # a tensor on the input's device comes back there
        adversarial = there.adversarial.cpu().numpy()
    assert there.success.all() and here.success.all()
    np.testing.assert_allclose(there.l2, here.l2, rtol=1e-4)
    np.testing.assert_allclose(adversarial, here.adversarial, atol=1e-4)


def test_fixed_c_untargeted_and_a_budget_on_the_device(models, pairs):
    cpu_model, device_model = models
    images, targets = pairs
    with SimulatedDevice():
        fixed = lbfgs_attack(device_model, images[0], targets[0], c=5.0)
        untargeted = lbfgs_attack(device_model, images[1], untargeted=True)
        capped = lbfgs_attack_batch(device_model, images, targets, max_evaluations=30)
        reference = lbfgs_attack_batch(device_model, images[:1], targets[:1], engine="reference", max_iter=20)
    assert fixed.l2 == pytest.approx(lbfgs_attack(cpu_model, images[0], targets[0], c=5.0).l2, rel=1e-4)
    assert untargeted.success and untargeted.l2 == pytest.approx(lbfgs_attack(cpu_model, images[1], untargeted=True).l2,
                                                                   rel=1e-4)
    assert (capped.evaluations <= 30 + 10).all()  # (a line search under way may pass the budget by a few)
    assert reference.success.all()
