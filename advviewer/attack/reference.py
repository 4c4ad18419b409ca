"""The reference attack: the paper's method for one problem, plainly, as the oracle the engine is checked against.

Szegedy et al. (2013), section 4.1: for an image x and a target class t, find the r that minimises

    ||r||^2 + c * loss(f(x + r), t)    subject to    0 <= x + r <= 1

by box-constrained L-BFGS, and search c: grow it until the solve fools the model, then bisect it
between the largest failing and the smallest succeeding c, keeping the smallest successful r.

This module does exactly that, one (image, target) problem at a time, in float64 numpy, with no
batching, no warm starts between c values and no c estimates, so that anyone can follow it:

- ``solve_at_c``: a projected L-BFGS (L-BFGS-B without the Cauchy point): the variables at a bound
  whose gradient pushes outwards are held fixed; on the others the two-loop recursion over the last
  ``memory`` (s, y) pairs gives the direction; a backtracking (Armijo) line search along the
  projected path ``clip(x + a d, 0, 1)``. It stops when the projected gradient's largest entry is
  below ``pg_tol``, when an iteration lowers f by less than ``f_rel_tol`` relative to f, or after
  ``max_iter`` iterations.
- ``minimal_search``: c starts at ``c_start`` and grows x``c_grow`` until a solve fools the model
  (or passes ``c_max``: failure), then the bracket [largest failing c, smallest succeeding c] is
  bisected in log space until hi / lo <= 1 + ``c_rel_width``.

The loss is the engine's own (advviewer.attack.objective): the paper's cross-entropy of the
softmax against the target, or the rival loss (the target against its strongest rival, at the
temperature minimal mode starts with). Success is judged as everywhere else: the float32 image is
classified as the target. It is slow by design; ``lbfgs_attack(..., engine="reference")`` runs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from advviewer.attack.answers import Solved
from advviewer.attack.c_rounds import SHARPEN_FACTOR, SHARPEN_GAP
from advviewer.attack.objective import PAPER_LOSS, RIVAL_LOSS, backward, cross_entropy, network_pass, rival_loss

Hook = Callable[[int, float, np.ndarray, np.ndarray], None]  # (iteration, c, x, logits) after every iteration


@dataclass(frozen=True)
class ReferenceOptions:
    """Every knob of the reference method, with the values it is run with."""

    max_iter: int = 500  # L-BFGS iterations per solve
    memory: int = 10  # (s, y) pairs kept
    pg_tol: float = 1e-7  # stop: largest entry of the projected gradient
    f_rel_tol: float = 1e-12  # stop: (f_old - f_new) <= f_rel_tol * max(|f_old|, |f_new|, 1)
    armijo: float = 1e-4  # sufficient decrease constant of the line search
    max_halvings: int = 40  # line search: step halvings before giving up
    c_start: float = 1e-2  # minimal mode: the first c
    c_min: float = 1e-8  # minimal mode: c does not shrink below this (a start that fools the model at every c)
    c_grow: float = 10.0  # minimal mode: c is multiplied by this until the solve fools the model
    c_max: float = 1e6  # minimal mode: no success up to here is a failure
    c_rel_width: float = 1e-3  # minimal mode: bisect until hi / lo <= 1 + c_rel_width
    max_evaluations: int | None = None  # model evaluations per problem; then the smallest success seen is the answer
    sharpen: bool = True  # the rival loss sharpened where two rivals tie at the answer (as the engine: Strategies)


class BudgetSpent(Exception):
    """A problem has spent ``max_evaluations``."""


@dataclass
class Problem:
    """One image and its target, and the loss to solve it with (``tau``: the rival loss's temperature, None: paper's)."""

    model: nn.Module
    device: torch.device
    x0: np.ndarray  # (n,) float64: the image, flattened
    target: int
    input_shape: tuple[int, ...]  # what the model takes per image
    tau: float | None = None
    max_evaluations: int | None = None
    goal: float = 0.0  # the logit margin an answer must reach (a required confidence; 0: the decision boundary)
    evaluations: int = 0  # forward+backward passes so far
    iterations: int = 0  # L-BFGS iterations so far, over every solve
    smallest_success: tuple[float, np.ndarray, float] | None = None  # (l2, x, c) of the smallest point seen that fools it

    @property
    def loss_name(self) -> str:
        return PAPER_LOSS if self.tau is None else RIVAL_LOSS

    def evaluate(self, c: float, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """f = ||x - x0||^2 + c * loss at x (float64), its gradient, and the model's logits for float32 x."""
        if self.max_evaluations is not None and self.evaluations >= self.max_evaluations:
            raise BudgetSpent
        self.evaluations += 1
        xf, out = network_pass(self.model, torch.from_numpy(x[None]).to(self.device), self.input_shape)
        z = out.detach().to(torch.float64)
        t = torch.tensor([self.target]).to(z.device)
        if self.tau is None:
            loss, dz = cross_entropy(z, t)
        else:
            shift = torch.tensor([self.goal], dtype=torch.float64).to(z.device) if self.goal else None
            loss, dz = rival_loss(z, t, torch.tensor([self.tau], dtype=torch.float64).to(z.device), shift)
        r = x - self.x0
        g = backward(out, xf, c * dz)[0].cpu().numpy() + 2.0 * r
        z_host = z[0].cpu().numpy()
        self._remember(x, c, z_host)
        return float(r @ r + c * float(loss[0])), g, z_host

    def fooled(self, z: np.ndarray) -> bool:
        """The model answers the target at logits ``z`` (K,), by the required margin if there is one."""
        if self.goal <= 0:
            return int(z.argmax()) == self.target
        return float(z[self.target] - np.delete(z, self.target).max()) >= self.goal

    def _remember(self, x: np.ndarray, c: float, z: np.ndarray) -> None:
        """Keep the smallest point seen that fools the model (the answer if the budget runs out)."""
        if not self.fooled(z):
            return
        l2 = float(np.linalg.norm(x.astype(np.float32) - self.x0))
        if self.smallest_success is None or l2 < self.smallest_success[0]:
            self.smallest_success = (l2, x.copy(), c)


