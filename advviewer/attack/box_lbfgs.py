"""A pool of box-constrained problems solved together, which rows can join at any iteration.

Minimal mode solves a sequence of c values per image; with a fixed batch, every round would
wait for its slowest problem. Here a problem whose solve has finished gets its next c at once
(the c search adds the row), so the batched forward/backward pass stays full. Rows live in
preallocated tensors (:class:`PoolRows`) on the objective's device; a finished row's place is
taken by the last row (no full copies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch

from advviewer.attack import gram
from advviewer.attack.lbfgs_steps import (
    LineSearchResult,
    Objective,
    SolverOptions,
    Trial,
    binding_free,
    block_masks,
    dot,
    line_search,
    project,
    subspace_step,
)

# on_iteration(iteration, ids, x, f, aux): called once per iteration with every active row
IterationHook = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], None]
# memory(W) -> (theta, gram_kept): writes a warm start's curvature memory into the rows' W (warm_states.EndStates.carried)
MemoryWriter = Callable[[torch.Tensor], tuple[torch.Tensor, "GramKept | None"]]
MEMORY_DTYPE = torch.float32  # the curvature pairs: they only shape the step (see subspace_step)


@dataclass
class GramKept:
    """A memory's Gram matrices (gram.py), the free set they were kept for, and whether they are right for it."""

    G: torch.Tensor  # (k, 2m, 2m) float64
    GF: torch.Tensor
    free: torch.Tensor  # (k, n) bool
    known: torch.Tensor  # (k,) bool


@dataclass
class PoolRows:
    """Every row's solver state, one tensor per quantity (the first ``BoxLBFGS.n`` rows are active)."""

    ids: torch.Tensor  # (cap,) int64: the objective's row
    x: torch.Tensor  # (cap, n) float64, in the box and on float32's grid
    f: torch.Tensor  # (cap,) float64
    g: torch.Tensor  # (cap, n) float64
    aux: torch.Tensor  # (cap, K) the objective's aux (the logits)
    W: torch.Tensor  # (cap, 2m, n) MEMORY_DTYPE: y pairs in rows 0..m-1, s pairs in rows m..2m-1
    theta: torch.Tensor  # (cap,) float64
    iters: torch.Tensor  # (cap,) int64
    fails: torch.Tensor  # (cap,) int64: line searches failed in a row
    evals: torch.Tensor  # (cap,) int64
    dtol: torch.Tensor  # (cap,) float64: each row's stopping tolerance
    G: torch.Tensor  # (cap, 2m, 2m) float64: W's Gram matrices, whole and over the free set of the last step
    GF: torch.Tensor
    free: torch.Tensor  # (cap, n) bool
    known: torch.Tensor  # (cap,) bool: G and GF are right for W and free
    empty: torch.Tensor  # (cap,) bool: W is all zero (so are G and GF, whatever the free set)

    @classmethod
    def allocate(cls, cap: int, n: int, memory: int, aux: torch.Tensor) -> PoolRows:
        def zeros(*shape, dtype=torch.float64):
            return torch.zeros(shape, dtype=dtype, device=aux.device)

        i64, m2 = torch.int64, 2 * memory
        return cls(ids=zeros(cap, dtype=i64), x=zeros(cap, n), f=zeros(cap), g=zeros(cap, n),
                   aux=zeros(cap, *aux.shape[1:], dtype=aux.dtype), W=zeros(cap, m2, n, dtype=MEMORY_DTYPE),
                   theta=zeros(cap), iters=zeros(cap, dtype=i64), fails=zeros(cap, dtype=i64), evals=zeros(cap, dtype=i64),
                   dtol=zeros(cap), G=zeros(cap, m2, m2), GF=zeros(cap, m2, m2), free=zeros(cap, n, dtype=torch.bool),
                   known=zeros(cap, dtype=torch.bool), empty=zeros(cap, dtype=torch.bool))

    @property
    def capacity(self) -> int:
        return self.x.shape[0]

    def columns(self) -> list[str]:
        return [f.name for f in fields(self)]

    def head(self, n: int) -> PoolRows:
        """The first ``n`` rows (views)."""
        return PoolRows(**{name: getattr(self, name)[:n] for name in self.columns()})


