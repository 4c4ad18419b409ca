"""Class probabilities and the input gradient (the first seed's question).

``input_gradient(model, image, cls)`` is the gradient, with respect to every pixel, of the
cross-entropy loss of the model's softmax against class ``cls``:

    g = d/dx [ -log softmax(f(x))_cls ]

Sign: the loss falls when the image moves *against* the gradient, so ``x - eps * g`` looks more
like ``cls`` to the model and ``x + eps * g`` less. A pixel with a large negative value is one
whose brightening makes the model more sure of ``cls``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advviewer.errors import Cancelled, ImageLoadError
from advviewer.models.checked import check_logits
from advviewer.runtime.threads import onednn_convolutions

FD_STEP = 1e-2  # central-difference step in pixel units
FD_CHUNK = 98  # 1,568 shifted images in batches of 98: small batches stay in cache (faster than one batch)

# Classes named by a rule on the image's own probabilities rather than by number
PREDICTED_CLASS: Literal["predicted"] = "predicted"  # the model's answer for this image
RUNNER_UP: Literal["runner-up"] = "runner-up"  # its second most likely class: where an untargeted attack usually lands
ClassRule = int | Literal["predicted", "runner-up"]


def as_batch(image: np.ndarray | torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(28, 28), (1, 28, 28), (N, 28, 28) or (N, 1, 28, 28) -> (N, 1, 28, 28) tensor, checked."""
    t = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4 or tuple(t.shape[1:]) != (1, 28, 28):
        raise ImageLoadError(f"expected a 28x28 image (or a batch of them), got shape {tuple(np.shape(image))}")
    t = t.to(dtype)
    if not torch.isfinite(t).all():
        raise ImageLoadError("image contains NaN or infinite values")
    return t


def model_device(model: nn.Module) -> torch.device:
    """Where the model computes: the device of its first parameter (or buffer); the CPU for a model with neither."""
    if isinstance(model, nn.Module):
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            return tensor.device
    return torch.device("cpu")


def predict(model: nn.Module, image: np.ndarray | torch.Tensor) -> np.ndarray:
    """Softmax probabilities: (10,) for one 28x28 image, (N, 10) for a batch; the model may live on any device."""
    x = as_batch(image).to(model_device(model))
    with torch.no_grad():
        probs = F.softmax(check_logits(model(x), len(x)).double(), dim=1).cpu().numpy()
    return probs[0] if np.ndim(image) == 2 else probs


@dataclass(frozen=True)
class Evaluation:
    """One image's probabilities and the input gradient of one class's loss."""

    probs: np.ndarray  # (10,) float64
    predicted: int
    gradient: np.ndarray  # (28, 28) float32, d CE(f(x), gradient_class) / dx
    gradient_class: int


def evaluate_input(model: nn.Module, image: np.ndarray, gradient_class: ClassRule = PREDICTED_CLASS) -> Evaluation:
    """Probabilities and the autograd input gradient in ONE forward and ONE backward pass.

    ``gradient_class`` is a class 0..9 or a rule: ``"predicted"`` (the model's answer for this
    very image) or ``"runner-up"``. A rule is resolved from the forward pass's logits before the
    backward pass, so the gradient is always of the class the probabilities show, with no guess
    and no second pass. This is the window's live path (every mouse move).
    """
    if gradient_class not in (PREDICTED_CLASS, RUNNER_UP):
        gradient_class = _check_class(gradient_class)
    x = as_batch(image).to(model_device(model)).requires_grad_(True)
    # softmax in float64: for a confident prediction 1 - p is below float32's resolution
    logits = check_logits(model(x), 1).double()
    probs = F.softmax(logits.detach(), dim=1)[0].cpu().numpy()
    order = np.argsort(probs)
    predicted = int(order[-1])
    cls = predicted if gradient_class == PREDICTED_CLASS else int(order[-2]) if gradient_class == RUNNER_UP else int(gradient_class)
    loss = -F.log_softmax(logits, dim=1)[0, cls]  # the cross-entropy against cls, with no target tensor to place
    (grad,) = torch.autograd.grad(loss, x)
    return Evaluation(probs, predicted, grad[0, 0].cpu().numpy(), cls)


@dataclass(frozen=True)
class GradientAgreement:
    """How closely an estimate of a gradient (finite differences) matches a reference (backprop)."""

    relative_difference: float  # ||estimate - reference|| / ||reference||
    correlation: float  # cosine of the angle between them


def gradient_agreement(estimate: np.ndarray, reference: np.ndarray) -> GradientAgreement:
    """Relative L2 difference and cosine of two gradients (a zero reference: the estimate's norm, cosine 1)."""
    estimate = np.asarray(estimate, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    norm = float(np.linalg.norm(reference))
    relative = float(np.linalg.norm(estimate - reference)) / norm if norm > 0 else float(np.linalg.norm(estimate))
    denominator = float(np.linalg.norm(estimate)) * norm
    correlation = float((estimate * reference).sum()) / denominator if denominator > 0 else 1.0
    return GradientAgreement(relative, correlation)


def _check_class(cls: object) -> int:
    if isinstance(cls, bool) or not isinstance(cls, (int, np.integer)) or not 0 <= int(cls) <= 9:
        raise ValueError(f"class must be an integer 0..9, got {cls!r}")
    return int(cls)


def input_gradient(model: nn.Module, image: np.ndarray, cls: int, method: str = "autograd", *, cancel=None) -> np.ndarray:
    """Gradient (28, 28) of the cross-entropy towards ``cls`` w.r.t. every pixel of ``image``.

    ``method="autograd"``: backpropagation. ``method="finite-difference"``: central differences
    (f(x + h e_i) - f(x - h e_i)) / 2h for all 784 pixels, the 1,568 shifted images evaluated in
    batched forward passes of FD_CHUNK images (loss formed in float64). See the module docstring
    for the sign. ``cancel`` (a ``threading.Event``) is checked between batches; when set,
    :class:`advviewer.errors.Cancelled` is raised.
    """
    cls = _check_class(cls)
    if method == "autograd":
        return evaluate_input(model, image, cls).gradient
    if method in ("finite-difference", "finite_difference", "fd"):
        return _finite_difference(model, image, cls, cancel)
    raise ValueError(f"method must be 'autograd' or 'finite-difference', not {method!r}")


def _finite_difference(model: nn.Module, image: np.ndarray, cls: int, cancel=None) -> np.ndarray:
    device = model_device(model)
    x = as_batch(image)[0, 0].reshape(-1)
    n = x.numel()
    eye = torch.eye(n) * FD_STEP
    shifted = torch.cat([x + eye, x - eye]).view(2 * n, 1, 28, 28)
    losses = []
    with torch.no_grad(), onednn_convolutions():  # batches of 98: oneDNN is faster there (advviewer.runtime.threads)
        for i in range(0, 2 * n, FD_CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled("finite differences cancelled")
            # the network runs in float32 (as it was trained); the loss is formed in float64 so
            # that a confident prediction's tiny loss differences are not lost to rounding
            chunk = shifted[i : i + FD_CHUNK].to(device)
            logits = check_logits(model(chunk), len(chunk)).double()
            losses.append((torch.logsumexp(logits, 1) - logits[:, cls]).cpu())
    loss = torch.cat(losses)
    return ((loss[:n] - loss[n:]) / (2 * FD_STEP)).view(28, 28).to(torch.float32).numpy()
