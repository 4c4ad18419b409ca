"""FGSM and DDN, the two attacks the window compares with L-BFGS, on one (image, target) problem.

Both are short, so they are written here rather than pulling foolbox (and eagerpy, GitPython,
requests) into the program and its 700 MB desktop bundle; tests/test_explore_baselines.py checks
them against foolbox 3 (a test dependency only): FGSM gives foolbox's image at the same epsilon,
DDN follows foolbox's ``DDNAttack`` step for step.

- FGSM (Goodfellow et al. 2015), targeted: ``x - eps * sign(grad CE(f(x), target))``, clipped to
  the box. One gradient, then the smallest eps on that line that fools the model (a grid in one
  batch, refined by bisection): the fairest L2 FGSM can offer.
- DDN (Rony et al. 2019, "Decoupling Direction and Norm"): a minimal-L2 attack that steps along
  the normalised gradient and shrinks or grows an epsilon-ball around the original by ``gamma``
  depending on whether the current point fools the model; cosine-annealed step size.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advviewer.errors import Cancelled

FGSM_GRID = 48  # eps values tried in one batch, geometric from 1e-3 to 1
FGSM_BISECTIONS = 12
DDN_STEPS = 300  # foolbox's benchmark here: 100 steps within 0.1% of the best L2 (median), 1,000 within 0.01%
DDN_GAMMA = 0.05
DDN_INIT_EPSILON = 1.0


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """One attack's answer to the same problem the L-BFGS result solved."""

    name: str
    adversarial: np.ndarray = field(repr=False)  # (28, 28) float32 in [0, 1]
    perturbation: np.ndarray = field(repr=False)
    success: bool  # the model answers the target on ``adversarial``
    adversarial_class: int
    l2: float
    linf: float
    evaluations: int  # forward passes of one image (a forward+backward pass counts once)
    seconds: float


def _finish(name: str, model: nn.Module, x: torch.Tensor, adv: torch.Tensor, target: int, evaluations: int, t0: float) -> BaselineResult:
    with torch.no_grad():
        answer = int(model(adv.view(1, 1, 28, 28)).argmax(1))
    a = adv.view(28, 28).detach().numpy().astype(np.float32)
    r = a - x.view(28, 28).numpy()
    return BaselineResult(name, a, r, answer == target, answer, float(np.linalg.norm(r)), float(np.abs(r).max()),
                          evaluations + 1, time.perf_counter() - t0)


def _as_input(image: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(image, dtype=np.float32).reshape(1, 1, 28, 28))


def fgsm_direction(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """The targeted FGSM direction: minus the sign of the target's cross-entropy gradient."""
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), torch.tensor([target]))
    (grad,) = torch.autograd.grad(loss, x)
    return -grad.sign()


def fgsm(model: nn.Module, image: np.ndarray, target: int, cancel=None) -> BaselineResult:
    """Targeted FGSM with the smallest epsilon on its line that fools the model (or eps = 1 if none does)."""
    t0 = time.perf_counter()
    x = _as_input(image)
    direction = fgsm_direction(model, x, target)
    evaluations = 1

    def fools(eps: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model((x + eps.view(-1, 1, 1, 1) * direction).clamp(0, 1)).argmax(1) == target

    grid = torch.logspace(-3, 0, FGSM_GRID)
    ok = fools(grid)
    evaluations += FGSM_GRID
    if not ok.any():
        return _finish("FGSM", model, x, (x + direction).clamp(0, 1), target, evaluations, t0)
    k = int(ok.nonzero()[0])
    lo, hi = (0.0 if k == 0 else float(grid[k - 1])), float(grid[k])
    for _ in range(FGSM_BISECTIONS):  # the line is not monotone in general: keep the smallest eps seen to fool it
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        mid = (lo + hi) / 2
        if bool(fools(torch.tensor([mid]))[0]):
            hi = mid
        else:
            lo = mid
        evaluations += 1
    return _finish("FGSM", model, x, (x + hi * direction).clamp(0, 1), target, evaluations, t0)


def ddn(model: nn.Module, image: np.ndarray, target: int, steps: int = DDN_STEPS, gamma: float = DDN_GAMMA,
        init_epsilon: float = DDN_INIT_EPSILON, cancel=None) -> BaselineResult:
    """Targeted DDN as foolbox 3's ``DDNAttack`` does it; the smallest fooling point visited is returned."""
    t0 = time.perf_counter()
    x = _as_input(image)
    labels = torch.tensor([target])
    delta = torch.zeros_like(x)
    epsilon = torch.full((1,), init_epsilon)
    worst_norm = torch.maximum(x, 1 - x).flatten(1).norm(dim=1)
    best_l2, best_delta = worst_norm.clone(), delta.clone()
    for i in range(steps):
        if cancel is not None and i % 16 == 0 and cancel.is_set():
            raise Cancelled("cancelled")
        stepsize = 0.01 + (1.0 - 0.01) * (1 + math.cos(math.pi * i / steps)) / 2
        x_adv = (x + delta).requires_grad_(True)
        logits = model(x_adv)
        (grad,) = torch.autograd.grad(-F.cross_entropy(logits, labels, reduction="sum"), x_adv)
        norms = grad.flatten(1).norm(dim=1)
        if bool((norms == 0).any()):  # foolbox replaces a vanishing gradient by a random direction
            grad = torch.where((norms == 0).view(-1, 1, 1, 1), torch.randn_like(grad), grad)
            norms = grad.flatten(1).norm(dim=1)
        grad = grad / norms.clamp_min(1e-12).view(-1, 1, 1, 1)
        is_adv = logits.detach().argmax(1) == labels
        l2 = delta.flatten(1).norm(dim=1)
        both = is_adv & (l2 <= best_l2)
        best_l2 = torch.where(both, l2, best_l2)
        best_delta = torch.where(both.view(-1, 1, 1, 1), delta, best_delta)
        delta = delta + stepsize * grad
        epsilon = torch.minimum(epsilon * torch.where(is_adv, 1.0 - gamma, 1.0 + gamma), worst_norm)
        delta = delta * (epsilon / delta.flatten(1).norm(dim=1)).view(-1, 1, 1, 1)
        delta = (x + delta).clamp(0, 1) - x
    return _finish("DDN", model, x, (x + best_delta).clamp(0, 1), target, steps, t0)