@dataclass
class Finished:
    """Rows that stopped in one iteration, and how (with their curvature memory, to warm-start others)."""

    ids: torch.Tensor
    x: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    aux: torch.Tensor
    S: torch.Tensor  # (k, m, n); (k, 0, n) where the pool's memory_sink took the memory instead
    Y: torch.Tensor
    theta: torch.Tensor
    iterations: torch.Tensor
    evaluations: torch.Tensor
    converged: torch.Tensor  # stopped by pgtol/dtol, not by max_iter or a line search that failed twice
    # the memory's Gram matrices and the free set they were kept for (gram.py), and whether they
    # are right for S and Y (not for a row that left after its last pair was written)
    G: torch.Tensor
    GF: torch.Tensor
    free: torch.Tensor
    gram_known: torch.Tensor

    def sorted_by_id(self) -> Finished:
        order = torch.argsort(self.ids)
        return Finished(*(v[order] for v in vars(self).values()))


@dataclass
class _Step:
    """One iteration's direction for the active rows: the step, its full projected point, the predicted decrease."""

    d: torch.Tensor
    x_full: torch.Tensor
    gd: torch.Tensor
    converged: torch.Tensor


class BoxLBFGS:
    def __init__(self, objective: Objective, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> None:
        self.objective = objective
        self.opt = options or SolverOptions()
        self.hook = on_iteration
        self.n = 0  # active rows: the first n of every state tensor
        self.slot = 0  # the memory slot written last (shared by all rows)
        self.iteration = 0
        self.rows: PoolRows | None = None
        self._active: tuple[int, PoolRows | None, PoolRows | None] = (-1, None, None)  # (n, rows, their head) cached
        self._any_fails = False
        self._marks_current = False  # every active row's ``known`` is True and ``empty`` False (set in _direction)
        # memory_sink(ids, W, idx): takes finishing rows' memory W[idx] straight from the pool (the
        # c search keeps it for warm starts), so that Finished need not carry a gathered copy
        self.memory_sink: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None] | None = None

    def __len__(self) -> int:
        return self.n

    @property
    def active(self) -> PoolRows:
        """The active rows (views; made once per change of the active count: an iteration reads them often)."""
        n, rows, head = self._active
        if n != self.n or rows is not self.rows or head is None:
            assert self.rows is not None
            head = self.rows.head(self.n)
            self._active = (self.n, self.rows, head)
        return head

    def add(self, ids, x_start: torch.Tensor, start: Trial | None = None, memory: MemoryWriter | None = None,
            dtol=None) -> None:
        """Start problems ``ids`` (the objective's row numbers) from ``x_start``, inside the box.

        ``start``: their point, f, g and aux if known (else ``x_start`` is projected and evaluated
        here); ``memory``: a function that writes their curvature memory into the rows' W
        (k, 2m, n) and returns (theta, the memory's Gram matrices or None: computed at the rows'
        first step); without one they start with an empty memory. ``dtol``: their stopping
        tolerance (default: the options').
        """
        k = len(ids)
        if not k:
            return
        ids = torch.as_tensor(ids, dtype=torch.int64).to(x_start.device)
        if start is None:
            x_start = project(x_start)
            start = Trial(x_start, *self.objective(ids, x_start))
            evaluated = 1
        else:
            evaluated = 0
        n_new = self.n + k
        if self.rows is None or n_new > self.rows.capacity:
            self._grow(max(n_new, 2 * (self.rows.capacity if self.rows is not None else 0)), start)
        t = self.rows
        assert t is not None
        sl = slice(self.n, n_new)
        t.ids[sl], t.x[sl], t.f[sl], t.g[sl], t.aux[sl] = ids, start.x, start.f, start.g, start.aux
        self._start_memory(t, sl, memory)
        t.iters[sl] = 0
        t.fails[sl] = 0
        t.evals[sl] = evaluated
        t.dtol[sl] = self.opt.dtol if dtol is None else torch.as_tensor(dtol, dtype=torch.float64).to(t.dtol.device)
        self.n = n_new
        self._marks_current = False

    def _start_memory(self, t: PoolRows, sl: slice, memory: MemoryWriter | None) -> None:
        gram_kept = None
        if memory is None:
            t.W[sl] = 0
            t.theta[sl] = self.opt.theta0
            t.G[sl], t.GF[sl] = 0.0, 0.0
        else:  # it writes W straight into the pool's rows (warm_states: no copy in between)
            t.theta[sl], gram_kept = memory(t.W[sl])
        t.empty[sl] = memory is None
        if gram_kept is None:
            t.known[sl] = False
        else:
            t.G[sl], t.GF[sl], t.free[sl], t.known[sl] = gram_kept.G, gram_kept.GF, gram_kept.free, gram_kept.known

    def _grow(self, cap: int, start: Trial) -> None:
        new = PoolRows.allocate(cap, start.x.shape[1], self.opt.memory, start.aux)
        if self.rows is not None:
            for name in new.columns():
                getattr(new, name)[: self.n] = getattr(self.rows, name)[: self.n]
        self.rows = new

    def drop(self, ids: list[int]) -> Finished | None:
        """Take rows ``ids`` out of the pool unfinished (their answer is no longer needed)."""
        active = self.active
        mask = torch.isin(active.ids, torch.as_tensor(ids, dtype=torch.int64).to(active.ids.device))
        if not bool(mask.any()):
            return None
        return self._remove(mask, torch.zeros_like(mask), gram_current=False, sink=False)[0]

    def _remove(self, mask: torch.Tensor, converged: torch.Tensor, gram_current: bool,
                sink: bool = True) -> tuple[Finished, torch.Tensor]:
        """Take the rows in ``mask`` (over the active rows) out of the pool.

        ``gram_current``: their Gram matrices were refreshed after their last pair was written;
        ``sink``: their memory goes to ``memory_sink`` if there is one.

        Returns them, and for every remaining row its old position (to reorder per-row tensors).
        """
        idx = torch.nonzero(mask).flatten()
        t, m = self.rows, self.opt.memory
        assert t is not None
        if sink and self.memory_sink is not None:
            self.memory_sink(t.ids[idx], t.W, idx)
            W = torch.empty((idx.numel(), 0, t.W.shape[2]), dtype=MEMORY_DTYPE, device=t.W.device)
        else:
            W = t.W[idx]
        out = Finished(ids=t.ids[idx], x=t.x[idx], f=t.f[idx], g=t.g[idx], aux=t.aux[idx], S=W[:, m:], Y=W[:, :m],
                       theta=t.theta[idx], iterations=t.iters[idx], evaluations=t.evals[idx], converged=converged[idx],
                       G=t.G[idx], GF=t.GF[idx], free=t.free[idx], gram_known=t.known[idx] & gram_current)
        keep_n = self.n - idx.numel()
        holes = idx[idx < keep_n]
        old = torch.arange(keep_n, device=idx.device)
        if holes.numel():  # (none where the rows that leave are the last ones)
            movers = torch.arange(keep_n, self.n, device=idx.device)[~mask[keep_n:]]
            for name in t.columns():
                column = getattr(t, name)
                column[holes] = column[movers]
            old[holes] = movers
        self.n = keep_n
        return out, old

    def step(self) -> Finished | None:
        """One iteration of every active row; returns the rows that stopped (None if none did)."""
        step = self._direction()
        done = step.converged | (self.active.iters >= self.opt.max_iter)
        finished = []
        if bool(done.any()):
            fin, old = self._remove(done, step.converged, gram_current=True)
            finished.append(fin)
            step = _Step(step.d[old], step.x_full[old], step.gd[old], step.converged[old])
        if self.n:
            stuck = self._advance(step)
            if stuck is not None:
                finished.append(stuck)
        if not finished:
            return None
        return finished[0] if len(finished) == 1 else _concat(finished)

    def _direction(self) -> _Step:
        """The quasi-Newton step of every active row, and which rows have converged already."""
        opt, a = self.opt, self.active
        free, pg_norm = binding_free(a.x, a.g)
        # W_F^T g = W (g on F): no masked copy of W
        Wg = gram.refresh(a.W, free, a.free, a.G, a.GF, a.known, self.slot, a.g * free, a.empty, opt.keep_gram)
        a.free[:] = free
        if not self._marks_current:  # (rows were added or forgot their memory since the last iteration)
            a.known[:] = True
            a.empty[:] = False
            self._marks_current = True
        d = subspace_step(a.g, free, a.W, block_masks(self.slot, self.opt.memory, a.W.device), a.theta, a.G, a.GF, Wg)
        x_full = project(a.x + d)  # the full step, which is also the line search's first trial
        gd = dot(a.g, x_full - a.x)  # its predicted decrease
        descent = gd < 0
        if not bool(descent.all()):  # not a descent direction (NaN too): forget the curvature, take a gradient step
            bad = ~descent
            self._forget(bad)
            d[bad] = -a.g[bad] / opt.theta0
            x_full[bad] = project(a.x[bad] + d[bad])
            gd[bad] = dot(a.g[bad], x_full[bad] - a.x[bad])
        converged = (pg_norm <= opt.pgtol) | (-gd <= a.dtol * torch.clamp_min(a.f.abs(), 1e-6))
        return _Step(d, x_full, gd, converged)

    def _advance(self, step: _Step) -> Finished | None:
        """The line search along ``step`` for every active row, the new curvature pair; returns rows now stuck."""
        opt, m, a = self.opt, self.opt.memory, self.active
        self.iteration += 1
        scale = torch.clamp_min(a.f.abs(), 1.0)  # f's float32 rounding noise is relative to its loss part
        found = line_search(self.objective, a.ids, Trial(a.x, a.f, a.g, a.aux), step.d, opt.noise * scale, step.x_full)
        a.evals += found.evaluations
        self._new_pair(a, found, m)
        a.x[:], a.f[:], a.g[:], a.aux[:] = found.point.x, found.point.f, found.point.g, found.point.aux
        a.iters += 1
        if self.hook is not None:
            self.hook(self.iteration, a.ids, a.x, a.f, a.aux)
        return self._retry_failed(found.ok)

    def _new_pair(self, a: PoolRows, found: LineSearchResult, m: int) -> None:
        s, y = found.point.x - a.x, found.point.g - a.g
        sy, yy = dot(s, y), dot(y, y)
        good = found.ok & (sy > 1e-10 * yy)  # (so yy > 0 and sy > 0: y = 0 gives sy = 0)
        self.slot = (self.slot + 1) % m
        a.W[:, m + self.slot] = s * good[:, None]
        a.W[:, self.slot] = y * good[:, None]
        a.theta[:] = torch.where(good, yy / sy, a.theta)

    def _retry_failed(self, ok: torch.Tensor) -> Finished | None:
        """A failed line search is retried once from a fresh memory (a scaled gradient step); a second failure in a
        row ends the row (stuck: not converged)."""
        if bool(ok.all()) and not self._any_fails:
            return None
        fails = self.active.fails
        fails[:] = torch.where(ok, 0, fails + 1)
        self._forget(fails == 1)
        stuck = fails >= 2
        out = None
        if bool(stuck.any()):
            out = self._remove(stuck, torch.zeros_like(stuck), gram_current=False)[0]
        self._any_fails = bool((self.active.fails > 0).any())
        return out

    def _forget(self, mask: torch.Tensor) -> None:
        if bool(mask.any()):
            a = self.active
            a.W[mask] = 0
            a.theta[mask] = self.opt.theta0
            a.G[mask] = 0.0
            a.GF[mask] = 0.0
            a.empty[mask] = True
            self._marks_current = False


def _concat(parts: list[Finished]) -> Finished:
    return Finished(*(torch.cat(column) for column in zip(*(vars(f).values() for f in parts))))


def minimize_box(objective: Objective, x_start: torch.Tensor, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> Finished:
    """Solve every row of ``x_start`` (B, n) to the end; the result's rows are in input order."""
    pool = BoxLBFGS(objective, options, on_iteration)
    pool.add(torch.arange(x_start.shape[0]), x_start)
    parts = []
    while len(pool):
        fin = pool.step()
        if fin is not None:
            parts.append(fin)
    return _concat(parts).sorted_by_id()
