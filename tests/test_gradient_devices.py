"""The gradient path on a model that lives on another device (issue 20, item 3).

``lbfgs_attack(..., device="cuda")`` moves the model to the GPU; ``predict``, ``evaluate_input``
and ``input_gradient`` must then work too: inputs moved to the model's device (read from its
parameters), results brought back with ``.cpu()``. With no GPU here, the model's weights are put
on a simulated device (tests/simulated_device.py) that keeps the two rules a GPU enforces and the
old code broke: no operation mixes a device tensor with a CPU one, and no ``.numpy()`` of a
device tensor. Its values are real, so every answer is compared with the same model's on the CPU.
"""

import copy

import numpy as np
import pytest
import torch
from simulated_device import DEVICE, SimulatedDevice, to_simulated_device

from advviewer import input_gradient, load_model, predict
from advviewer.calculus.gradients import evaluate_input


@pytest.fixture(scope="module", params=["cnn", "fc100-100-10"])
def models(request):
    """(the zoo model on the CPU, a copy of it on the simulated device)"""
    on_cpu = load_model(request.param)
    return on_cpu, to_simulated_device(copy.deepcopy(on_cpu))


@pytest.fixture
def on_device():
    with SimulatedDevice():
        yield


def test_the_copy_really_lives_elsewhere(models, test_digits, on_device):
    cpu_model, device_model = models
    assert {p.device for p in cpu_model.parameters()} == {torch.device("cpu")}
    assert {p.device for p in device_model.parameters()} == {DEVICE}
    with pytest.raises(RuntimeError, match="same device"):  # what a CUDA model does with a CPU input
        device_model(torch.as_tensor(test_digits[0][:1])[:, None])


def test_probabilities_and_gradients_as_on_the_cpu(models, test_digits, on_device):
    cpu_model, device_model = models
    images, labels = test_digits
    np.testing.assert_allclose(predict(device_model, images[:4]), predict(cpu_model, images[:4]), atol=1e-6)
    for i, rule in ((0, "predicted"), (1, "runner-up"), (2, (int(labels[2]) + 3) % 10)):
        here, there = evaluate_input(cpu_model, images[i], rule), evaluate_input(device_model, images[i], rule)
        assert isinstance(there.gradient, np.ndarray) and there.gradient.shape == (28, 28)
        assert (there.predicted, there.gradient_class) == (here.predicted, here.gradient_class)
        np.testing.assert_allclose(there.probs, here.probs, atol=1e-6)
        np.testing.assert_allclose(there.gradient, here.gradient, rtol=1e-4, atol=1e-6 * np.abs(here.gradient).max())


def test_finite_differences_on_the_device(models, test_digits, on_device):
    cpu_model, device_model = models
    x, cls = test_digits[0][5], (int(test_digits[1][5]) + 1) % 10
    there = input_gradient(device_model, x, cls, method="finite-difference")
    here = input_gradient(cpu_model, x, cls, method="finite-difference")
    np.testing.assert_allclose(there, here, atol=1e-3 * np.abs(here).max())
    autograd = input_gradient(device_model, x, cls)
    assert np.linalg.norm(there - autograd) < 1e-2 * np.linalg.norm(autograd)


def test_an_image_already_on_the_device(models, test_digits, on_device):
    cpu_model, device_model = models
    image = torch.as_tensor(test_digits[0][7]).to(DEVICE)
    np.testing.assert_allclose(predict(device_model, image), predict(cpu_model, test_digits[0][7]), atol=1e-6)