@dataclass
class Solve:
    """The answer of one solve at one c."""

    x: np.ndarray  # (n,) float64 in [0, 1]
    c: float
    success: bool  # the float32 image is classified as the target
    l2: float
    iterations: int
    tau: float | None  # the rival loss's temperature it was solved at (None: the paper's loss)
    z: np.ndarray  # (K,) the logits at x


@dataclass
class Memory:
    """The last (s, y) pairs of L-BFGS."""

    size: int
    s: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)

    def add(self, s: np.ndarray, y: np.ndarray) -> None:
        if s @ y <= 1e-12 * (y @ y):  # not a curvature pair (keeps the inverse Hessian positive definite)
            return
        self.s.append(s)
        self.y.append(y)
        if len(self.s) > self.size:
            self.s.pop(0)
            self.y.pop(0)

    def direction(self, g: np.ndarray, free: np.ndarray) -> np.ndarray:
        """-H g over the free variables (two-loop recursion with the pairs restricted to them), 0 on the fixed ones."""
        q = np.where(free, g, 0.0)
        pairs = [(s * free, y * free) for s, y in zip(self.s, self.y)]
        pairs = [(s, y) for s, y in pairs if s @ y > 1e-12 * (y @ y)]
        alphas = []
        for s, y in reversed(pairs):
            a = (s @ q) / (s @ y)
            alphas.append(a)
            q = q - a * y
        if pairs:
            s, y = pairs[-1]
            q = q * ((s @ y) / (y @ y))
        for (s, y), a in zip(pairs, reversed(alphas)):
            b = (y @ q) / (s @ y)
            q = q + (a - b) * s
        return -q


