"""The two modes on the solver -- minimal (the c search) and fixed c -- and the per-iteration hook.

Every solve ends with a :class:`SolverState` (its point, value, gradient, curvature memory, c and
loss). A result keeps it (for small calls) so that a fixed-c solve warm-started from the result
-- the window's slider -- begins with everything carried over to its c: f, g and the curvature
pairs of ||r||^2 + c * loss are linear in c, so the first step is already the tangent of the
path, and a step of 10% in c takes a few iterations instead of a cold start's dozens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advviewer.attack.box_lbfgs import BoxLBFGS
from advviewer.attack.c_bracket import SearchOptions
from advviewer.attack.c_rounds import MAX_SHARPEN, SHARPEN_FACTOR, SHARPEN_GAP
from advviewer.attack.c_search import History, minimal_search
from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import PAPER_LOSS, RIVAL, RIVAL_LOSS, PenaltyObjective, initial_tau, margin
from advviewer.attack.result import AttackCancelled, AttackProgress
from advviewer.attack.warm_states import rescaled


@dataclass(frozen=True)
class SolverState:
    """Where a solve ended, enough to continue it exactly at another c (same image, target and loss)."""

    x: np.ndarray  # (784,) float64, on float32's grid
    f: float
    g: np.ndarray  # (784,) float64
    z: np.ndarray  # (10,) logits
    S: np.ndarray  # (m, 784) float32 curvature pairs
    Y: np.ndarray
    theta: float
    c: float
    loss: str
    tau: float | None
    target: int


def progress_hook(callback, cancel, x0: np.ndarray, target: np.ndarray, img_of: np.ndarray):
    """The solver's per-iteration hook: cancellation, and progress for the most advanced solve."""
    if callback is None and cancel is None:
        return None

    n_images = int(img_of.max()) + 1 if img_of.size else 0

    def hook(iteration, rows, problems, cs, x, z, settled=None):
        if cancel is not None and cancel.is_set():
            raise AttackCancelled("attack cancelled")
        if callback is None:
            return
        t = target[problems]
        l2 = np.linalg.norm(x - x0[problems], axis=1)
        e = np.exp(z - z.max(1, keepdims=True))
        prob = e[np.arange(len(t)), t] / e.sum(1)
        ok = margin(z, t) > 0
        # report the smallest successful iterate, else the one closest to its target
        i = int(np.where(ok, l2, np.inf).argmin()) if ok.any() else int(prob.argmax())
        adv = x[i].astype(np.float32).reshape(28, 28)
        done = None if settled is None else n_images - np.unique(img_of[~settled]).size  # images with every problem final
        callback(AttackProgress(int(iteration), float(cs[i]), float(l2[i]), float(prob[i]), int(img_of[problems[i]]), adv,
                                done))

    return hook


def run_minimal(model, x0, target, z0, start, opts: SearchOptions, hook, history, groups, device, keep_state: bool):
    """Minimal mode for every problem: per problem its answer (dict) and when it was settled."""
    b = minimal_search(model, x0, target, z0, opts, hook=hook, history=history, start=start, groups=groups, device=device)
    loss = RIVAL_LOSS if opts.refine else PAPER_LOSS
    out = []
    for p in range(x0.shape[0]):
        ok = bool(b.success[p])
        row = int(b.best_parent[p]) if ok else int(b.lo_parent[p])
        tau = float(b.tau[p]) if opts.refine else None
        state = None
        if keep_state and row in b.states:
            f, g, S, Y, theta, z = b.states[row][:6]
            x = b.best_x[p] if ok else b.lo_x[p]
            state = SolverState(x, float(f), g, z, S, Y, float(theta), float(b.best_c[p] if ok else b.lo_c[p]), loss, tau,
                                int(target[p]))
        out.append(dict(x=b.best_x[p] if ok else b.lo_x[p], c=float(b.best_c[p]) if ok else float(b.lo_c[p]), row=row,
                        evaluations=int(b.evaluations[p]), iterations=int(b.iterations[p]), loss=loss, tau=tau, state=state))
    return out, b.settled_at


