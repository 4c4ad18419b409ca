"""Minimal mode's c search, per problem: the bracket, the next c values, when to stop.

:mod:`advviewer.attack.c_search` runs it on the solver pool. Every (image, target) problem keeps
a bracket: the largest c whose solution failed (``lo``; at first c = 0, the original image) and
the smallest c whose solution succeeded (``hi``: logit margin ``z_target - max_other z`` at least
``min_margin``). The first c values come from the linearised problem at the original image
(halved: it overshoots); then c grows, to the c that the last failure's stationarity predicts for
the boundary (``boundary_c``), or extrapolating the margin linearly in log c from the last two
failures, until the target is reached; a first success with no failure below it steps down to
the c its own stationarity predicts; then regula falsi on the margin in log c, aiming just inside
the target's side so that every success shrinks ``hi``; where the margin jumps across the
boundary (a non-convex model whose path leaves one valley for another) instead of closing in,
the bracket is cut in k + 1 equal parts. It stops when the L2 still to gain, interpolated to the
boundary, is below ``rtol * L2`` (1e-4; 1e-6 where the caller gave a budget of evaluations,
``BUDGET_RTOL``), or after ``max_rounds``. Where c is known to 0.1% but the ends' L2 still differ
by more than 0.1%, a loose solve stopped short: both ends are solved on tightly first
(``c_rounds.finished``).

The loss (``refine=True``): the cross-entropy of the target against its strongest rival,
``log(1 + exp(rival - z_target))``, with the rival's logit a soft maximum of the other classes
at temperature ``tau``. A loss that depends on the margin alone has a penalty path that crosses
the decision boundary at the smallest perturbation (exactly so for a linear model: the answer of
the quadratic programme), whatever the number of rivals active there; the paper's cross-entropy
over all ten classes also pays for classes that are not in the way and crosses it further out
(``refine=False`` keeps it). ``tau`` starts at 1% of the original logit gap; when two rivals are
within 7 ``tau`` of each other -- checked at the first success and at the answer -- the soft
maximum still blurs them, and the search goes on once at a ten times smaller ``tau`` from its best
answer (rivals tie for far targets). Starting sharp instead costs more for no better answers: a
sharp soft maximum slows every solve on the way; checking at the first success as well saves the
rounds that would refine c on the blurred path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import TAU_REL, as_tensor, backward, initial_tau, margin_np, network_pass, rival_gap
from advviewer.attack.warm_states import EndStates

# the linearised first c (initial_c) usually lies beyond the answer's: the margin's gradient grows
# along the path. A first solve beyond the boundary travels far; one below it is cheap and the
# failure's stationarity gives the next c (boundary_c). So the search starts at half of it.
FIRST_GUESS_SCALE = 0.5
FIRST_SPREAD = 2.0  # several first candidates: multiples of the estimate around it
GROWTH = 1.5  # spacing of the candidates while c grows; a factor per round where no slope is known yet
GROWTH_ON_SLOPE = 1.15  # ... and once two failures give the margin's slope (it flattens: aim a little beyond)
MAX_GROWTH = 20.0  # at most this factor per round
# With a budget (max_evaluations) the search refines the boundary until the L2 left to gain is below this
# instead of SearchOptions.rtol: the caller has said what it will spend. A few evaluations more buy the
# last digits of the L2 that a 1,000-step attack reaches (benchmarks/results/budget-precision-20261205.md)
BUDGET_RTOL = 1e-6
SHARPEN_SPREAD = 1.04  # candidates around the c predicted after sharpening


@dataclass
class SearchOptions:
    candidates: int = 1  # c values per problem per round (several suit one image: latency)
    max_rounds: int = 24
    max_evaluations: int | None = None  # model evaluations per group of problems (an image's), None: no budget
    warm_starts: bool = True  # strategies.Strategies.warm_starts
    polish_ends: bool = True  # strategies.Strategies.polish_ends
    sharpen: bool = True  # strategies.Strategies.sharpened_rival
    rtol: float = 1e-4  # stop when the L2 left to gain, interpolated to the boundary, is below rtol * L2
    # logit margin a solution needs to count, robust to float32 rounding (about 1e-6 |z|); at most
    # 0.2% of the original gap, not below 2e-5 (an image next to the boundary pays for the margin)
    min_margin: float = 1e-4
    c_max: float = 1e6
    refine: bool = True
    tau_rel: float = TAU_REL  # the rival loss's temperature relative to the original logit gap
    solver: SolverOptions = field(default_factory=SolverOptions)


class Bracket:
    """Per-problem search state, one row per (image, target) problem."""

    def __init__(self, x0: torch.Tensor, target: np.ndarray, z0: np.ndarray, c_guess: np.ndarray,
                 opts: SearchOptions, goal: np.ndarray | None = None) -> None:
        """``x0``: the problems' images (P, n) on the solver's device (as are the ends' images, ``lo_x``,
        ``hi_x``, ``best_x``); ``target``, the logits ``z0`` (P, K) and every other field: host numpy.
        ``goal``: each problem's required logit margin (a confidence; 0: the boundary). Every margin the
        search keeps is measured from it: ``z_target - max_other z - goal``."""
        x0 = as_tensor(x0)
        P = x0.shape[0]
        self.c_guess = c_guess  # where the search starts
        self.x0, self.target = x0, target
        self.goal = np.zeros(P) if goal is None else np.asarray(goal, dtype=np.float64)
        m0 = margin_np(z0, target) - self.goal
        self.m0 = m0
        self.min_margin = np.clip(0.002 * np.abs(m0), 2e-5, opts.min_margin)
        self.lo_c, self.lo_m, self.lo_l2 = np.zeros(P), m0.copy(), np.zeros(P)
        self.prev_c, self.prev_m = np.full(P, np.nan), np.full(P, np.nan)
        self.lo_x, self.lo_z = x0.clone(), z0.copy()
        self.hi_c, self.hi_m, self.hi_l2 = np.full(P, np.inf), np.full(P, np.nan), np.full(P, np.inf)
        self.hi_x, self.hi_z = x0.clone(), z0.copy()
        self.prev_hi_c, self.prev_hi_m = np.full(P, np.nan), np.full(P, np.nan)  # the success before hi
        # the rival loss's temperature: small against the logit gap it has to close
        self.tau = initial_tau(z0, target, opts.tau_rel, self.goal)
        self.sharpened = np.zeros(P, dtype=np.int64)
        self.jumped = np.zeros(P, dtype=bool)  # the last round's margin jumped instead of closing in
        self.new_path = np.zeros(P, dtype=bool)  # sharpened, and nothing solved on the new path yet
        self.done = np.zeros(P, dtype=bool)
        # c is known (c_rounds.finished) but the ends' loosely solved answers still differ: both are being solved
        # on at the fixed-c tolerance (see finished)
        self.polishing = np.zeros(P, dtype=bool)
        self.settled_at = np.full(P, np.nan)  # perf_counter time when the problem's answer was final
        self.evaluations = np.zeros(P, dtype=np.int64)
        self.iterations = np.zeros(P, dtype=np.int64)
        self.hi_parent = np.full(P, -1)  # history: the solve that produced hi / lo / best
        self.lo_parent = np.full(P, -1)
        # the smallest successful perturbation found (usually hi's; not always for a non-convex model)
        self.best_c, self.best_l2, self.best_parent = np.full(P, np.nan), np.full(P, np.inf), np.full(P, -1)
        self.best_x, self.best_z = x0.clone(), z0.copy()
        self.states = EndStates()  # the end states of the solves that are lo, hi or best (set by the search)
        self.refine = opts.refine  # the rival loss (boundary_c models its gradient)

    def reseed(self, p: int, c_guess: float) -> None:
        """Search again on a new path from the best answer so far (kept as ``best``), first around ``c_guess``."""
        self.c_guess[p] = c_guess
        self.clear_lo(p)
        self.lo_x[p], self.lo_z[p], self.lo_parent[p] = self.best_x[p], self.best_z[p], self.best_parent[p]
        self.clear_hi(p)
        self.done[p] = False
        self.jumped[p] = False
        self.polishing[p] = False
        self.new_path[p] = True

    def clear_lo(self, p: int) -> None:
        """No failure known for problem ``p``: the lower end is c = 0, the original image."""
        self.lo_c[p], self.lo_m[p], self.lo_l2[p], self.lo_parent[p] = 0.0, self.m0[p], 0.0, -1
        self.prev_c[p] = self.prev_m[p] = np.nan

    def clear_hi(self, p: int) -> None:
        """No success known for problem ``p`` on its path (``best`` keeps any found before)."""
        self.hi_c[p], self.hi_m[p], self.hi_l2[p], self.hi_parent[p] = np.inf, np.nan, np.inf, -1
        self.prev_hi_c[p] = self.prev_hi_m[p] = np.nan

    @property
    def found(self) -> np.ndarray:
        """Problems with a successful c in the current bracket."""
        return np.isfinite(self.hi_c)

    def found_at(self, p: int) -> bool:
        """``found[p]`` without building the whole array (called per problem and round)."""
        return math.isfinite(self.hi_c[p])

    @property
    def success(self) -> np.ndarray:
        """Problems with a successful perturbation found (``best``)."""
        return np.isfinite(self.best_l2)


def initial_c(model, x0: torch.Tensor, target: np.ndarray, z0: np.ndarray, input_shape: tuple[int, ...],
              goal: np.ndarray | None = None) -> np.ndarray:
    """A first c from the linearised two-class problem at the original image (one backward pass).

    Without the box, ||r||^2 + c * log(1 + exp(goal - u)) for u = z_t - z_j linear crosses u = goal at
    c = 4 (goal - u0) / ||grad u||^2; only pixels free to move in the gradient's direction count. Scaled
    by ``FIRST_GUESS_SCALE``.
    """
    rows = np.arange(len(x0))
    others = z0.copy()
    others[rows, target] = -np.inf
    rival = others.argmax(1)
    seed = np.zeros(z0.shape, dtype=np.float32)
    seed[rows, target], seed[rows, rival] = 1.0, -1.0
    xf, out = network_pass(model, x0, input_shape)
    gu = backward(out, xf, as_tensor(seed, x0.device))
    movable = ((gu > 0) & (x0 < 1)) | ((gu < 0) & (x0 > 0))
    norm2 = np.maximum(((gu * movable) * gu).sum(1).cpu().numpy(), 1e-12)
    u0 = z0[rows, target] - z0[rows, rival] - (0.0 if goal is None else goal)
    return FIRST_GUESS_SCALE * 4.0 * np.maximum(-u0, 1e-3) / norm2


def next_candidates(b: Bracket, p: int, k: int) -> list[float]:
    """The c values to try next for problem ``p`` (distinct, ascending): one case per state of its bracket."""
    if b.polishing[p]:
        return _polishing_the_ends(b, p)
    if not b.found_at(p):
        if b.lo_c[p] == 0 or b.new_path[p]:
            return _nothing_solved_on_this_path(b, p, k)
        return _growing_from_failures(b, p, k)
    if b.lo_c[p] == 0:
        return _stepping_down_from_a_first_success(b, p, k)
    if b.jumped[p]:
        return _cutting_a_jumped_bracket(b, p, k)
    return _regula_falsi(b, p, k)


def _polishing_the_ends(b: Bracket, p: int) -> list[float]:
    """c is known but the ends' loose answers disagree (c_rounds.finished): both ends again, whatever k."""
    return [float(b.lo_c[p]), float(b.hi_c[p])]


