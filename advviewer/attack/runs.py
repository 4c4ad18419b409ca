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

from advviewer.attack.answers import Solved
from advviewer.attack.box_lbfgs import BoxLBFGS, Finished, Trial
from advviewer.attack.c_bracket import Bracket, SearchOptions
from advviewer.attack.c_rounds import MAX_SHARPEN, SHARPEN_FACTOR, SHARPEN_GAP, two_strongest_rivals
from advviewer.attack.c_search import History, SearchProblems, minimal_search
from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import PAPER_LOSS, RIVAL_LOSS, PenaltyObjective, as_tensor, initial_tau, margin_np
from advviewer.attack.result import AttackCancelled, AttackProgress
from advviewer.attack.warm_states import rescaled


@dataclass(frozen=True)
class SolverState:
    """Where a solve ended, enough to continue it exactly at another c (same image, target and loss)."""

    x: torch.Tensor  # (n,) float64, on float32's grid, on the solver's device
    f: float
    g: torch.Tensor  # (n,) float64
    z: np.ndarray  # (K,) logits
    S: torch.Tensor  # (m, n) float32 curvature pairs
    Y: torch.Tensor
    theta: float
    c: float
    loss: str
    tau: float | None
    target: int


@dataclass(frozen=True)
class Problems:
    """The (image, target) problems of one call: images (P, n) and start points on the solver's device, targets, the
    logits at the images (host), each problem's image, and the shape the network takes per image."""

    x0: torch.Tensor
    target: np.ndarray
    z0: np.ndarray
    start: torch.Tensor
    img_of: np.ndarray
    input_shape: tuple[int, ...]  # what the network takes per image
    image_shape: tuple[int, ...]  # the images as the caller gave them (progress reports them so)
    goal: np.ndarray | None = None  # (P,) each problem's required logit margin (objective.margin_goal; None: 0)


def progress_hook(callback, cancel, problems: Problems):
    """The solver's per-iteration hook: cancellation, and progress for the most advanced solve."""
    if callback is None and cancel is None:
        return None
    img_of, target = problems.img_of, problems.target
    n_images = int(img_of.max()) + 1 if img_of.size else 0

    def hook(iteration, rows, which, cs, x, z, settled=None):
        if cancel is not None and cancel.is_set():
            raise AttackCancelled("attack cancelled")
        if callback is None:
            return
        t = target[which]
        xh = x.cpu().numpy() if isinstance(x, torch.Tensor) else x
        zh = z.cpu().numpy() if isinstance(z, torch.Tensor) else z
        l2 = np.linalg.norm(xh - problems.x0[torch.as_tensor(which)].cpu().numpy(), axis=1)
        e = np.exp(zh - zh.max(1, keepdims=True))
        prob = e[np.arange(len(t)), t] / e.sum(1)
        ok = margin_np(zh, t) > (0.0 if problems.goal is None else problems.goal[which])
        # report the smallest successful iterate, else the one closest to its target
        i = int(np.where(ok, l2, np.inf).argmin()) if ok.any() else int(prob.argmax())
        adv = xh[i].astype(np.float32).reshape(problems.image_shape)
        done = None if settled is None else n_images - np.unique(img_of[~settled]).size  # images with every problem final
        callback(AttackProgress(int(iteration), float(cs[i]), float(l2[i]), float(prob[i]), int(img_of[which[i]]), adv, done))

    return hook


def run_minimal(model, problems: Problems, opts: SearchOptions, hook, history, keep_state: bool):
    """Minimal mode for every problem: per problem its :class:`Solved` and when it was settled."""
    search = SearchProblems(problems.x0, problems.target, problems.z0, problems.input_shape, problems.start,
                            problems.img_of, problems.goal)
    b = minimal_search(model, search, opts, hook=hook, history=history)
    loss = RIVAL_LOSS if opts.refine else PAPER_LOSS
    return [_searched(b, p, loss, opts.refine, keep_state) for p in range(len(problems.target))], b.settled_at


def _searched(b: Bracket, p: int, loss: str, refine: bool, keep_state: bool) -> Solved:
    """Problem ``p``'s answer from its bracket: the best success, else the largest failing c's solve."""
    ok = bool(b.success[p])
    row = int(b.best_parent[p]) if ok else int(b.lo_parent[p])
    x = b.best_x[p] if ok else b.lo_x[p]
    c = float(b.best_c[p]) if ok else float(b.lo_c[p])
    tau = float(b.tau[p]) if refine else None
    state = None
    if keep_state and row in b.states:
        f, g, S, Y, theta, z = b.states[row]
        state = SolverState(x, f, g, z.cpu().numpy(), S, Y, theta, c, loss, tau, int(b.target[p]))
    return Solved(x=x, c=c, row=row, evaluations=int(b.evaluations[p]), iterations=int(b.iterations[p]), loss=loss,
                  tau=tau, state=state)