@dataclass(frozen=True)
class FixedLosses:
    """Each fixed-c problem's loss: whether it is the rival loss, and that loss's temperature (NaN: none)."""

    rival: np.ndarray  # (P,) bool
    tau: np.ndarray  # (P,) float64
    first_tau: np.ndarray  # (P,) float64: the temperature a rival-loss solve starts with (objective.initial_tau)


def fixed_losses(objective: str | None, previous, target: np.ndarray, z0: np.ndarray) -> FixedLosses:
    """The loss of every fixed-c problem: the ``objective``'s, or (None) its previous result's where that is the
    rival loss towards the same target (the slider stays on its path), else the paper's.

    A rival-loss problem continues its previous result's temperature when that result is of the rival loss
    towards the same target (the same path; a minimal search may have sharpened it), else it starts at the
    one minimal mode starts with (objective.initial_tau), so a fixed-c solve and a minimal search agree.
    """
    same_path = np.array([prev is not None and prev.loss == RIVAL_LOSS and prev.target == t and prev.tau is not None
                          for prev, t in zip(previous, target.tolist())], dtype=bool)
    rival = np.full(len(target), objective == RIVAL) if objective is not None else same_path
    first_tau = initial_tau(z0, target)
    tau = np.where(rival, first_tau, np.nan)
    for p in np.flatnonzero(rival & same_path):
        tau[p] = previous[p].tau
    return FixedLosses(rival, tau, first_tau)


def run_fixed(model, x0, target, start, cs: np.ndarray, previous, losses: FixedLosses, solver: SolverOptions, hook, history,
              device, keep_state: bool):
    """One solve per problem at its c with its loss (fixed_losses); a previous result's state of the same loss is continued.

    The rival loss follows minimal mode's rule (c_rounds.sharpen): where the two strongest rivals at
    the answer are within SHARPEN_GAP temperatures of each other, the soft maximum still blurs them,
    and the problem is solved on from its answer at a SHARPEN_FACTOR times smaller temperature (once);
    so a fixed-c solve at the c a minimal search found gives that search's answer.
    """
    P = x0.shape[0]
    fixed = _FixedRun(model, x0, target, cs, solver, hook, history, device, keep_state, [{} for _ in range(P)], np.zeros(P))
    paper = np.flatnonzero(~losses.rival)
    if paper.size:
        fixed.solve(paper, None, start[paper], [previous[p] for p in paper], [-1] * paper.size)
    rival = np.flatnonzero(losses.rival)
    if rival.size:
        tau = losses.tau.copy()
        fixed.solve(rival, tau[rival], start[rival], [previous[p] for p in rival], [-1] * rival.size)
        may_sharpen = tau[rival] > 1.5 * losses.first_tau[rival] / SHARPEN_FACTOR ** MAX_SHARPEN  # not yet sharpened
        blurred = rival[may_sharpen & _rivals_close(fixed.final_z(rival), target[rival], tau[rival])]
        if blurred.size:
            tau[blurred] /= SHARPEN_FACTOR
            first = [fixed.out[p] for p in blurred]
            fixed.solve(blurred, tau[blurred], np.stack([f["x"] for f in first]), [None] * blurred.size,
                        [f["row"] for f in first], history_offset=P)
            for p, f in zip(blurred, first):
                fixed.out[p]["evaluations"] += f["evaluations"]
                fixed.out[p]["iterations"] += f["iterations"]
    return fixed.out, fixed.settled


