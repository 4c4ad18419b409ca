"""The attack's objective: ||x' - x||^2 + c * CE(f(x'), target), for a batch of problems at once.

``x'`` is the adversarial image itself (the solver's variable, boxed to [0, 1]); the perturbation
is ``r = x' - x``. CE is the cross-entropy of the model's softmax against the target class,
formed in float64 from the network's float32 logits (the paper's loss), or -- minimal mode's
refinement, see c_bracket.py -- the cross-entropy of the target against its strongest rival only.

The loss and its gradient with respect to the ten logits are formed in numpy (float64); one
backward pass of the network with that gradient gives the gradient with respect to the image.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from advviewer.errors import AttackInputError

RIVAL_LOSS = "rival cross-entropy"
PAPER_LOSS = "cross-entropy"

# The objective a caller chooses (``lbfgs_attack(..., objective=...)``), and the loss each one minimises.
# The window's choices (advviewer.session.choices) spell them the same way.
PAPER = "paper"  # the paper's loss: the cross-entropy of the softmax against the target
RIVAL = "rival"  # the cross-entropy of the target against its strongest rival only
OBJECTIVES = (PAPER, RIVAL)
LOSS_OF_OBJECTIVE = {PAPER: PAPER_LOSS, RIVAL: RIVAL_LOSS}
TAU_REL = 1e-2  # the rival loss's temperature relative to the original logit gap (see c_bracket.py)


def objective_of_loss(loss: str) -> str:
    """The objective whose loss is ``loss`` (an AttackResult's ``loss``)."""
    return RIVAL if loss == RIVAL_LOSS else PAPER


def check_objective(objective: object, refine: bool | None, minimal: bool) -> str | None:
    """The objective an attack solves: ``objective`` if given, else each mode's default.

    Minimal mode's default is the rival loss (``refine=False``: the paper's); a fixed-c solve's
    default (None here) is the loss of its warm start where that is a rival-loss result towards
    the same target (the slider stays on its path), else the paper's. ``refine`` that contradicts
    ``objective`` is refused rather than silently overruled.
    """
    if objective is None:
        return (RIVAL if refine is not False else PAPER) if minimal else None
    if objective not in OBJECTIVES:
        raise AttackInputError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}, not {objective!r}")
    if refine is not None and refine != (objective == RIVAL):
        raise AttackInputError(f"refine={refine} contradicts objective={objective!r} (refine=True is the rival objective)")
    return str(objective)


def initial_tau(z0: np.ndarray, target: np.ndarray, tau_rel: float = TAU_REL) -> np.ndarray:
    """The rival loss's temperature for images with logits ``z0`` (P, 10): small against the logit gap it has to close."""
    return tau_rel * np.maximum(np.abs(margin(z0, target)), 1e-2)


class PenaltyObjective:
    """Evaluate f, its gradient and the logits for any subset of the rows in one pass.

    A row is one problem (an image and its target) at one c; rows can be added while a solver
    runs (the c search adds the next c of a problem as soon as its last solve is done).
    """

    def __init__(self, model: nn.Module, x0: np.ndarray, target: np.ndarray, rival: bool = False,
                 device: torch.device | None = None) -> None:
        self.model = model
        self.device = device or torch.device("cpu")
        self.x0 = x0  # (P, 784) float64: the original images, one per problem
        self.target = target  # (P,) int
        self.rival = rival  # the rival loss (temperature per row) instead of the paper's cross-entropy
        self.problem = np.zeros(0, dtype=np.int64)  # (R,) row -> problem
        self.c = np.zeros(0)  # (R,)
        self.tau = np.zeros(0)  # (R,)

    def add_rows(self, problem, c, tau=None) -> np.ndarray:
        """New rows for ``problem`` at penalty constants ``c`` (and temperatures ``tau``); returns their ids."""
        first = self.problem.size
        c = np.asarray(c, dtype=np.float64)
        self.problem = np.concatenate([self.problem, np.asarray(problem, dtype=np.int64)])
        self.c = np.concatenate([self.c, c])
        self.tau = np.concatenate([self.tau, np.zeros_like(c) if tau is None else np.asarray(tau, dtype=np.float64)])
        return np.arange(first, self.problem.size)

    def __call__(self, ids: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.problem[ids]
        c = self.c[ids]
        t = self.target[p]
        xf = torch.from_numpy(x.astype(np.float32)).to(self.device).view(-1, 1, 28, 28).requires_grad_(True)
        with torch.enable_grad():
            out = self.model(xf)
        z = out.detach().to(torch.float64).cpu().numpy()
        loss, dz = rival_loss(z, t, self.tau[ids]) if self.rival else cross_entropy(z, t)
        r = x - self.x0[p]
        f = np.einsum("ij,ij->i", r, r) + c * loss
        g = backward(out, xf, c[:, None] * dz) + 2.0 * r
        return f, g, z


def backward(out: torch.Tensor, x: torch.Tensor, seed: np.ndarray) -> np.ndarray:
    """sum_k seed_k * d out_k / dx per row, as float64 (n, 784): one backward pass through the network.

    (A scalar is differentiated: handing ``grad_outputs`` to autograd makes torch import sympy on
    first use, which a first attack would wait for.)
    """
    with torch.enable_grad():
        (grad,) = torch.autograd.grad((out * torch.from_numpy(seed.astype(np.float32)).to(out.device, out.dtype)).sum(), x)
    return grad.view(len(seed), -1).cpu().numpy().astype(np.float64)


def _logsumexp(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise log-sum-exp and softmax of ``a`` (which may hold -inf)."""
    top = a.max(1, keepdims=True)
    e = np.exp(a - top)
    s = e.sum(1, keepdims=True)
    return (np.log(s) + top)[:, 0], e / s


def cross_entropy(z: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """-log softmax(z)[target] (the paper's loss) and its gradient with respect to z."""
    rows = np.arange(len(z))
    lse, p = _logsumexp(z)
    p[rows, target] -= 1.0
    return lse - z[rows, target], p


def rival_loss(z: np.ndarray, target: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy of the target against its strongest rival, log(1 + exp(z_rival - z_target)), and its gradient.

    The strongest rival's logit is a soft maximum ``tau * logsumexp(z_k / tau)`` over the other
    classes, which is within ``tau * log 9`` of the maximum and smooth where rivals swap.
    """
    rows = np.arange(len(z))
    u, w = rival_gap(z, target, tau)
    loss = np.logaddexp(0.0, u)  # softplus
    sig = 0.5 * (1.0 + np.tanh(0.5 * u))  # its derivative, without overflow
    dz = sig[:, None] * w
    dz[rows, target] = -sig
    return loss, dz


def rival_gap(z: np.ndarray, target: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rival loss's argument ``u``: the soft maximum of the other classes' logits minus the target's
    (about minus the margin), and the soft maximum's weights (a row's target weight is 0)."""
    rows = np.arange(len(z))
    others = z.copy()
    others[rows, target] = -np.inf
    lse, w = _logsumexp(others / tau[:, None])
    return tau * lse - z[rows, target], w


def margin(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """z_target - max_{k != target} z_k: positive exactly when the model predicts the target."""
    rows = np.arange(len(z))
    others = z.copy()
    others[rows, target] = -np.inf
    return z[rows, target] - others.max(1)