@dataclass(frozen=True)
class FixedLosses:
    """Each fixed-c problem's loss: whether it is the rival loss, and that loss's temperature (NaN: none)."""

    rival: np.ndarray  # (P,) bool
    tau: np.ndarray  # (P,) float64
    first_tau: np.ndarray  # (P,) float64: the temperature a rival-loss solve starts with (objective.initial_tau)


def fixed_losses(objective: str | None, previous, target: np.ndarray, z0: np.ndarray, goal=None) -> FixedLosses:
    """The loss of every fixed-c problem: the ``objective``'s, or (None) its previous result's where that is the
    rival loss towards the same target (the slider stays on its path), else the paper's.

    A rival-loss problem continues its previous result's temperature when that result is of the rival loss
    towards the same target (the same path; a minimal search may have sharpened it), else it starts at the
    one minimal mode starts with (objective.initial_tau), so a fixed-c solve and a minimal search agree.
    """
    same_path = np.array([prev is not None and prev.loss == RIVAL_LOSS and prev.target == t and prev.tau is not None
                          for prev, t in zip(previous, target.tolist())], dtype=bool)
    rival = np.full(len(target), objective == "rival") if objective is not None else same_path
    first_tau = initial_tau(z0, target, goal=goal)
    tau = np.where(rival, first_tau, np.nan)
    for p in np.flatnonzero(rival & same_path):
        tau[p] = previous[p].tau
    return FixedLosses(rival, tau, first_tau)


def run_fixed(model, problems: Problems, cs: np.ndarray, previous, losses: FixedLosses, solver: SolverOptions, hook,
              history, keep_state: bool, max_evaluations: int | None = None, sharpen: bool = True):
    """One solve per problem at its c with its loss (fixed_losses); a previous result's state of the same loss is continued.

    The rival loss follows minimal mode's rule (c_rounds.sharpen): where the two strongest rivals at
    the answer are within SHARPEN_GAP temperatures of each other, the soft maximum still blurs them,
    and the problem is solved on from its answer at a SHARPEN_FACTOR times smaller temperature (once);
    so a fixed-c solve at the c a minimal search found gives that search's answer (``sharpen`` False: never).
    """
    P = len(problems.target)
    fixed = _FixedRun(model, problems, cs, solver, hook, history, keep_state, max_evaluations, [None] * P, np.zeros(P))
    paper = np.flatnonzero(~losses.rival)
    if paper.size:
        fixed.solve(paper, None, problems.start[paper], [previous[p] for p in paper], [-1] * paper.size)
    rival = np.flatnonzero(losses.rival)
    if rival.size:
        tau = losses.tau.copy()
        fixed.solve(rival, tau[rival], problems.start[rival], [previous[p] for p in rival], [-1] * rival.size)
        may_sharpen = sharpen & (tau[rival] > 1.5 * losses.first_tau[rival] / SHARPEN_FACTOR ** MAX_SHARPEN)  # not yet
        blurred = rival[may_sharpen & _rivals_close(fixed.final_z(rival), problems.target[rival], tau[rival])]
        if blurred.size:
            fixed.sharpen(blurred, tau)
    return fixed.out, fixed.settled


