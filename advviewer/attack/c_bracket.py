"""Minimal mode's c search, per problem: the bracket, the next c values, when to stop.

:mod:`advviewer.attack.c_search` runs it on the solver pool. Every (image, target) problem keeps
a bracket: the largest c whose solution failed (``lo``; at first c = 0, the original image) and
the smallest c whose solution succeeded (``hi``: logit margin ``z_target - max_other z`` at least
``min_margin``). The first c values come from the linearised problem at the original image; then
c grows, extrapolating the margin linearly in log c from the last two failures, until the target
is reached; then regula falsi on the margin in log c, aiming just inside the target's side so
that every success shrinks ``hi``; where the margin jumps across the boundary (a non-convex model
whose path leaves one valley for another) instead of closing in, the bracket is cut in k + 1
equal parts. It stops when the L2 still to gain, interpolated to the boundary, is below
``rtol * L2``, or when c is known to 0.1% (on a continuous path the L2 then moves by about
1e-4 of itself).

The loss (``refine=True``): the cross-entropy of the target against its strongest rival,
``log(1 + exp(rival - z_target))``, with the rival's logit a soft maximum of the other classes
at temperature ``tau``. A loss that depends on the margin alone has a penalty path that crosses
the decision boundary at the smallest perturbation (exactly so for a linear model: the answer of
the quadratic programme), whatever the number of rivals active there; the paper's cross-entropy
over all ten classes also pays for classes that are not in the way and crosses it further out
(``refine=False`` keeps it). ``tau`` starts at 1% of the original logit gap; when two rivals end
within 7 ``tau`` of each other the soft maximum still blurs them, and the search goes on once at a
ten times smaller ``tau`` from its best answer. Measured on cnn (90 pairs, all targets): starting
at 1e-3 instead, without the second search, cost more (median 60 against 50 batched passes, p95
191 against 125) for no better answers: a sharp soft maximum slows every solve on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import margin

FIRST_SPREAD = 2.0  # several first candidates: multiples of the estimate around it
GROWTH = 1.5  # spacing of the candidates while c grows; a factor per round where no slope is known yet
GROWTH_ON_SLOPE = 1.15  # ... and once two failures give the margin's slope (it flattens: aim a little beyond)
MAX_GROWTH = 20.0  # at most this factor per round
C_TOL = 1e-3  # stop when log(hi_c / lo_c) is below this
MAX_SHARPEN = 1  # once: a second time gained 0.1% at most and doubled the cost
SHARPEN_FACTOR = 10.0
SHARPEN_GAP = 7.0  # the second rival's weight in the soft maximum is exp(-gap / tau) < 1e-3 beyond it
SHARPEN_SPREAD = 1.04  # candidates around the c predicted after sharpening


@dataclass
class SearchOptions:
    candidates: int = 1  # c values per problem per round (several suit one image: latency)
    max_rounds: int = 24
    rtol: float = 1e-4  # stop when the L2 left to gain, interpolated to the boundary, is below rtol * L2
    # logit margin a solution needs to count, robust to float32 rounding (about 1e-6 |z|); at most
    # 0.2% of the original gap, not below 2e-5 (an image next to the boundary pays for the margin)
    min_margin: float = 1e-4
    c_max: float = 1e6
    refine: bool = True
    tau_rel: float = 1e-2  # the rival loss's temperature relative to the original logit gap
    solver: SolverOptions = field(default_factory=SolverOptions)


class Bracket:
    """Per-problem search state, one row per (image, target) problem."""

    def __init__(self, x0: torch.Tensor, target: torch.Tensor, z0: torch.Tensor, c_guess: np.ndarray,
                 opts: SearchOptions) -> None:
        P = x0.shape[0]
        self.c_guess = c_guess  # where the search starts
        self.x0, self.target = x0, target
        m0 = margin(z0, target).cpu().numpy()
        self.m0 = m0
        self.min_margin = np.clip(0.002 * np.abs(m0), 2e-5, opts.min_margin)
        self.lo_c, self.lo_m, self.lo_l2 = np.zeros(P), m0.copy(), np.zeros(P)
        self.prev_c, self.prev_m = np.full(P, np.nan), np.full(P, np.nan)
        self.lo_x = x0.clone()
        self.hi_c, self.hi_m, self.hi_l2 = np.full(P, np.inf), np.full(P, np.nan), np.full(P, np.inf)
        self.hi_x = x0.clone()
        # the rival loss's temperature: small against the logit gap it has to close
        self.tau = opts.tau_rel * np.maximum(np.abs(m0), 1e-2)
        self.sharpened = np.zeros(P, dtype=np.int64)
        self.jumped = np.zeros(P, dtype=bool)  # the last round's margin jumped instead of closing in
        self.done = np.zeros(P, dtype=bool)
        self.settled_at = np.full(P, np.nan)  # perf_counter time when the problem's answer was final
        self.evaluations = np.zeros(P, dtype=np.int64)
        self.iterations = np.zeros(P, dtype=np.int64)
        self.hi_parent = np.full(P, -1)  # history: the solve that produced hi / lo / best
        self.lo_parent = np.full(P, -1)
        # the smallest successful perturbation found (usually hi's; not always for a non-convex model)
        self.best_c, self.best_l2, self.best_parent = np.full(P, np.nan), np.full(P, np.inf), np.full(P, -1)
        self.best_x, self.best_z = x0.clone(), z0.clone()

    def reseed(self, p: int, c_guess: float) -> None:
        """Search again on a new path from the best answer so far (kept as ``best``), first around ``c_guess``."""
        self.c_guess[p] = c_guess
        self.lo_c[p], self.lo_m[p], self.lo_l2[p] = 0.0, self.m0[p], 0.0
        self.lo_x[p], self.lo_parent[p] = self.best_x[p], self.best_parent[p]
        self.prev_c[p] = self.prev_m[p] = np.nan
        self.hi_c[p], self.hi_m[p], self.hi_l2[p] = np.inf, np.nan, np.inf
        self.done[p] = False
        self.jumped[p] = False

    @property
    def found(self) -> np.ndarray:
        """Problems with a successful c in the current bracket."""
        return np.isfinite(self.hi_c)

    @property
    def success(self) -> np.ndarray:
        """Problems with a successful perturbation found (``best``)."""
        return np.isfinite(self.best_l2)


def initial_c(model, x0: torch.Tensor, target: torch.Tensor, z0: torch.Tensor) -> np.ndarray:
    """A first c from the linearised two-class problem at the original image (one backward pass).

    Without the box, ||r||^2 + c * log(1 + exp(-u)) for u = z_t - z_j linear crosses u = 0 at
    c = 4 (-u0) / ||grad u||^2; only pixels free to move in the gradient's direction count.
    """
    rival = z0.scatter(1, target[:, None], float("-inf")).argmax(1)
    with torch.enable_grad():
        xf = x0.to(torch.float32).view(-1, 1, 28, 28).requires_grad_(True)
        z = model(xf).to(torch.float64)
        u = z.gather(1, target[:, None])[:, 0] - z.gather(1, rival[:, None])[:, 0]
        (gu,) = torch.autograd.grad(u.sum(), xf)
    gu = gu.view(x0.shape[0], -1).to(torch.float64)
    movable = ((gu > 0) & (x0 < 1)) | ((gu < 0) & (x0 > 0))
    norm2 = (gu * gu * movable).sum(1).clamp(min=1e-12)
    u0 = u.detach()
    return (4.0 * (-u0).clamp(min=1e-3) / norm2).cpu().numpy()


def next_candidates(b: Bracket, p: int, k: int) -> list[float]:
    """The c values to try next for problem ``p`` (distinct, ascending)."""
    if not b.found[p]:
        if b.lo_c[p] == 0:  # nothing solved on this path yet: around the estimate
            spread = SHARPEN_SPREAD if b.sharpened[p] else FIRST_SPREAD
            return _distinct([b.c_guess[p] * spread ** (i - (k - 1) // 2) for i in range(k)])
        factor, spacing = GROWTH, GROWTH
        if np.isfinite(b.prev_c[p]) and b.prev_c[p] > 0 and b.lo_m[p] > b.prev_m[p]:
            # extrapolate the margin linearly in log c to a small positive value
            slope = (b.lo_m[p] - b.prev_m[p]) / np.log(b.lo_c[p] / b.prev_c[p])
            step = (0.1 * abs(b.lo_m[p]) - b.lo_m[p]) / slope
            factor, spacing = float(np.exp(np.clip(step, np.log(1.05), np.log(MAX_GROWTH)))), GROWTH_ON_SLOPE
        return _distinct([b.lo_c[p] * factor * spacing ** i for i in range(k)])
    lo_m, hi_m, u_hi = b.lo_m[p], b.hi_m[p], np.log(b.hi_c[p])
    aim = max(1.5 * b.min_margin[p], 0.1 * hi_m)  # just inside the target's side, closer every success
    if b.lo_c[p] == 0:  # no failing c yet: secant in c itself, towards the original image
        u_lo = u_hi - np.log(20.0)
        s = np.log(max(b.hi_c[p] * (aim - lo_m) / (hi_m - lo_m), 1e-300))
    else:  # regula falsi in log c
        u_lo = np.log(b.lo_c[p])
        if b.jumped[p]:  # the margin jumps somewhere inside: cut the bracket in k + 1 equal parts
            return _distinct([float(np.exp(u_lo + (u_hi - u_lo) * (j + 1) / (k + 1))) for j in range(k)])
        s = u_lo + (u_hi - u_lo) * (aim - lo_m) / (hi_m - lo_m)
    w = u_hi - u_lo
    aims = [s + 0.1 * w * ((j + 1) // 2) * (1 if j % 2 else -1) for j in range(k)]  # s, s+, s-, s++, ...
    return _distinct([float(np.exp(np.clip(v, u_lo + 0.02 * w, u_hi - 0.02 * w))) for v in aims])


def _distinct(cs: list[float]) -> list[float]:
    return sorted(set(cs))


def update(b: Bracket, p: int, rows: list[tuple[int, float, torch.Tensor, torch.Tensor]], opts: SearchOptions) -> None:
    """Fold the finished solves ``(row, c, x, z)`` of one round of problem ``p`` into its bracket."""
    had_bracket, old_lo_m, old_hi_m = b.found[p] and b.lo_c[p] > 0, b.lo_m[p], b.hi_m[p]
    for row, c, x, z in sorted(rows, key=lambda r: r[1]):
        m = float(margin(z[None], b.target[p:p + 1])[0])
        l2 = float((x.to(torch.float32) - b.x0[p].to(torch.float32)).norm())
        if m >= b.min_margin[p]:
            if c < b.hi_c[p]:
                b.hi_c[p], b.hi_m[p], b.hi_l2[p], b.hi_x[p], b.hi_parent[p] = c, m, l2, x, row
            if l2 < b.best_l2[p]:
                b.best_c[p], b.best_l2[p], b.best_x[p], b.best_z[p], b.best_parent[p] = c, l2, x, z, row
        elif b.lo_c[p] < c < b.hi_c[p]:
            b.prev_c[p], b.prev_m[p] = b.lo_c[p], b.lo_m[p]
            b.lo_c[p], b.lo_m[p], b.lo_l2[p], b.lo_x[p], b.lo_parent[p] = c, m, l2, x, row
    if had_bracket:  # regula falsi closes in on a continuous crossing: some end's margin at least halves
        b.jumped[p] = not (abs(b.hi_m[p]) < 0.5 * abs(old_hi_m) or abs(b.lo_m[p]) < 0.5 * abs(old_lo_m))
    b.done[p] = finished(b, p, opts)
    if b.done[p] and opts.refine and b.found[p] and b.sharpened[p] < MAX_SHARPEN:
        # two rivals close at the answer: the soft maximum blurs them, so sharpen it and search
        # again from the best answer (the path moves by about the old temperature)
        top2 = b.best_z[p].scatter(0, b.target[p:p + 1], float("-inf")).topk(2).values
        if float(top2[0] - top2[1]) < SHARPEN_GAP * b.tau[p]:
            sharpen(b, p)


def sharpen(b: Bracket, p: int) -> None:
    """A ten times smaller temperature, and a new search from the best answer.

    The sharper soft maximum lowers the margin at a given c by about half the old temperature
    (the rivals' blur it no longer adds); the bracket's slope of the margin in log c turns that
    into the first c to try.
    """
    c_guess = b.best_c[p]
    if b.lo_c[p] > 0 and b.hi_m[p] > b.lo_m[p]:
        slope = (b.hi_m[p] - b.lo_m[p]) / np.log(b.hi_c[p] / b.lo_c[p])
        c_guess *= np.exp(np.clip(0.5 * b.tau[p] / slope, 0.0, np.log(2.0)))
    b.tau[p] /= SHARPEN_FACTOR
    b.sharpened[p] += 1
    b.reseed(p, c_guess)


def finished(b: Bracket, p: int, opts: SearchOptions) -> bool:
    if not b.found[p]:
        return b.lo_c[p] >= opts.c_max
    w = np.log(b.hi_c[p] / b.lo_c[p]) if b.lo_c[p] > 0 else np.inf
    gain = b.hi_m[p] / (b.hi_m[p] - b.lo_m[p]) * (b.hi_l2[p] - b.lo_l2[p])
    return bool(gain <= opts.rtol * b.hi_l2[p] or w < C_TOL)
