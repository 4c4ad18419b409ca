"""Minimal mode on the solver pool: every problem's next c joins the batch as soon as its last solve ends.

A new solve starts where the nearer end of its bracket ended. When that end was solved with the
same loss, its value, gradient and curvature memory are carried over, rescaled to the new c
(f and g of ||r||^2 + c * loss are linear in c, and so is every curvature pair y = 2 s + c * dloss),
so the start costs no evaluation and the quasi-Newton model is already trained.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from advviewer.attack.box_lbfgs import BoxLBFGS
from advviewer.attack.c_bracket import Bracket, SearchOptions, initial_c, next_candidates, update
from advviewer.attack.objective import PenaltyObjective


class History:
    """Iterates of every solve (as 28x28 images) and which solve each one was warm-started from."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.frames: dict[int, list[np.ndarray]] = {}

    def begin(self, rows: list[int], parents: list[int]) -> None:
        for row, parent in zip(rows, parents):
            self.parent[row] = int(parent)
            self.frames[row] = []

    def add(self, rows: torch.Tensor, x: torch.Tensor) -> None:
        frames = x.to(torch.float32).view(-1, 28, 28).cpu().numpy()
        for row, frame in zip(rows.tolist(), frames):
            self.frames[row].append(frame.copy())

    def chain(self, row: int) -> list[np.ndarray]:
        """Every iterate on the way to solve ``row``, through the solves it was warm-started from."""
        out: list[np.ndarray] = []
        while row >= 0:
            out = self.frames[row] + out
            row = self.parent[row]
        return out


def minimal_search(model, x0: torch.Tensor, target: torch.Tensor, opts: SearchOptions, hook=None,
                   history: History | None = None, start: torch.Tensor | None = None,
                   groups: np.ndarray | None = None) -> Bracket:
    """Run the c search for every problem (rows of ``x0`` (P, 784) float64 and ``target``).

    ``hook(iteration, rows, problems, c, x, z)`` is called after every solver iteration.
    ``groups``: problems of the same group compete (an untargeted attack: one group per image,
    one problem per other class); a problem stops once a failed solve of it already needs a
    perturbation as large as the group's best success, since its own success would need more.
    """
    with torch.no_grad():
        z0 = model(x0.to(torch.float32).view(-1, 1, 28, 28)).to(torch.float64)
    b = Bracket(x0, target, z0, initial_c(model, x0, target, z0), opts)
    b.evaluations += 2
    if start is not None:
        b.lo_x = start.clone()
    obj = PenaltyObjective(model, x0, target, rival=opts.refine)

    def on_iteration(it, rows, x, f, z):
        if history is not None:
            history.add(rows, x)
        if hook is not None:
            hook(it, rows, obj.problem[rows], obj.c[rows], x, z)

    pool = BoxLBFGS(obj, opts.solver, on_iteration)
    P = x0.shape[0]
    in_flight = np.zeros(P, dtype=np.int64)
    rounds = np.zeros(P, dtype=np.int64)
    buffers: dict[int, list] = {p: [] for p in range(P)}

    states: dict[int, tuple] = {}  # finished solves that are a bracket end: (f, g, S, Y, theta)

    def launch(problems) -> None:
        plist, cs, starts, parents = [], [], [], []
        for p in problems:
            for c in next_candidates(b, p, opts.candidates):
                near_hi = b.found[p] and (b.lo_c[p] == 0 or abs(np.log(c / b.hi_c[p])) < abs(np.log(c / b.lo_c[p])))
                plist.append(p)
                cs.append(c)
                starts.append(b.hi_x[p] if near_hi else b.lo_x[p])
                parents.append(int(b.hi_parent[p] if near_hi else b.lo_parent[p]))
                in_flight[p] += 1
        if not plist:
            return
        rows = obj.add_rows(torch.as_tensor(plist), torch.tensor(cs, dtype=torch.float64), torch.as_tensor(b.tau[plist]))
        if history is not None:
            history.begin(rows.tolist(), parents)
        carried = [i for i, (p, parent) in enumerate(zip(plist, parents))
                   if parent in states and float(obj.tau[parent]) == b.tau[p]]
        fresh = [i for i in range(len(plist)) if i not in set(carried)]
        if fresh:
            pool.add(rows[fresh], torch.stack([starts[i] for i in fresh]))
        if carried:
            parts = [rescaled(states[parents[i]], starts[i], x0[plist[i]], float(obj.c[parents[i]]), cs[i]) for i in carried]
            f, g, S, Y, theta = (torch.stack(v) for v in zip(*parts))
            aux = torch.stack([states[parents[i]][5] for i in carried])
            pool.add(rows[carried], torch.stack([starts[i] for i in carried]), start=(f, g, aux), memory=(S, Y, theta))

    launch(range(P))
    while len(pool):
        fin = pool.step()
        if fin is None:
            continue
        ready = []
        for i, row in enumerate(fin.ids.tolist()):
            p = int(obj.problem[row])
            b.evaluations[p] += int(fin.evaluations[i])
            b.iterations[p] += int(fin.iterations[i])
            buffers[p].append((row, float(obj.c[row]), fin.x[i], fin.aux[i]))
            states[row] = (fin.f[i], fin.g[i], fin.S[i], fin.Y[i], fin.theta[i], fin.aux[i])
            in_flight[p] -= 1
            if in_flight[p] == 0:
                ready.append(p)
        for p in ready:
            update(b, p, buffers[p], opts)
            buffers[p] = []
            rounds[p] += 1
            b.done[p] |= rounds[p] >= opts.max_rounds
            if groups is not None:
                rivals = groups == groups[p]
                best = b.best_l2[rivals].min()
                b.done |= rivals & (b.lo_l2 >= best) & (in_flight == 0)
        if ready:
            keep = set(b.lo_parent.tolist()) | set(b.hi_parent.tolist())
            for row in [r for r in states if r not in keep]:
                del states[row]
        launch([p for p in ready if not b.done[p]])
        if ready:
            b.settled_at[b.done & (in_flight == 0) & np.isnan(b.settled_at)] = time.perf_counter()
    b.settled_at[np.isnan(b.settled_at)] = time.perf_counter()
    return b


def rescaled(state: tuple, x: torch.Tensor, x0: torch.Tensor, c_old: float, c_new: float) -> tuple:
    """A finished solve's (f, g, S, Y, theta) at its point x, for the same loss at ``c_new``."""
    f, g, S, Y, theta = state[:5]
    q = c_new / c_old
    r = x - x0
    rr = (r * r).sum()
    Y = 2 * S + q * (Y - 2 * S)
    sy, yy = (S * Y).sum(1), (Y * Y).sum(1)
    valid = ((sy > 1e-10 * yy) & (yy > 0)).to(S.dtype)[:, None]  # a pair with negative loss curvature may turn
    return rr + q * (f - rr), 2 * r + q * (g - 2 * r), S * valid, Y * valid, (2 + q * (theta - 2)).clamp(min=1e-3)
