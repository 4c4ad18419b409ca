"""A pool of box-constrained problems solved together, which rows can join at any iteration.

Minimal mode solves a sequence of c values per image; with a fixed batch, every round would
wait for its slowest problem. Here a problem whose solve has finished gets its next c at once
(the c search adds the row), so the batched forward/backward pass stays full. Rows live in
preallocated arrays; a finished row's place is taken by the last row (no full copies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from advviewer.attack import gram
from advviewer.attack.lbfgs_steps import Objective, SolverOptions, binding_free, line_search, project, subspace_step

# on_iteration(iteration, ids, x, f, aux): called once per iteration with every active row
IterationHook = Callable[[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]

_FIELDS = ("ids", "x", "f", "g", "aux", "W", "theta", "iters", "fails", "evals", "dtol", "G", "GF", "free", "known", "empty")
MEMORY_DTYPE = np.float32  # the curvature pairs: they only shape the step (see subspace_step)


@dataclass
class Finished:
    """Rows that stopped in one iteration, and how (with their curvature memory, to warm-start others)."""

    ids: np.ndarray
    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    aux: np.ndarray
    S: np.ndarray  # (k, m, n); (k, 0, n) where the pool's memory_sink took the memory instead
    Y: np.ndarray
    theta: np.ndarray
    iterations: np.ndarray
    evaluations: np.ndarray
    converged: np.ndarray  # stopped by pgtol/dtol, not by max_iter or a line search that failed twice
    # the memory's Gram matrices and the free set they were kept for (gram.py), and whether they
    # are right for S and Y (not for a row that left after its last pair was written)
    G: np.ndarray
    GF: np.ndarray
    free: np.ndarray
    gram_known: np.ndarray


class BoxLBFGS:
    def __init__(self, objective: Objective, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> None:
        self.objective = objective
        self.opt = options or SolverOptions()
        self.hook = on_iteration
        self.n = 0  # active rows: the first n of every state array
        self.slot = 0  # the memory slot written last (shared by all rows)
        self.iteration = 0
        self.t: dict[str, np.ndarray] = {}
        self._orders: dict[int, np.ndarray] = {}
        self._any_fails = False
        # memory_sink(ids, W, idx): takes finishing rows' memory W[idx] straight from the pool (the
        # c search keeps it for warm starts), so that Finished need not carry a gathered copy
        self.memory_sink: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None

    def __len__(self) -> int:
        return self.n

    def _view(self, name: str) -> np.ndarray:
        return self.t[name][: self.n]

    def add(self, ids: np.ndarray, x_start: np.ndarray, start=None, memory=None, dtol=None) -> None:
        """Start problems ``ids`` (the objective's row numbers) from ``x_start``, inside the box.

        ``start``: their (f, g, aux) at ``x_start`` if known (else evaluated here); ``memory``:
        (S, Y, theta) to begin with instead of an empty curvature memory, or a function that
        writes it into the rows' W (k, 2m, n) and returns (theta, gram_kept), ``gram_kept`` the
        memory's (G, GF, free, known) as in :class:`Finished` (with the other forms the Gram matrices
        are computed at the rows' first step); ``dtol``: their stopping tolerance (default: the options').
        """
        k = len(ids)
        if not k:
            return
        if start is None:
            x_start = project(x_start)
            f, g, aux = self.objective(ids, x_start)
        else:
            f, g, aux = start
        n_new = self.n + k
        if not self.t or n_new > self.t["x"].shape[0]:
            self._grow(max(n_new, 2 * (self.t["x"].shape[0] if self.t else 0)), x_start, aux)
        t, sl, m = self.t, slice(self.n, n_new), self.opt.memory
        gram_kept = None
        t["ids"][sl], t["x"][sl], t["f"][sl], t["g"][sl], t["aux"][sl] = ids, x_start, f, g, aux
        if memory is None:
            t["W"][sl] = 0
            t["theta"][sl] = self.opt.theta0
            t["G"][sl], t["GF"][sl] = 0.0, 0.0
        elif callable(memory):  # it writes W straight into the pool's rows (warm_states: no copy in between)
            t["theta"][sl], gram_kept = memory(t["W"][sl])
        else:
            t["W"][sl, m:], t["W"][sl, :m], t["theta"][sl] = memory
        t["empty"][sl] = memory is None
        t["iters"][sl] = 0
        t["fails"][sl] = 0
        t["evals"][sl] = 0 if start is not None else 1
        t["dtol"][sl] = self.opt.dtol if dtol is None else dtol
        if gram_kept is None:
            t["known"][sl] = False
        else:
            t["G"][sl], t["GF"][sl], t["free"][sl], t["known"][sl] = gram_kept
        self.n = n_new

    def _grow(self, cap: int, x: np.ndarray, aux: np.ndarray) -> None:
        n, m = x.shape[1], self.opt.memory
        new = {
            "ids": np.zeros(cap, dtype=np.int64),
            "x": np.zeros((cap, n)),
            "f": np.zeros(cap),
            "g": np.zeros((cap, n)),
            "aux": np.zeros((cap,) + aux.shape[1:], dtype=aux.dtype),
            "W": np.zeros((cap, 2 * m, n), dtype=MEMORY_DTYPE),
            "theta": np.zeros(cap),
            "iters": np.zeros(cap, dtype=np.int64),
            "fails": np.zeros(cap, dtype=np.int64),
            "evals": np.zeros(cap, dtype=np.int64),
            "dtol": np.zeros(cap),
            # W's Gram matrices, whole and over the free set, for the free set of the last step (gram.py)
            "G": np.zeros((cap, 2 * m, 2 * m)),
            "GF": np.zeros((cap, 2 * m, 2 * m)),
            "free": np.zeros((cap, n), dtype=bool),
            "known": np.zeros(cap, dtype=bool),
            "empty": np.zeros(cap, dtype=bool),  # W is all zero (so are G and GF, whatever the free set)
        }
        for name in _FIELDS if self.t else ():
            new[name][: self.n] = self._view(name)
        self.t = new

    def drop(self, ids: list[int]) -> Finished | None:
        """Take rows ``ids`` out of the pool unfinished (their answer is no longer needed)."""
        mask = np.isin(self._view("ids"), ids)
        if not mask.any():
            return None
        return self._remove(mask, np.zeros_like(mask), gram_current=False, sink=False)[0]

    def _remove(self, mask: np.ndarray, converged: np.ndarray, gram_current: bool, sink: bool = True) -> tuple[Finished, np.ndarray]:
        """Take the rows in ``mask`` (over the active rows) out of the pool.

        ``gram_current``: their Gram matrices were refreshed after their last pair was written;
        ``sink``: their memory goes to ``memory_sink`` if there is one.

        Returns them, and for every remaining row its old position (to reorder per-row arrays).
        """
        idx = np.flatnonzero(mask)
        t, m = self.t, self.opt.memory
        if sink and self.memory_sink is not None:
            self.memory_sink(t["ids"][idx], t["W"], idx)
            W = np.empty((idx.size, 0, t["W"].shape[2]), dtype=MEMORY_DTYPE)
        else:
            W = t["W"][idx]
        out = Finished(ids=t["ids"][idx], x=t["x"][idx], f=t["f"][idx], g=t["g"][idx], aux=t["aux"][idx], S=W[:, m:],
                       Y=W[:, :m], theta=t["theta"][idx], iterations=t["iters"][idx], evaluations=t["evals"][idx],
                       converged=converged[idx], G=t["G"][idx], GF=t["GF"][idx], free=t["free"][idx],
                       gram_known=t["known"][idx] & gram_current)
        keep_n = self.n - idx.size
        holes = idx[idx < keep_n]
        movers = np.arange(keep_n, self.n)[~mask[keep_n:]]
        for name in _FIELDS:
            t[name][holes] = t[name][movers]
        self.n = keep_n
        old = np.arange(keep_n)
        old[holes] = movers
        return out, old

    def step(self) -> Finished | None:
        """One iteration of every active row; returns the rows that stopped (None if none did)."""
        opt, m = self.opt, self.opt.memory
        ids, x, f, g, aux, W, theta = (self._view(k) for k in ("ids", "x", "f", "g", "aux", "W", "theta"))
        free, pg_norm = binding_free(x, g)
        G, GF, known = self._view("G"), self._view("GF"), self._view("known")
        # W_F^T g = W (g on F): no masked copy of W
        Wg = gram.refresh(W, free, self._view("free"), G, GF, known, self.slot, g * free, self._view("empty"))
        self._view("free")[:] = free
        known[:] = True
        self._view("empty")[:] = False
        d = subspace_step(g, free, W, self._order(), theta, G, GF, Wg)
        x_full = project(x + d)  # the full step, which is also the line search's first trial
        gd = np.einsum("ij,ij->i", g, x_full - x)  # its predicted decrease
        bad = ~(gd < 0)  # NaN too
        if bad.any():  # not a descent direction: forget the curvature, take a gradient step
            self._forget(bad)
            d[bad] = -g[bad] / opt.theta0
            x_full[bad] = project(x[bad] + d[bad])
            gd[bad] = np.einsum("ij,ij->i", g[bad], x_full[bad] - x[bad])
        absf = np.abs(f)
        converged = (pg_norm <= opt.pgtol) | (-gd <= self._view("dtol") * np.maximum(absf, 1e-6))
        done = converged | (self._view("iters") >= opt.max_iter)
        scale = np.maximum(absf, 1.0)  # f's float32 rounding noise is relative to its loss part
        finished = []
        if done.any():
            fin, old = self._remove(done, converged, gram_current=True)
            finished.append(fin)
            d, scale, x_full = d[old], scale[old], x_full[old]
            ids, x, f, g, aux, W, theta = (self._view(k) for k in ("ids", "x", "f", "g", "aux", "W", "theta"))
        if self.n:
            self.iteration += 1
            x_new, f_new, g_new, aux_new, n_evals, ok = line_search(self.objective, ids, x, f, g, aux, d, opt.noise * scale,
                                                                   x_full)
            self._view("evals")[:] += n_evals
            s, y = x_new - x, g_new - g
            sy, yy = np.einsum("ij,ij->i", s, y), np.einsum("ij,ij->i", y, y)
            good = ok & (sy > 1e-10 * yy) & (yy > 0)
            self.slot = (self.slot + 1) % m
            W[:, m + self.slot] = s * good[:, None]
            W[:, self.slot] = y * good[:, None]
            theta[:] = np.where(good, yy / np.maximum(sy, 1e-300), theta)
            x[:], f[:], g[:], aux[:] = x_new, f_new, g_new, aux_new
            self._view("iters")[:] += 1
            if self.hook is not None:
                self.hook(self.iteration, ids, x, f, aux)
            # a failed line search is retried once from a fresh memory (a scaled gradient step);
            # a second failure in a row ends the row (stuck: not converged)
            if not ok.all() or self._any_fails:
                fails = self._view("fails")
                fails[:] = np.where(ok, 0, fails + 1)
                self._forget(fails == 1)
                stuck = fails >= 2
                if stuck.any():
                    finished.append(self._remove(stuck, np.zeros_like(stuck), gram_current=False)[0])
                self._any_fails = bool((self._view("fails") > 0).any())
        if not finished:
            return None
        return finished[0] if len(finished) == 1 else _concat(finished)

    def _order(self) -> np.ndarray:
        """The memory slots oldest first."""
        if self.slot not in self._orders:
            m = self.opt.memory
            self._orders[self.slot] = np.array([(self.slot + 1 + i) % m for i in range(m)])
        return self._orders[self.slot]

    def _forget(self, mask: np.ndarray) -> None:
        if mask.any():
            self._view("W")[mask] = 0
            self._view("theta")[mask] = self.opt.theta0
            self._view("G")[mask] = 0.0
            self._view("GF")[mask] = 0.0
            self._view("empty")[mask] = True


def _concat(parts: list[Finished]) -> Finished:
    return Finished(*(np.concatenate(column) for column in zip(*(vars(f).values() for f in parts))))


def minimize_box(objective: Objective, x_start: np.ndarray, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> Finished:
    """Solve every row of ``x_start`` (B, n) to the end; the result's rows are in input order."""
    pool = BoxLBFGS(objective, options, on_iteration)
    pool.add(np.arange(x_start.shape[0]), x_start)
    parts = []
    while len(pool):
        fin = pool.step()
        if fin is not None:
            parts.append(fin)
    out = _concat(parts)
    order = np.argsort(out.ids)
    return Finished(*(v[order] for v in vars(out).values()))
