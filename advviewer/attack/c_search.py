"""Minimal mode on the solver pool: every problem's next c joins the batch as soon as its last solve ends.

Warm starts. f and g of ||r||^2 + c * loss are linear in c, and so is every curvature pair
y = 2 s + c * dloss, so a finished solve's value, gradient and curvature memory carry over to
another c exactly (for the same loss). A new solve starts

- inside a bracket that closes in continuously: at the point interpolated (in log c) between
  the two ends' answers, which lies on the path to second order, with the nearer end's memory
  (one evaluation; the solve then often stops at once);
- otherwise at the nearer end's answer with everything carried over (no evaluation), or, after
  the loss was sharpened, with its memory only.

Several c values of one problem run at once (latency for one image); one that can no longer
change the bracket -- a larger c than a success, a smaller c than a failure -- leaves the batch
at once instead of being solved to the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from advviewer.attack.box_lbfgs import BoxLBFGS, Finished, Trial
from advviewer.attack.c_bracket import Bracket, SearchOptions, clip, initial_c, next_candidates
from advviewer.attack.c_rounds import RoundAnswer, update
from advviewer.attack.objective import PenaltyObjective, as_tensor, margin_np
from advviewer.attack.warm_states import EndStates

# a solve that only looks for the boundary (no success yet on its path) stops at a looser
# tolerance: its answer is a start point and a margin for the extrapolation, not a result.
# A later solve from that point finishes the job, so the answers stay the same.
LOOSE_DTOL = 3e-5
# every other solve of the search: its answer counts only through the bracket's margins and the
# best success, and the regula falsi in c corrects what a looser solve leaves: fewer evaluations
# than at the fixed-c solves' tolerance, for the same answers (benchmarks/results/code-comment-figures-20261205.md).
SEARCH_DTOL = 1e-5


class History:
    """Iterates of every solve (as images of the input's shape), the c each solve ran at, and which solve each one
    was warm-started from."""

    def __init__(self, input_shape: tuple[int, ...]) -> None:
        self.input_shape = input_shape
        self.parent: dict[int, int] = {}
        self.c: dict[int, float] = {}
        self.frames: dict[int, list[np.ndarray]] = {}

    def begin(self, rows: list[int], parents: list[int], cs) -> None:
        for row, parent, c in zip(rows, parents, cs):
            self.parent[row] = int(parent)
            self.c[row] = float(c)
            self.frames[row] = []

    def add(self, rows, x: torch.Tensor) -> None:
        frames = x.to(torch.float32).cpu().numpy().reshape(-1, *self.input_shape)
        for row, frame in zip(np.asarray(rows).tolist(), frames):
            self.frames[row].append(frame)

    def chain(self, row: int) -> list[np.ndarray]:
        """Every iterate on the way to solve ``row``, through the solves it was warm-started from."""
        out: list[np.ndarray] = []
        while row >= 0:
            out = self.frames[row] + out
            row = self.parent[row]
        return out

    def chain_c(self, row: int) -> list[float]:
        """The c of the solve that made each iterate of :meth:`chain` (the penalty constant a frame was solved at)."""
        out: list[float] = []
        while row >= 0:
            out = [self.c[row]] * len(self.frames[row]) + out
            row = self.parent[row]
        return out


@dataclass(frozen=True)
class Launch:
    """One solve the search starts: its problem and c, where it starts, and the finished solve it continues."""

    problem: int
    c: float
    start: torch.Tensor  # (n,) on the solver's device
    parent: int  # the objective row whose end state it starts from (-1: none)
    interpolated: bool  # ``start`` lies between the bracket's ends (a point of its own, not the parent's)


@dataclass(frozen=True)
class SearchProblems:
    """What the c search is given: the problems' images (P, n) on the solver's device, targets and logits (host),
    start points (None: the images), and each problem's group (the problems of one untargeted image compete)."""

    x0: torch.Tensor
    target: np.ndarray
    z0: np.ndarray
    input_shape: tuple[int, ...]
    start: torch.Tensor | None = None
    groups: np.ndarray | None = None
    goal: np.ndarray | None = None  # (P,) each problem's required logit margin (None: 0, the boundary)


class _Search:
    """The c search of every problem on one solver pool."""

    def __init__(self, model, problems: SearchProblems, opts: SearchOptions, hook, history) -> None:
        x0, target, z0, goal = problems.x0, problems.target, problems.z0, problems.goal
        self.b = b = Bracket(x0, target, z0, initial_c(model, x0, target, z0, problems.input_shape, goal), opts, goal)
        b.evaluations += 1  # the backward pass of initial_c (the forward pass is the caller's)
        if problems.start is not None:
            b.lo_x = problems.start.clone()
        self.first_x = b.lo_x.clone()  # each problem's start point
        self.x0, self.target, self.opts, self.history, self.groups = x0, target, opts, history, problems.groups
        self.obj = obj = PenaltyObjective(model, x0, as_tensor(target, x0.device), problems.input_shape, rival=opts.refine,
                                          goal=None if goal is None else as_tensor(b.goal, x0.device))

        def on_iteration(it, rows, x, f, z):
            if history is None and hook is None:
                return
            rows = rows.cpu().numpy()
            if history is not None:
                history.add(rows, x)
            if hook is not None:
                hook(it, rows, obj.problem[rows], obj.c[rows], x, z, settled=~np.isnan(b.settled_at))

        self.pool = BoxLBFGS(obj, opts.solver, on_iteration)
        self.members = _members(problems.groups)  # each group's problems
        P = x0.shape[0]
        self.rounds = np.zeros(P, dtype=np.int64)
        self.results: dict[int, list] = {p: [] for p in range(P)}  # this round's finished solves
        self.flying: dict[int, dict[int, float]] = {p: {} for p in range(P)}  # row -> c, still solving
        self.in_flight = np.zeros(P, dtype=np.int64)  # len(flying[p]), for vectorised tests
        # finished solves that are a bracket end (lo, hi, best: at most 3 per problem) or finished this round
        self.states = EndStates(capacity=4 * P)
        self.pool.memory_sink = self.states.keep_memory

    def run(self) -> Bracket:
        b, pool = self.b, self.pool
        self.launch(range(len(b.done)))
        while len(pool):
            fin = pool.step()
            if fin is not None:
                self.finish(fin)
            if self.opts.max_evaluations is not None:
                self.stop_over_budget()
        b.settled_at[np.isnan(b.settled_at)] = time.perf_counter()
        b.states = self.states
        return b

    def launch(self, problems) -> None:
        """Start the next round of every problem in ``problems``."""
        found = self.b.found  # once: next_candidates does not change the bracket
        plan = [self.launch_at(p, c, bool(found[p])) for p in problems for c in next_candidates(self.b, p, self.opts.candidates)]
        if not plan:
            return
        rows = self.obj.add_rows([e.problem for e in plan], [e.c for e in plan], self.b.tau[[e.problem for e in plan]])
        for e, row in zip(plan, rows.tolist()):
            self.flying[e.problem][row] = e.c
            self.in_flight[e.problem] += 1
        if self.history is not None:
            self.history.begin(rows.tolist(), [e.parent for e in plan], [e.c for e in plan])
            moved = [i for i, e in enumerate(plan) if e.interpolated]  # an interpolated start is a point of its own
            if moved:
                self.history.add(rows[moved], torch.stack([plan[i].start for i in moved]))
        self.start_solves(plan, rows, found)

    def launch_at(self, p: int, c: float, found: bool) -> Launch:
        """Where problem ``p``'s solve at ``c`` starts, and from which finished solve's state."""
        b = self.b
        if not self.opts.warm_starts:  # Strategies.warm_starts off: afresh from the problem's start point
            return Launch(p, c, self.first_x[p], -1, False)
        if b.polishing[p]:  # an end's answer, solved on from its own state
            hi = c == b.hi_c[p]
            return Launch(p, c, b.hi_x[p] if hi else b.lo_x[p], int(b.hi_parent[p] if hi else b.lo_parent[p]), False)
        if found and b.lo_c[p] > 0 and not b.jumped[p]:  # between the ends' answers, interpolated in log c
            w = float(clip(np.log(c / b.lo_c[p]) / np.log(b.hi_c[p] / b.lo_c[p]), 0.0, 1.0))
            parent = int(b.hi_parent[p] if w >= 0.5 else b.lo_parent[p])
            return Launch(p, c, b.lo_x[p] + w * (b.hi_x[p] - b.lo_x[p]), parent, True)
        near_hi = found and (b.lo_c[p] == 0 or abs(np.log(c / b.hi_c[p])) < abs(np.log(c / b.lo_c[p])))
        return Launch(p, c, b.hi_x[p] if near_hi else b.lo_x[p], int(b.hi_parent[p] if near_hi else b.lo_parent[p]), False)

    def start_solves(self, plan: list[Launch], rows: np.ndarray, found: np.ndarray) -> None:
        """The planned solves into the pool: with everything their parent's state carries (the same loss and a start
        on its point), with its memory only, or fresh."""
        b, obj = self.b, self.obj
        exact, memory_only, fresh = [], [], []
        for i, e in enumerate(plan):
            if e.parent not in self.states:
                fresh.append(i)
            elif e.interpolated or float(obj.tau[e.parent]) != b.tau[e.problem]:
                memory_only.append(i)
            else:
                exact.append(i)
        dtol = self.tolerances(plan, found)
        if exact:
            x, (f, g, aux, memory) = self.carried([plan[i] for i in exact])
            self.pool.add(rows[exact], x, start=Trial(x, f, g, aux), memory=memory, dtol=dtol[exact])
        if memory_only:
            x, (_, _, _, memory) = self.carried([plan[i] for i in memory_only])
            self.pool.add(rows[memory_only], x, memory=memory, dtol=dtol[memory_only])
        if fresh:
            self.pool.add(rows[fresh], torch.stack([plan[i].start for i in fresh]), dtol=dtol[fresh])

    def tolerances(self, plan: list[Launch], found: np.ndarray) -> np.ndarray:
        """Each solve's own tolerance: looser while no success is known, the fixed-c solves' for a bracket's ends
        solved on, else the search's."""
        solver_dtol = self.opts.solver.dtol
        return np.array([LOOSE_DTOL if not found[e.problem] else solver_dtol if self.b.polishing[e.problem]
                         else max(SEARCH_DTOL, solver_dtol) for e in plan])

    def carried(self, entries: list[Launch]) -> tuple:
        """The entries' start points, and their parents' states carried to each entry's c and point (EndStates.carried)."""
        parents = np.array([e.parent for e in entries])
        dev = self.x0.device
        q = torch.from_numpy(np.array([e.c for e in entries]) / self.obj.c[parents]).to(dev)
        x = torch.stack([e.start for e in entries])
        x0 = self.x0[torch.tensor([e.problem for e in entries]).to(dev)]
        return x, self.states.carried(parents, q, x, x0)

    def finish(self, fin: Finished) -> None:
        """Fold finished solves into their problems; a problem whose round is over gets its next one."""
        b, obj = self.b, self.obj
        ids = fin.ids.cpu().numpy()
        problems = obj.problem[ids]
        self.states.put(fin)
        z, margins, l2s = self.measured(fin.x, fin.aux, problems)
        np.add.at(b.evaluations, problems, fin.evaluations.cpu().numpy())
        np.add.at(b.iterations, problems, fin.iterations.cpu().numpy())
        for i, (row, p) in enumerate(zip(ids.tolist(), problems.tolist())):
            self.results[p].append(RoundAnswer(row, float(obj.c[row]), fin.x[i], z[i], float(margins[i]), float(l2s[i])))
            del self.flying[p][row]
            self.in_flight[p] -= 1
        for i, (row, p) in enumerate(zip(ids.tolist(), problems.tolist())):
            self.drop_dominated(p, float(obj.c[row]), bool(margins[i] >= b.min_margin[p]))
        ready = list(dict.fromkeys(p for p in problems.tolist() if not self.flying[p]))
        for p in ready:
            self.end_round(p)
        if ready:
            self.states.keep_only(np.concatenate([b.lo_parent, b.hi_parent, b.best_parent]))
        self.launch([p for p in ready if not b.done[p]])
        if ready:
            b.settled_at[b.done & (self.in_flight == 0) & np.isnan(b.settled_at)] = time.perf_counter()

    def measured(self, x: torch.Tensor, aux: torch.Tensor, problems: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Solves' logits (host), margins and L2 (as the network sees it, in float32) at once."""
        z = aux.cpu().numpy()
        x0 = self.x0[torch.from_numpy(problems).to(x.device)]
        l2s = torch.linalg.vector_norm(x.to(torch.float32) - x0.to(torch.float32), dim=1).cpu().numpy()
        return z, margin_np(z, self.target[problems]) - self.b.goal[problems], l2s

    def end_round(self, p: int) -> None:
        """Problem ``p``'s round is over: its answers move the bracket; is it done, or do its rivals stop?"""
        b = self.b
        update(b, p, self.results[p], self.opts)
        self.results[p] = []
        self.rounds[p] += 1
        b.done[p] |= self.rounds[p] >= self.opts.max_rounds
        budget = self.opts.max_evaluations
        if budget is not None:
            b.done[p] |= self.spent(np.array([p]))[0] >= budget
        if self.groups is not None:
            rivals = self.members[int(self.groups[p])]  # (over its members only: cheaper than a mask over all problems)
            b.done[rivals] |= (b.lo_l2[rivals] >= b.best_l2[rivals].min()) & (self.in_flight[rivals] == 0)

    def spent(self, problems: np.ndarray, in_pool: np.ndarray | None = None) -> np.ndarray:
        """Model evaluations spent on each of ``problems``' groups (an image's problems share a budget), finished solves
        and ``in_pool`` (evaluations per problem of the solves still running) together."""
        total = self.b.evaluations if in_pool is None else self.b.evaluations + in_pool
        if self.groups is None:
            return total[problems]
        return np.array([total[self.members[int(self.groups[p])]].sum() for p in problems.tolist()])

    def stop_over_budget(self) -> None:
        """Problems whose group has spent ``max_evaluations`` stop: their running solves end where they are (each
        point counts as an answer), and they start no other."""
        assert self.opts.max_evaluations is not None
        active = self.pool.active
        ids = active.ids.cpu().numpy()
        problems = self.obj.problem[ids]
        running = np.zeros(len(self.b.done))
        np.add.at(running, problems, active.evals.cpu().numpy())
        flying = np.unique(problems)
        over = flying[self.spent(flying, running) >= self.opts.max_evaluations]
        if not over.size:
            return
        gone = self.pool.drop(ids[np.isin(problems, over)].tolist())
        if gone is not None:
            self.fold_last_points(gone)
        now = time.perf_counter()
        for p in over.tolist():
            self.flying[p].clear()
            self.in_flight[p] = 0
            self.b.done[p] = True
            if np.isnan(self.b.settled_at[p]):
                self.b.settled_at[p] = now

    def fold_last_points(self, gone: Finished) -> None:
        """Solves stopped by the budget: their work counts, and a point of theirs that fools the model by the margin
        and is smaller than the best so far becomes the best."""
        b = self.b
        ids = gone.ids.cpu().numpy()
        problems = self.obj.problem[ids]
        z, margins, l2s = self.measured(gone.x, gone.aux, problems)
        np.add.at(b.evaluations, problems, gone.evaluations.cpu().numpy())
        np.add.at(b.iterations, problems, gone.iterations.cpu().numpy())
        for i, p in enumerate(problems.tolist()):
            if margins[i] >= b.min_margin[p] and l2s[i] < b.best_l2[p]:
                b.best_c[p], b.best_l2[p], b.best_x[p], b.best_z[p] = float(self.obj.c[ids[i]]), l2s[i], gone.x[i], z[i]
                b.best_parent[p] = -1  # (its state is not kept: a warm start from it starts fresh)

    def drop_dominated(self, p: int, c: float, success: bool) -> None:
        """Solves of ``p`` that can no longer change its bracket leave the pool (their work still counts)."""
        doomed = [row for row, other in self.flying[p].items() if (other > c if success else other < c)]
        if not doomed:
            return
        gone = self.pool.drop(doomed)
        if gone is not None:
            self.b.evaluations[p] += int(gone.evaluations.sum())
            self.b.iterations[p] += int(gone.iterations.sum())
        for row in doomed:
            del self.flying[p][row]
        self.in_flight[p] -= len(doomed)


def _members(groups: np.ndarray | None) -> dict[int, np.ndarray]:
    """Each group's problems."""
    if groups is None:
        return {}
    order = np.argsort(groups, kind="stable")
    keys, starts = np.unique(groups[order], return_index=True)
    return dict(zip(keys.tolist(), np.split(order, starts[1:])))


def minimal_search(model, problems: SearchProblems, opts: SearchOptions, hook=None, history: History | None = None) -> Bracket:
    """Run the c search for every problem (:class:`SearchProblems`).

    ``hook(iteration, rows, problems, c, x, z, settled=...)`` is called after every solver iteration
    (``settled``: per problem, whether its answer is final).
    ``groups``: problems of the same group compete (an untargeted attack: one group per image,
    one problem per candidate class); a problem stops once a failed solve of it already needs a
    perturbation as large as the group's best success, since its own success would need more.
    With ``opts.max_evaluations``, a group stops once it has spent that many model evaluations.
    """
    return _Search(model, problems, opts, hook, history).run()
