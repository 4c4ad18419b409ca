"""The attack's objective: ||x' - x||^2 + c * loss(f(x'), target), for a batch of problems at once.

``x'`` is the adversarial image itself (the solver's variable, boxed to [0, 1]); the perturbation
is ``r = x' - x``. The loss is the cross-entropy of the model's softmax against the target class,
formed in float64 from the network's float32 logits (the paper's loss), or -- minimal mode's
refinement, see c_bracket.py -- the cross-entropy of the target against its strongest rival only.

Everything here is torch on the model's device: the network's pass, the loss and its gradient
with respect to the K logits (float64), and one backward pass of the network with that gradient
for the gradient with respect to the image. Images are rows of ``n`` numbers (the input flattened);
``input_shape`` is what the network takes per image: (C, H, W), (D,), ...
"""

from __future__ import annotations

from dataclasses import dataclass

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


def as_tensor(a, device: torch.device | None = None) -> torch.Tensor:
    """A numpy array (or tensor) as a tensor on ``device`` (no copy where it already is one there)."""
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    return t if device is None else t.to(device)


def initial_tau(z0, target, tau_rel: float = TAU_REL, goal=None) -> np.ndarray:
    """The rival loss's temperature for images with logits ``z0`` (P, K): small against the logit gap it has to close
    (to the margin ``goal`` (P,), 0 by default)."""
    gap = margin(as_tensor(z0), as_tensor(target)).cpu().numpy() - (0.0 if goal is None else goal)
    return tau_rel * np.maximum(np.abs(gap), 1e-2)


def margin_goal(confidence: float | None, n_classes: int) -> float:
    """The logit margin ``z_target - max_other z`` an answer must reach for a required ``confidence`` (None: 0, the
    decision boundary): ``log((K - 1) p / (1 - p))``, the smallest margin at which p(target) >= p whatever the
    other classes do (all K - 1 of them at the largest rival's logit); never below 0."""
    if confidence is None:
        return 0.0
    return max(0.0, float(np.log((n_classes - 1) * confidence / (1.0 - confidence))))