def projected_gradient(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The step to the box's nearest point along -g: zero exactly at a box-constrained stationary point."""
    return x - np.clip(x - g, 0.0, 1.0)


def free_variables(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Variables not held at a bound (a variable at 0 with g > 0, or at 1 with g < 0, is held)."""
    return ~(((x <= 0.0) & (g > 0.0)) | ((x >= 1.0) & (g < 0.0)))


def line_search(problem: Problem, c: float, x: np.ndarray, f: float, g: np.ndarray, d: np.ndarray, opts: ReferenceOptions):
    """Backtracking along the projected path clip(x + a d): the first a = 1, 1/2, ... with Armijo's decrease, or None."""
    a = 1.0
    for _ in range(opts.max_halvings):
        x_new = np.clip(x + a * d, 0.0, 1.0)
        f_new, g_new, z_new = problem.evaluate(c, x_new)
        if f_new <= f + opts.armijo * (g @ (x_new - x)):
            return x_new, f_new, g_new, z_new
        a *= 0.5
    return None


def solve_at_c(problem: Problem, c: float, start: np.ndarray, opts: ReferenceOptions, hook: Hook | None = None) -> Solve:
    """Minimise ||x - x0||^2 + c * loss over the box by projected L-BFGS from ``start``."""
    x = np.clip(start.astype(np.float64), 0.0, 1.0)
    f, g, z = problem.evaluate(c, x)
    memory = Memory(opts.memory)
    iterations = 0
    while iterations < opts.max_iter and np.abs(projected_gradient(x, g)).max() > opts.pg_tol:
        free = free_variables(x, g)
        d = memory.direction(g, free)
        if g @ d >= 0.0:  # not a descent direction: steepest descent over the free variables
            d = -np.where(free, g, 0.0)
        step = line_search(problem, c, x, f, g, d, opts)
        if step is None:
            break
        x_new, f_new, g_new, z = step
        iterations += 1
        memory.add(x_new - x, g_new - g)
        decrease = f - f_new
        x, f, g = x_new, f_new, g_new
        if hook is not None:
            hook(iterations, c, x, z)
        if decrease <= opts.f_rel_tol * max(abs(f), abs(f + decrease), 1.0):
            break
    problem.iterations += iterations
    l2 = float(np.linalg.norm(x.astype(np.float32) - problem.x0))
    return Solve(x, c, problem.fooled(z), l2, iterations, problem.tau, z)


def rivals_blurred(problem: Problem, solve: Solve) -> bool:
    """Whether the rival loss's soft maximum still blurs the two strongest rivals at ``solve``'s answer: they are
    within SHARPEN_GAP temperatures of each other (the engine's rule, advviewer.attack.c_rounds)."""
    if solve.tau is None:
        return False
    others = np.delete(solve.z, problem.target)
    second, first = np.sort(others)[-2:]
    return bool(first - second < SHARPEN_GAP * solve.tau)


def minimal_search(problem: Problem, start: np.ndarray, opts: ReferenceOptions, hook: Hook | None = None) -> Solve:
    """The paper's line search on c: grow c until a solve succeeds, then bisect; the smallest successful answer.

    Every solve starts from ``start``. With no success up to ``c_max`` the last (largest c) solve is returned.
    """
    lo, last = grow_c(problem, start, opts, hook)
    if not last.success:
        return last
    best = last
    hi = last.c
    while lo > 0.0 and hi / lo > 1.0 + opts.c_rel_width:
        mid = math.sqrt(lo * hi)  # bisection in log space
        trial = solve_at_c(problem, mid, start, opts, hook)
        if trial.success:
            hi = mid
            best = trial if trial.l2 < best.l2 else best
        else:
            lo = mid
    return best


def sharpened_solve(problem: Problem, c: float, start: np.ndarray, opts: ReferenceOptions, hook: Hook | None) -> Solve:
    """A fixed-c solve; with the rival loss blurring two rivals at the answer, solved on from it at a
    SHARPEN_FACTOR times smaller temperature (once), as the engine's fixed-c solve does."""
    solve = solve_at_c(problem, c, start, opts, hook)
    if not opts.sharpen or not rivals_blurred(problem, solve):
        return solve
    problem.tau = solve.tau / SHARPEN_FACTOR  # type: ignore[operator]  # (rivals_blurred: not None)
    return solve_at_c(problem, c, solve.x, opts, hook)


def sharpened_search(problem: Problem, start: np.ndarray, opts: ReferenceOptions, hook: Hook | None) -> Solve:
    """The minimal search; with the rival loss blurring two rivals at its answer, searched again at a
    SHARPEN_FACTOR times smaller temperature (once, as the engine does), keeping the smaller successful answer."""
    first = minimal_search(problem, start, opts, hook)
    if not opts.sharpen or not rivals_blurred(problem, first):
        return first
    problem.tau = first.tau / SHARPEN_FACTOR  # type: ignore[operator]  # (rivals_blurred: not None)
    second = minimal_search(problem, start, opts, hook)
    if second.success and (not first.success or second.l2 < first.l2):
        return second
    return first


def grow_c(problem: Problem, start: np.ndarray, opts: ReferenceOptions, hook: Hook | None) -> tuple[float, Solve]:
    """The bracket's ends: the largest failing c (0: c_start already fools the model -- then c shrinks by ``c_grow``
    down to ``c_min`` while it still does) and the solve at the smallest succeeding c (or the last failure)."""
    c = opts.c_start
    last = solve_at_c(problem, c, start, opts, hook)
    while last.success and c / opts.c_grow >= opts.c_min:
        trial = solve_at_c(problem, c / opts.c_grow, start, opts, hook)
        if not trial.success:
            return c / opts.c_grow, last
        c, last = c / opts.c_grow, trial
    failing_c = 0.0
    while not last.success and c * opts.c_grow <= opts.c_max:
        failing_c = c
        c *= opts.c_grow
        last = solve_at_c(problem, c, start, opts, hook)
    return failing_c, last


def reference_answers(model: nn.Module, problems, cs: np.ndarray | None, tau: np.ndarray, hook=None,
                      opts: ReferenceOptions | None = None) -> list[Solved]:
    """Every problem p (``problems``: advviewer.attack.runs.Problems) solved alone from its start point.

    ``cs``: one c per problem (a fixed-c solve), or None (minimal search); ``tau[p]``: the rival loss's temperature,
    NaN for the paper's loss. ``hook``: the engine's progress hook (advviewer.attack.runs.progress_hook) or None.
    """
    opts = opts or ReferenceOptions()
    found = []
    for p in range(len(problems.target)):
        x0 = problems.x0[p].cpu().numpy()
        problem = Problem(model, problems.x0.device, x0, int(problems.target[p]), problems.input_shape,
                          None if np.isnan(tau[p]) else float(tau[p]), opts.max_evaluations,
                          0.0 if problems.goal is None else float(problems.goal[p]))
        start = problems.start[p].cpu().numpy()
        report = _report(hook, p)
        try:
            if cs is None:
                solve = sharpened_search(problem, start, opts, report)
            else:
                solve = sharpened_solve(problem, float(cs[p]), start, opts, report)
            x, c, tau_p = solve.x, solve.c, solve.tau
        except BudgetSpent:
            x, c = (problem.smallest_success[1], problem.smallest_success[2]) if problem.smallest_success else (start, 0.0)
            tau_p = problem.tau
        found.append(Solved(x=torch.from_numpy(x).to(problems.x0.device), c=c, row=-1, evaluations=problem.evaluations,
                            iterations=problem.iterations, loss=problem.loss_name, tau=tau_p))
    return found


def _report(hook, p: int) -> Hook | None:
    """The engine's progress hook, for problem ``p`` alone."""
    if hook is None:
        return None
    done = [0]

    def report(iteration: int, c: float, x: np.ndarray, z: np.ndarray) -> None:
        done[0] += 1
        hook(done[0], np.array([p]), np.array([p]), np.array([c]), x[None], z[None])

    return report