def _rivals_close(z: np.ndarray, target: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Whether the two strongest classes other than the target are within SHARPEN_GAP temperatures, per row: the
    minimal search's rule (c_rounds._rivals_blurred), applied to each fixed-c answer."""
    close = []
    for row, t, temperature in zip(z, target.tolist(), tau.tolist()):
        strongest, runner_up = two_strongest_rivals(row, t)
        close.append(float(strongest - runner_up) < SHARPEN_GAP * temperature)
    return np.array(close, dtype=bool)


@dataclass
class _FixedRun:
    """The fixed-c solves of one call: what every group of problems shares, and the answers so far."""

    model: nn.Module
    problems: Problems
    cs: np.ndarray
    solver: SolverOptions
    hook: Callable[..., None] | None  # progress_hook's
    history: History | None
    keep_state: bool
    max_evaluations: int | None
    out: list  # per problem: its Solved (None until solved)
    settled: np.ndarray  # per problem: when its answer was final (perf_counter)

    def final_z(self, which: np.ndarray) -> np.ndarray:
        return np.stack([self.out[p].z for p in which])

    def sharpen(self, blurred: np.ndarray, tau: np.ndarray) -> None:
        """Solve ``blurred`` on from their answers at a SHARPEN_FACTOR times smaller temperature (their work adds up)."""
        P = len(self.problems.target)
        tau[blurred] /= SHARPEN_FACTOR
        first = [self.out[p] for p in blurred]
        self.solve(blurred, tau[blurred], torch.stack([f.x for f in first]), [None] * blurred.size, [f.row for f in first],
                   history_offset=P)
        for p, f in zip(blurred, first):
            self.out[p].evaluations += f.evaluations
            self.out[p].iterations += f.iterations

    def solve(self, which: np.ndarray, taus: np.ndarray | None, x_start: torch.Tensor, previous: list, parents: list[int],
              history_offset: int = 0) -> None:
        """Solve problems ``which`` (the rival loss at ``taus``, or the paper's: None) from ``x_start``, into ``out``."""
        rows = which.tolist()
        pr, cs, history, hook = self.problems, self.cs, self.history, self.hook
        dev = pr.x0.device
        sel = torch.from_numpy(which).to(dev)
        goal = None if pr.goal is None else as_tensor(pr.goal[which], dev)
        obj = PenaltyObjective(self.model, pr.x0[sel], as_tensor(pr.target[which], dev), pr.input_shape,
                               rival=taus is not None, goal=goal)
        ids = obj.add_rows(np.arange(len(rows)), cs[which], taus)
        if history is not None:
            history.begin([p + history_offset for p in rows], parents, cs[which].tolist())

        def on_iteration(it, r, x, f, z):
            r = r.cpu().numpy()
            if history is not None:
                history.add(which[r] + history_offset, x)
            if hook is not None:
                hook(it, r, which[obj.problem[r]], obj.c[r], x, z)

        pool = BoxLBFGS(obj, self.solver, on_iteration if (history is not None or hook is not None) else None)
        _start(pool, ids, which, pr, x_start, cs, previous, taus)
        loss = PAPER_LOSS if taus is None else RIVAL_LOSS
        while len(pool):
            fin = pool.step()
            if fin is None and self.max_evaluations is not None:
                fin = _over_budget(pool, self.max_evaluations)
            if fin is not None:
                self.record(fin, which, taus, loss, history_offset)

    def record(self, fin: Finished, which: np.ndarray, taus: np.ndarray | None, loss: str, history_offset: int) -> None:
        """Finished solves into ``out``."""
        now = time.perf_counter()
        z, f, theta = fin.aux.cpu().numpy(), fin.f.cpu().numpy(), fin.theta.cpu().numpy()  # (one copy to the host each)
        evaluations, iterations = fin.evaluations.cpu().numpy(), fin.iterations.cpu().numpy()
        for j, row in enumerate(fin.ids.cpu().tolist()):
            p = int(which[row])
            self.settled[p] = now
            tau = None if taus is None else float(taus[row])
            state = SolverState(fin.x[j], float(f[j]), fin.g[j], z[j], fin.S[j], fin.Y[j], float(theta[j]), float(self.cs[p]),
                                loss, tau, int(self.problems.target[p])) if self.keep_state else None
            self.out[p] = Solved(x=fin.x[j], c=float(self.cs[p]), row=p + history_offset if self.history is not None else -1,
                                 evaluations=int(evaluations[j]), iterations=int(iterations[j]), loss=loss, tau=tau,
                                 state=state, z=z[j])


def _over_budget(pool: BoxLBFGS, budget: int) -> Finished | None:
    """Fixed-c solves that have spent ``budget`` model evaluations end where they are."""
    over = pool.active.evals >= budget
    if not bool(over.any()):
        return None
    return pool.drop(pool.active.ids[over].tolist())


def _start(pool: BoxLBFGS, ids, which: np.ndarray, pr: Problems, x_start: torch.Tensor, cs, previous,
           taus: np.ndarray | None) -> None:
    """Rows whose previous result carries a state of the same loss continue it; the others start from their point.

    ``taus``: the rows' rival-loss temperatures, None for the paper's loss.
    """
    carried = [j for j, (p, prev) in enumerate(zip(which.tolist(), previous))
               if _continues(prev, pr, p, None if taus is None else float(taus[j]))]
    fresh = [j for j in range(len(which)) if j not in set(carried)]
    if fresh:
        pool.add(ids[fresh], x_start[fresh])
    if carried:
        parts = []
        for j in carried:
            st = previous[j].state
            parts.append(rescaled((st.f, st.g, st.S, st.Y, st.theta), st.x, pr.x0[int(which[j])], st.c, float(cs[which[j]])))
        dev = x_start.device
        f = torch.tensor([part[0] for part in parts], dtype=torch.float64).to(dev)
        g, S, Y = (torch.stack([part[k] for part in parts]) for k in (1, 2, 3))
        theta = torch.tensor([part[4] for part in parts], dtype=torch.float64).to(dev)
        aux = torch.from_numpy(np.stack([previous[j].state.z for j in carried])).to(dev)
        x = torch.stack([previous[j].state.x for j in carried])

        def memory(W: torch.Tensor):
            m = S.shape[1]
            W[:, m:], W[:, :m] = S, Y
            return theta, None

        pool.add(ids[carried], x, start=Trial(x, f, g, aux), memory=memory)


def _continues(prev, pr: Problems, p: int, tau: float | None) -> bool:
    """Whether a previous result's solver state continues exactly: the same loss, temperature, target and image."""
    st = getattr(prev, "state", None)
    if st is None or (st.loss == RIVAL_LOSS) != (tau is not None) or st.target != int(pr.target[p]) or st.tau != tau:
        return False
    if prev.original is None or st.x.device != pr.x0.device:
        return False
    original = prev.original.detach().cpu().numpy() if isinstance(prev.original, torch.Tensor) else prev.original
    return bool(np.array_equal(np.asarray(original, dtype=np.float64).reshape(-1), pr.x0[p].cpu().numpy()))