def network_pass(model: nn.Module, x: torch.Tensor, input_shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The network on the rows of ``x`` (k, n) as float32 images of ``input_shape``: (the float32 input that
    requires its gradient, the logits (k, K))."""
    with torch.enable_grad():
        xf = x.to(torch.float32).view(-1, *input_shape).requires_grad_(True)
        out = model(xf)
    return xf, out


class PenaltyObjective:
    """Evaluate f, its gradient and the logits for any subset of the rows in one pass.

    A row is one problem (an image and its target) at one c; rows can be added while a solver
    runs (the c search adds the next c of a problem as soon as its last solve is done). The rows'
    problem, c and temperature are kept on the host (``problem``, ``c``, ``tau``: numpy, what the
    c search reads) and on the device (what an evaluation reads).
    """

    def __init__(self, model: nn.Module, x0: torch.Tensor, target: torch.Tensor, input_shape: tuple[int, ...],
                 rival: bool = False, goal: torch.Tensor | None = None) -> None:
        self.model = model
        self.x0 = x0  # (P, n) float64 on the device: the original images, one per problem
        self.target = target  # (P,) int64 on the device
        self.input_shape = input_shape
        self.rival = rival  # the rival loss (temperature per row) instead of the paper's cross-entropy
        self.goal = goal  # (P,) float64 on the device: the margin each problem's rival loss aims past (None: 0)
        self.problem = np.zeros(0, dtype=np.int64)  # (R,) row -> problem
        self.c = np.zeros(0)  # (R,)
        self.tau = np.zeros(0)  # (R,)
        self._on_device = _RowsOnDevice(x0.device)

    @property
    def device(self) -> torch.device:
        return self.x0.device

    def add_rows(self, problem, c, tau=None) -> np.ndarray:
        """New rows for ``problem`` at penalty constants ``c`` (and temperatures ``tau``); returns their ids."""
        first = self.problem.size
        c = np.asarray(c, dtype=np.float64)
        self.problem = np.concatenate([self.problem, np.asarray(problem, dtype=np.int64)])
        self.c = np.concatenate([self.c, c])
        self.tau = np.concatenate([self.tau, np.zeros_like(c) if tau is None else np.asarray(tau, dtype=np.float64)])
        return np.arange(first, self.problem.size)

    def __call__(self, ids: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        xf, out = network_pass(self.model, x, self.input_shape)
        z = out.detach().to(torch.float64)
        rows = self._on_device.rows(self, ids, z.shape[1])
        if self.rival:
            shift = None if self.goal is None else self.goal[rows.problem]
            loss, dz = _rival_loss(z, rows.target, rows.hot, rows.tau, shift)
        else:
            loss, dz = _cross_entropy(z, rows.target, rows.hot)
        r = x - self.x0[rows.problem]
        f = torch.addcmul((r * r).sum(1), rows.c, loss)
        g = torch.add(backward(out, xf, rows.c[:, None] * dz), r, alpha=2.0)
        return f, g, z


@dataclass(frozen=True, slots=True)
class _RowValues:
    """What an evaluation reads of each of its rows (on the device)."""

    problem: torch.Tensor  # (k,) int64
    c: torch.Tensor  # (k,) float64
    tau: torch.Tensor  # (k,) float64
    target: torch.Tensor  # (k,) int64
    hot: torch.Tensor  # (k, K) bool: the target's column


class _RowsOnDevice:
    """The objective's per-row numbers on the device, copied over when rows were added since the last evaluation
    (c and tau in one array, each row's target and its one-hot mask made once: an evaluation indexes four arrays)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.size = -1
        self.problem = self.numbers = self.target = self.hot = torch.zeros(0)

    def rows(self, objective: PenaltyObjective, ids: torch.Tensor, n_classes: int) -> _RowValues:
        if self.size != objective.problem.size:
            self.problem = as_tensor(objective.problem, self.device)
            self.numbers = as_tensor(np.stack([objective.c, objective.tau], 1), self.device)
            self.target = objective.target[self.problem]
            self.hot = _one_hot(self.target, n_classes)
            self.size = objective.problem.size
        numbers = self.numbers[ids]
        return _RowValues(self.problem[ids], numbers[:, 0], numbers[:, 1], self.target[ids], self.hot[ids])


def backward(out: torch.Tensor, x: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    """sum_k seed_k * d out_k / dx per row, as float64 (k, n): one backward pass through the network.

    (A scalar is differentiated: handing ``grad_outputs`` to autograd makes torch import sympy on
    first use, which a first attack would wait for.)
    """
    with torch.enable_grad():
        (grad,) = torch.autograd.grad((out * seed.to(out.dtype)).sum(), x)
    return grad.reshape(len(seed), -1).to(torch.float64)


def _one_hot(target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(k, K) bool on the targets' device: each row's target class."""
    hot = torch.zeros((len(target), n_classes), dtype=torch.bool).to(target.device)
    return hot.scatter_(1, target[:, None], True)


def cross_entropy(z: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """-log softmax(z)[target] (the paper's loss) and its gradient with respect to z."""
    return _cross_entropy(z, target, _one_hot(target, z.shape[1]))


def _cross_entropy(z: torch.Tensor, target: torch.Tensor, hot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`cross_entropy` with the targets' one-hot mask ``hot`` given."""
    lse = torch.logsumexp(z, 1)
    return lse - _at_target(z, target), torch.softmax(z, 1) - hot.to(z.dtype)


def rival_loss(z: torch.Tensor, target: torch.Tensor, tau: torch.Tensor,
               shift: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the target against its strongest rival, log(1 + exp(z_rival - z_target)), and its gradient.

    The strongest rival's logit is a soft maximum ``tau * logsumexp(z_k / tau)`` over the other
    classes, which is within ``tau * log(K - 1)`` of the maximum and smooth where rivals swap.
    ``shift`` (per row): the loss of the margin short of that goal, log(1 + exp(z_rival + shift - z_target))
    (a required confidence: its path crosses margin ``shift`` at the smallest perturbation, as it crosses 0).
    """
    return _rival_loss(z, target, _one_hot(target, z.shape[1]), tau, shift)


def _rival_loss(z: torch.Tensor, target: torch.Tensor, hot: torch.Tensor, tau: torch.Tensor,
                shift: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rival_loss` with the targets' one-hot mask ``hot`` given (the objective keeps it per row)."""
    u, w = _rival_gap(z, target, hot, tau)
    if shift is not None:
        u = u + shift
    # softplus, log(1 + exp(u)) (torch's is linear beyond u = 20, where the two differ by exp(-20) relative), and
    # its derivative sigmoid(u) times that of u: w at the rivals, -1 at the target (where w is 0)
    return torch.nn.functional.softplus(u), torch.sigmoid(u)[:, None] * w.masked_fill(hot, -1.0)


def rival_gap(z: torch.Tensor, target: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rival loss's argument ``u``: the soft maximum of the other classes' logits minus the target's
    (about minus the margin), and the soft maximum's weights (a row's target weight is 0)."""
    return _rival_gap(z, target, _one_hot(target, z.shape[1]), tau)


def _rival_gap(z: torch.Tensor, target: torch.Tensor, hot: torch.Tensor, tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    scaled = z.masked_fill(hot, -torch.inf) / tau[:, None]
    return tau * torch.logsumexp(scaled, 1) - _at_target(z, target), torch.softmax(scaled, 1)


def _at_target(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(k,) each row's target logit (a gather: no mask to count, no wait for the device)."""
    return z.gather(1, target[:, None]).squeeze(1)


def margin(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """z_target - max_{k != target} z_k: positive exactly when the model predicts the target."""
    return _at_target(z, target) - z.masked_fill(_one_hot(target, z.shape[1]), -torch.inf).amax(1)


def margin_np(z: np.ndarray, target) -> np.ndarray:
    """:func:`margin` of host arrays (the c search's bookkeeping), in numpy (no tensor made per round and problem)."""
    z = np.atleast_2d(z)
    rows, target = np.arange(len(z)), np.atleast_1d(np.asarray(target, dtype=np.int64))
    others = z.copy()
    others[rows, target] = -np.inf
    return z[rows, target] - others.max(1)