def _nothing_solved_on_this_path(b: Bracket, p: int, k: int) -> list[float]:
    """The first round, or the first after sharpening: multiples of the estimate around it."""
    spread = SHARPEN_SPREAD if b.sharpened[p] else FIRST_SPREAD
    return _distinct([b.c_guess[p] * spread ** (i - (k - 1) // 2) for i in range(k)])


def _growing_from_failures(b: Bracket, p: int, k: int) -> list[float]:
    """Only failures so far: c grows from the largest of them (``_growth``)."""
    factor, spacing = _growth(b, p)
    return _distinct([b.lo_c[p] * factor * spacing ** i for i in range(k)])


def _growth(b: Bracket, p: int) -> tuple[float, float]:
    """The factor from the largest failure's c to the first candidate, and the spacing of the others."""
    if np.isfinite(b.prev_c[p]) and b.prev_c[p] > 0 and b.lo_m[p] > b.prev_m[p]:
        # two failures: extrapolate the margin linearly in log c to a small positive value
        slope = (b.lo_m[p] - b.prev_m[p]) / np.log(b.lo_c[p] / b.prev_c[p])
        step = (0.1 * abs(b.lo_m[p]) - b.lo_m[p]) / slope
        return float(np.exp(clip(step, np.log(1.05), np.log(MAX_GROWTH)))), GROWTH_ON_SLOPE
    if b.refine:  # one failure: the c its answer's stationarity predicts for a small positive margin
        est = boundary_c(b, p, b.lo_c[p], b.lo_m[p], b.lo_l2[p], b.lo_z[p], b.tau[p], 0.1 * abs(b.lo_m[p]))
        if np.isfinite(est):
            return float(clip(est / b.lo_c[p], 1.05, MAX_GROWTH)), GROWTH_ON_SLOPE
    return GROWTH, GROWTH


def _stepping_down_from_a_first_success(b: Bracket, p: int, k: int) -> list[float]:
    """Successes but no failing c yet: a secant in c itself towards the original image, or better estimates."""
    lo_m, hi_m, u_hi = b.lo_m[p], b.hi_m[p], np.log(b.hi_c[p])
    aim = _aim(b, p)
    u_lo = u_hi - np.log(20.0)
    s = np.log(max(b.hi_c[p] * (aim - lo_m) / (hi_m - lo_m), 1e-300))
    if np.isfinite(b.prev_hi_c[p]) and b.prev_hi_m[p] > hi_m:
        # the secant assumes the margin linear in c down to c = 0; far from the boundary it
        # is not (a far target started far too high creeps down in small steps). Two
        # successes give the margin's slope in log c: extrapolate to just beyond the boundary.
        slope = (b.prev_hi_m[p] - hi_m) / np.log(b.prev_hi_c[p] / b.hi_c[p])
        step = float(clip(1.1 * hi_m / slope, np.log(1.05), np.log(MAX_GROWTH)))
        s = min(s, u_hi - step)
        u_lo = min(u_lo, s - 0.1)
    elif b.refine:
        # one success only: where the penalty path crosses the boundary follows from the answer's
        # stationarity (boundary_c); the secant above takes the margin as linear in c, but beyond
        # the boundary it grows only with log c (the loss's pull fades), so the secant asks for
        # far too large a c
        est = boundary_c(b, p, b.hi_c[p], hi_m, b.hi_l2[p], b.hi_z[p], b.tau[p], aim)
        if np.isfinite(est) and est > 0:
            s = u_hi - float(clip(np.log(b.hi_c[p] / est), np.log(1.05), np.log(MAX_GROWTH)))
            u_lo = min(u_lo, s - 0.1)
    return _around_in_log_c(s, u_lo, u_hi, k)


def _cutting_a_jumped_bracket(b: Bracket, p: int, k: int) -> list[float]:
    """The margin jumped across the boundary instead of closing in: the bracket cut in k + 1 equal parts (in log c)."""
    u_lo, u_hi = np.log(b.lo_c[p]), np.log(b.hi_c[p])
    return _distinct([float(np.exp(u_lo + (u_hi - u_lo) * (j + 1) / (k + 1))) for j in range(k)])


def _regula_falsi(b: Bracket, p: int, k: int) -> list[float]:
    """A failure and a success: the margin interpolated linearly in log c between them, to ``_aim``."""
    lo_m, hi_m = b.lo_m[p], b.hi_m[p]
    u_lo, u_hi = np.log(b.lo_c[p]), np.log(b.hi_c[p])
    s = u_lo + (u_hi - u_lo) * (_aim(b, p) - lo_m) / (hi_m - lo_m)
    return _around_in_log_c(s, u_lo, u_hi, k)


def _aim(b: Bracket, p: int) -> float:
    """The margin the next c aims for: just inside the target's side, closer every success (each shrinks ``hi``)."""
    return max(1.5 * b.min_margin[p], 0.1 * b.hi_m[p])


def _around_in_log_c(s: float, u_lo: float, u_hi: float, k: int) -> list[float]:
    """k values of c around log c = ``s`` (s, s+, s-, s++, ... by a tenth of the bracket), kept inside (u_lo, u_hi)."""
    w = u_hi - u_lo
    points = [s + 0.1 * w * ((j + 1) // 2) * (1 if j % 2 else -1) for j in range(k)]
    return _distinct([float(np.exp(clip(v, u_lo + 0.02 * w, u_hi - 0.02 * w))) for v in points])


def boundary_c(b: Bracket, p: int, c: float, m: float, l2: float, z: np.ndarray, tau: float, aim: float) -> float:
    """The c at which the penalty path of problem ``p`` reaches margin ``aim``, from one answer on it.

    The answer at ``c`` (margin ``m``, perturbation ``l2``, logits ``z``) is stationary:
    ``2 r = -c grad loss``, and the rival loss's gradient is ``sigmoid(u) grad u`` (u: the soft
    rival minus the target's logit, about minus the margin). With ``grad u`` alike at both points,
    ``c_b / c = (l2_b / l2) (sigmoid(u) / sigmoid(u_b))``, ``u_b = u + m - aim``; ``l2_b`` from the
    margin taken as linear in the perturbation's size, from the original image (``m0``) on.
    From an answer beyond the boundary it lands below the minimal c, where the secant in c
    overshoots (``tau``: the temperature the path is solved with). NaN where the answer did not move the
    margin (nothing to go by).
    """
    if not abs(m - b.m0[p]) > 1e-9 * max(abs(b.m0[p]), 1.0):
        return float("nan")
    shrink = float(clip((aim - b.m0[p]) / (m - b.m0[p]), 0.05, 20.0))
    u = float(rival_gap(as_tensor(z[None]), as_tensor(b.target[p:p + 1]), torch.tensor([tau], dtype=torch.float64))[0][0])
    u += b.goal[p]  # the loss's argument (objective.rival_loss's shift)
    # log sigmoid(u) - log sigmoid(u_b), without underflow far from the boundary (callers clip the step)
    log_ratio = float(np.logaddexp(0.0, -(u + m - aim)) - np.logaddexp(0.0, -u))
    return c * shrink * float(np.exp(clip(log_ratio, -50.0, 50.0)))


def clip(v, lo, hi):
    """``np.clip`` of one number, the same result to the bit (NaN too) at a tenth of its cost (per problem and round)."""
    v = v if (v >= lo or v != v) else lo  # np.maximum: a if a >= b or isnan(a) else b
    return v if (v <= hi or v != v) else hi


def _distinct(cs: list[float]) -> list[float]:
    return sorted(set(cs))