def _rivals_close(z: np.ndarray, target: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Whether the two strongest classes other than the target are within SHARPEN_GAP temperatures (c_rounds.update)."""
    others = z.copy()
    others[np.arange(len(z)), target] = -np.inf
    top2 = np.sort(others, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) < SHARPEN_GAP * tau


@dataclass
class _FixedRun:
    """The fixed-c solves of one call: what every group of problems shares, and the answers so far."""

    model: nn.Module
    x0: np.ndarray
    target: np.ndarray
    cs: np.ndarray
    solver: SolverOptions
    hook: Callable[..., None] | None  # progress_hook's
    history: History | None
    device: torch.device
    keep_state: bool
    out: list[dict]  # per problem: its answer (x, c, row, evaluations, iterations, loss, tau, state, z)
    settled: np.ndarray  # per problem: when its answer was final (perf_counter)

    def final_z(self, problems: np.ndarray) -> np.ndarray:
        return np.stack([self.out[p]["z"] for p in problems])

    def solve(self, problems: np.ndarray, taus: np.ndarray | None, x_start: np.ndarray, previous: list, parents: list[int],
              history_offset: int = 0) -> None:
        """Solve ``problems`` (the rival loss at ``taus``, or the paper's: None) from ``x_start``, into ``out``."""
        rows = problems.tolist()
        target, cs, history, hook = self.target, self.cs, self.history, self.hook
        obj = PenaltyObjective(self.model, self.x0[problems], target[problems], rival=taus is not None, device=self.device)
        ids = obj.add_rows(np.arange(len(rows)), cs[problems], taus)
        if history is not None:
            history.begin([p + history_offset for p in rows], parents)

        def on_iteration(it, r, x, f, z):
            if history is not None:
                history.add(problems[r] + history_offset, x)
            if hook is not None:
                hook(it, r, problems[obj.problem[r]], obj.c[r], x, z)

        pool = BoxLBFGS(obj, self.solver, on_iteration)
        full_start = np.empty_like(self.x0)
        full_start[problems] = x_start
        _start(pool, ids, problems, target, full_start, self.x0, cs, previous, taus)
        loss = PAPER_LOSS if taus is None else RIVAL_LOSS
        while len(pool):
            fin = pool.step()
            if fin is None:
                continue
            now = time.perf_counter()
            for j, row in enumerate(fin.ids.tolist()):
                p = rows[row]
                self.settled[p] = now
                tau = None if taus is None else float(taus[row])
                state = SolverState(fin.x[j], float(fin.f[j]), fin.g[j], fin.aux[j], fin.S[j], fin.Y[j], float(fin.theta[j]),
                                    float(cs[p]), loss, tau, int(target[p])) if self.keep_state else None
                self.out[p] = dict(x=fin.x[j], c=float(cs[p]), row=p + history_offset if history is not None else -1,
                                   evaluations=int(fin.evaluations[j]), iterations=int(fin.iterations[j]), loss=loss, tau=tau,
                                   state=state, z=fin.aux[j])


def _start(pool: BoxLBFGS, ids, idx, target, start, x0, cs, previous, taus: np.ndarray | None) -> None:
    """Rows whose previous result carries a state of the same loss continue it; the others start from their point.

    ``taus``: the rows' rival-loss temperatures, None for the paper's loss.
    """
    carried: list[int] = []
    fresh: list[int] = []
    for j, (p, prev) in enumerate(zip(idx.tolist(), previous)):
        st = getattr(prev, "state", None)
        tau = None if taus is None else float(taus[j])
        same = (st is not None and (st.loss == RIVAL_LOSS) == (taus is not None) and st.target == int(target[p])
                and st.tau == tau and prev.original is not None
                and np.array_equal(prev.original.reshape(-1).astype(np.float64), x0[p]))
        (carried if same else fresh).append(j)
    if fresh:
        pool.add(ids[fresh], start[idx[fresh]])
    if carried:
        parts = []
        for j in carried:
            st = previous[j].state
            parts.append(rescaled((st.f, st.g, st.S, st.Y, st.theta), st.x, x0[idx[j]], st.c, float(cs[idx[j]])))
        f, g, S, Y, theta = (np.stack(v) for v in zip(*parts))
        aux = np.stack([previous[j].state.z for j in carried])
        x = np.stack([previous[j].state.x for j in carried])
        pool.add(ids[carried], x, start=(f, g, aux), memory=(S, Y, theta))
