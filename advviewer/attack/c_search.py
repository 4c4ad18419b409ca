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

import numpy as np
import torch

from advviewer.attack.box_lbfgs import BoxLBFGS, Finished
from advviewer.attack.c_bracket import Bracket, SearchOptions, clip, initial_c, next_candidates
from advviewer.attack.c_rounds import RoundAnswer, update
from advviewer.attack.objective import PenaltyObjective, margin
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
    """Iterates of every solve (as 28x28 images) and which solve each one was warm-started from."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.frames: dict[int, list[np.ndarray]] = {}

    def begin(self, rows: list[int], parents: list[int]) -> None:
        for row, parent in zip(rows, parents):
            self.parent[row] = int(parent)
            self.frames[row] = []

    def add(self, rows: np.ndarray, x: np.ndarray) -> None:
        frames = x.astype(np.float32).reshape(-1, 28, 28)
        for row, frame in zip(rows.tolist(), frames):
            self.frames[row].append(frame)

    def chain(self, row: int) -> list[np.ndarray]:
        """Every iterate on the way to solve ``row``, through the solves it was warm-started from."""
        out: list[np.ndarray] = []
        while row >= 0:
            out = self.frames[row] + out
            row = self.parent[row]
        return out


class _Search:
    """The c search of every problem on one solver pool."""

    def __init__(self, model, x0: np.ndarray, target: np.ndarray, z0: np.ndarray, opts: SearchOptions, hook, history,
                 start: np.ndarray | None, groups: np.ndarray | None, device: torch.device) -> None:
        self.b = b = Bracket(x0, target, z0, initial_c(model, x0, target, z0, device), opts)
        b.evaluations += 1  # the backward pass of initial_c (the forward pass is the caller's)
        if start is not None:
            b.lo_x = start.copy()
        self.x0, self.target, self.opts, self.history, self.groups = x0, target, opts, history, groups
        self.obj = obj = PenaltyObjective(model, x0, target, rival=opts.refine, device=device)

        def on_iteration(it, rows, x, f, z):
            if history is not None:
                history.add(rows, x)
            if hook is not None:
                hook(it, rows, obj.problem[rows], obj.c[rows], x, z, settled=~np.isnan(b.settled_at))

        self.pool = BoxLBFGS(obj, opts.solver, on_iteration)
        self.members: dict[int, np.ndarray] = {}  # each group's problems
        if groups is not None:
            order = np.argsort(groups, kind="stable")
            keys, starts = np.unique(groups[order], return_index=True)
            self.members = dict(zip(keys.tolist(), np.split(order, starts[1:])))
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
        b.settled_at[np.isnan(b.settled_at)] = time.perf_counter()
        b.states = self.states
        return b

    def launch(self, problems) -> None:
        """Start the next round of every problem in ``problems``."""
        b, obj = self.b, self.obj
        found = b.found  # once: next_candidates does not change the bracket
        plan = []  # (problem, c, start x, parent row, interpolated)
        for p in problems:
            for c in next_candidates(b, p, self.opts.candidates):
                if b.polishing[p]:  # an end's answer, solved on from its own state
                    hi = c == b.hi_c[p]
                    plan.append((p, c, b.hi_x[p] if hi else b.lo_x[p], int(b.hi_parent[p] if hi else b.lo_parent[p]), False))
                elif found[p] and b.lo_c[p] > 0 and not b.jumped[p]:
                    w = float(clip(np.log(c / b.lo_c[p]) / np.log(b.hi_c[p] / b.lo_c[p]), 0.0, 1.0))
                    parent = int(b.hi_parent[p] if w >= 0.5 else b.lo_parent[p])
                    plan.append((p, c, b.lo_x[p] + w * (b.hi_x[p] - b.lo_x[p]), parent, True))
                else:
                    near_hi = found[p] and (b.lo_c[p] == 0 or abs(np.log(c / b.hi_c[p])) < abs(np.log(c / b.lo_c[p])))
                    plan.append((p, c, b.hi_x[p] if near_hi else b.lo_x[p], int(b.hi_parent[p] if near_hi else b.lo_parent[p]),
                                 False))
        if not plan:
            return
        plist = [e[0] for e in plan]
        rows = obj.add_rows(plist, [e[1] for e in plan], b.tau[plist])
        for (p, c, *_), row in zip(plan, rows.tolist()):
            self.flying[p][row] = c
            self.in_flight[p] += 1
        if self.history is not None:
            self.history.begin(rows.tolist(), [e[3] for e in plan])
            moved = [i for i, e in enumerate(plan) if e[4]]  # an interpolated start is a point of its own
            if moved:
                self.history.add(rows[moved], np.stack([plan[i][2] for i in moved]))
        # a solve's own tolerance: looser while no success is known, the fixed-c solves' for a bracket's ends solved on
        own = [LOOSE_DTOL if not found[e[0]] else self.opts.solver.dtol if b.polishing[e[0]] else None for e in plan]
        exact, memory_only, fresh = [], [], []
        for i, (p, _c, _x, parent, interpolated) in enumerate(plan):
            if parent not in self.states:
                fresh.append(i)
            elif interpolated or float(obj.tau[parent]) != b.tau[p]:
                memory_only.append(i)
            else:
                exact.append(i)
        if exact:
            x, (f, g, aux, memory) = self.carried([plan[i] for i in exact])
            self.pool.add(rows[exact], x, start=(f, g, aux), memory=memory, dtol=self._dtol(own, exact))
        if memory_only:
            x, (_, _, _, memory) = self.carried([plan[i] for i in memory_only])
            self.pool.add(rows[memory_only], x, memory=memory, dtol=self._dtol(own, memory_only))
        if fresh:
            self.pool.add(rows[fresh], np.stack([plan[i][2] for i in fresh]), dtol=self._dtol(own, fresh))

    def _dtol(self, own: list, which: list[int]) -> np.ndarray:
        return np.array([max(SEARCH_DTOL, self.opts.solver.dtol) if own[i] is None else own[i] for i in which])

    def carried(self, entries: list) -> tuple:
        """The entries' start points, and their parents' states carried to each entry's c and point (EndStates.carried)."""
        parents = np.array([e[3] for e in entries])
        q = np.array([e[1] for e in entries]) / self.obj.c[parents]
        x, x0 = np.stack([e[2] for e in entries]), self.x0[[e[0] for e in entries]]
        return x, self.states.carried(parents, q, x, x0)

    def finish(self, fin: Finished) -> None:
        """Fold finished solves into their problems; a problem whose round is over gets its next one."""
        b, obj = self.b, self.obj
        touched = []
        problems = obj.problem[fin.ids]
        self.states.put(fin)
        # every solve's margin and L2 (as the network sees it, in float32) at once
        margins = margin(fin.aux, self.target[problems])
        l2s = np.linalg.norm(fin.x.astype(np.float32) - self.x0[problems].astype(np.float32), axis=1)
        np.add.at(b.evaluations, problems, fin.evaluations)
        np.add.at(b.iterations, problems, fin.iterations)
        for i, (row, p) in enumerate(zip(fin.ids.tolist(), problems.tolist())):
            self.results[p].append(RoundAnswer(row, float(obj.c[row]), fin.x[i], fin.aux[i], float(margins[i]), float(l2s[i])))
            del self.flying[p][row]
            self.in_flight[p] -= 1
            touched.append((p, row, i))
        for p, row, i in touched:
            self.drop_dominated(p, float(obj.c[row]), bool(margins[i] >= b.min_margin[p]))
        ready = list(dict.fromkeys(p for p, _, _ in touched if not self.flying[p]))
        for p in ready:
            update(b, p, self.results[p], self.opts)
            self.results[p] = []
            self.rounds[p] += 1
            b.done[p] |= self.rounds[p] >= self.opts.max_rounds
            if self.groups is not None:
                rivals = self.members[int(self.groups[p])]  # (over its members only: cheaper than a mask over all problems)
                b.done[rivals] |= (b.lo_l2[rivals] >= b.best_l2[rivals].min()) & (self.in_flight[rivals] == 0)
        if ready:
            self.states.keep_only(np.concatenate([b.lo_parent, b.hi_parent, b.best_parent]))
        self.launch([p for p in ready if not b.done[p]])
        if ready:
            b.settled_at[b.done & (self.in_flight == 0) & np.isnan(b.settled_at)] = time.perf_counter()

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


def minimal_search(model, x0: np.ndarray, target: np.ndarray, z0: np.ndarray, opts: SearchOptions, hook=None,
                   history: History | None = None, start: np.ndarray | None = None, groups: np.ndarray | None = None,
                   device: torch.device | None = None) -> Bracket:
    """Run the c search for every problem (rows of ``x0`` (P, 784) float64, ``target``, logits ``z0``).

    ``hook(iteration, rows, problems, c, x, z, settled=...)`` is called after every solver iteration
    (``settled``: per problem, whether its answer is final).
    ``groups``: problems of the same group compete (an untargeted attack: one group per image,
    one problem per candidate class); a problem stops once a failed solve of it already needs a
    perturbation as large as the group's best success, since its own success would need more.
    """
    return _Search(model, x0, target, z0, opts, hook, history, start, groups, device or torch.device("cpu")).run()

