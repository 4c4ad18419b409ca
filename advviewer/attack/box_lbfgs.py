"""A pool of box-constrained problems solved together, which rows can join at any iteration.

Minimal mode solves a sequence of c values per image; with a fixed batch, every round would
wait for its slowest problem. Here a problem whose solve has finished gets its next c at once
(the c search adds the row), so the batched forward/backward pass stays full. Rows live in
preallocated tensors; a finished row's place is taken by the last row (no full copies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from advviewer.attack.lbfgs_steps import Objective, SolverOptions, binding_free, line_search, project, subspace_step

# on_iteration(iteration, ids, x, f, aux): called once per iteration with every active row
IterationHook = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], None]

_FIELDS = ("ids", "x", "f", "g", "aux", "W", "theta", "iters", "fails", "evals")
MEMORY_DTYPE = torch.float32  # the curvature pairs: they only shape the step (see subspace_step)


@dataclass
class Finished:
    """Rows that stopped in one iteration, and how (with their curvature memory, to warm-start others)."""

    ids: torch.Tensor
    x: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    aux: torch.Tensor
    S: torch.Tensor
    Y: torch.Tensor
    theta: torch.Tensor
    iterations: torch.Tensor
    evaluations: torch.Tensor
    converged: torch.Tensor  # stopped by pgtol/dtol, not by max_iter or a line search that failed twice


class BoxLBFGS:
    def __init__(self, objective: Objective, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> None:
        self.objective = objective
        self.opt = options or SolverOptions()
        self.hook = on_iteration
        self.n = 0  # active rows: the first n of every state tensor
        self.slot = 0  # the memory slot written last (shared by all rows)
        self.iteration = 0
        self.t: dict[str, torch.Tensor] = {}
        self._orders: dict = {}
        self._any_fails = True

    def __len__(self) -> int:
        return self.n

    def _view(self, name: str) -> torch.Tensor:
        return self.t[name][: self.n]

    def add(self, ids: torch.Tensor, x_start: torch.Tensor, start=None, memory=None) -> None:
        """Start problems ``ids`` (the objective's row numbers) from ``x_start``, inside the box.

        ``start``: their (f, g, aux) at ``x_start`` if known (else evaluated here); ``memory``:
        (S, Y, theta) to begin with instead of an empty curvature memory.
        """
        k = int(ids.numel())
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
        t, sl = self.t, slice(self.n, n_new)
        t["ids"][sl], t["x"][sl], t["f"][sl], t["g"][sl], t["aux"][sl] = ids, x_start, f, g, aux
        m = self.opt.memory
        if memory is None:
            t["W"][sl] = 0
            t["theta"][sl] = self.opt.theta0
        else:
            t["W"][sl, m:], t["W"][sl, :m], t["theta"][sl] = memory
        t["iters"][sl] = 0
        t["fails"][sl] = 0
        t["evals"][sl] = 0 if start is not None else 1
        self.n = n_new

    def _grow(self, cap: int, x: torch.Tensor, aux: torch.Tensor) -> None:
        n, m, dev, dt = x.shape[1], self.opt.memory, x.device, x.dtype
        new = {
            "ids": torch.zeros(cap, dtype=torch.long, device=dev),
            "x": torch.zeros(cap, n, dtype=dt, device=dev),
            "f": torch.zeros(cap, dtype=dt, device=dev),
            "g": torch.zeros(cap, n, dtype=dt, device=dev),
            "aux": torch.zeros((cap,) + aux.shape[1:], dtype=aux.dtype, device=dev),
            "W": torch.zeros(cap, 2 * m, n, dtype=MEMORY_DTYPE, device=dev),
            "theta": torch.zeros(cap, dtype=dt, device=dev),
            "iters": torch.zeros(cap, dtype=torch.long, device=dev),
            "fails": torch.zeros(cap, dtype=torch.long, device=dev),
            "evals": torch.zeros(cap, dtype=torch.long, device=dev),
        }
        for name in _FIELDS if self.t else ():
            new[name][: self.n] = self._view(name)
        self.t = new

    def drop(self, ids: list[int]) -> Finished | None:
        """Take rows ``ids`` out of the pool unfinished (their answer is no longer needed)."""
        mask = torch.isin(self._view("ids"), torch.as_tensor(ids, device=self._view("ids").device))
        if not bool(mask.any()):
            return None
        return self._remove(mask, torch.zeros_like(mask))[0]

    def _remove(self, mask: torch.Tensor, converged: torch.Tensor) -> tuple[Finished, torch.Tensor]:
        """Take the rows in ``mask`` (over the active rows) out of the pool.

        Returns them, and for every remaining row its old position (to reorder per-row arrays).
        """
        idx = mask.nonzero()[:, 0]
        rows = {name: self.t[name][idx].clone() for name in ("ids", "x", "f", "g", "aux", "theta")}
        W, m = self.t["W"][idx], self.opt.memory
        out = Finished(**rows, S=W[:, m:], Y=W[:, :m], iterations=self.t["iters"][idx].clone(), evaluations=self.t["evals"][idx].clone(),
                       converged=converged[idx])
        keep_n = self.n - int(idx.numel())
        holes = idx[idx < keep_n]
        tail = torch.arange(keep_n, self.n, device=idx.device)
        movers = tail[~mask[keep_n:]]
        for name in _FIELDS:
            self.t[name][holes] = self.t[name][movers]
        self.n = keep_n
        old = torch.arange(keep_n, device=idx.device)
        old[holes] = movers
        return out, old

    def step(self) -> Finished | None:
        """One iteration of every active row; returns the rows that stopped (None if none did)."""
        opt = self.opt
        ids, x, f, g, aux = (self._view(k) for k in ("ids", "x", "f", "g", "aux"))
        W, theta = self._view("W"), self._view("theta")
        m = opt.memory
        free, pg_norm = binding_free(x, g)
        order = self._order(x.device)
        d = subspace_step(g, free, W, order, theta)
        gd = (g * (project(x + d) - x)).sum(1)  # predicted decrease of the full step
        bad = ~(gd < 0) | ~torch.isfinite(gd)
        if bad.any():  # not a descent direction: forget the curvature, take a gradient step
            self._forget(bad)
            d[bad] = -g[bad] / opt.theta0
            gd[bad] = (g[bad] * (project(x[bad] + d[bad]) - x[bad])).sum(1)
        scale = f.abs().clamp(min=1.0)  # f's float32 rounding noise is relative to its loss part
        converged = (pg_norm <= opt.pgtol) | (-gd <= opt.dtol * f.abs().clamp(min=1e-6))
        done = converged | (self._view("iters") >= opt.max_iter)
        finished = []
        if done.any():
            fin, old = self._remove(done, converged)
            finished.append(fin)
            d, gd, scale = d[old], gd[old], scale[old]
            ids, x, f, g, aux = (self._view(k) for k in ("ids", "x", "f", "g", "aux"))
            W = self._view("W")
        if self.n:
            self.iteration += 1
            x_new, f_new, g_new, aux_new, n_evals, ok = line_search(self.objective, ids, x, f, g, aux, d, opt.noise * scale)
            self._view("evals").add_(n_evals)
            s, y = x_new - x, g_new - g
            sy, yy = (s * y).sum(1), (y * y).sum(1)
            good = ok & (sy > 1e-10 * yy) & (yy > 0)
            self.slot = (self.slot + 1) % opt.memory
            W[:, m + self.slot] = s * good[:, None]
            W[:, self.slot] = y * good[:, None]
            theta = self._view("theta")
            theta.copy_(torch.where(good, yy / sy.clamp(min=1e-300), theta))
            x.copy_(x_new)
            f.copy_(f_new)
            g.copy_(g_new)
            aux.copy_(aux_new)
            self._view("iters").add_(1)
            if self.hook is not None:
                self.hook(self.iteration, ids, x, f, aux)
            # a failed line search is retried once from a fresh memory (a scaled gradient step);
            # a second failure in a row ends the row (stuck: not converged)
            fails = self._view("fails")
            if not bool(ok.all()):
                fails.copy_(torch.where(ok, 0, fails + 1))
                self._forget(fails == 1)
                stuck = fails >= 2
                if stuck.any():
                    finished.append(self._remove(stuck, torch.zeros_like(stuck))[0])
            elif self._any_fails:
                fails.zero_()
            self._any_fails = not bool(ok.all())
        if not finished:
            return None
        return finished[0] if len(finished) == 1 else _concat(finished)

    def _order(self, device) -> torch.Tensor:
        """The memory slots oldest first (cached per slot: building it is a dozen tiny ops)."""
        key = (self.slot, device)
        if key not in self._orders:
            m = self.opt.memory
            self._orders[key] = torch.tensor([(self.slot + 1 + i) % m for i in range(m)], device=device)
        return self._orders[key]

    def _forget(self, mask: torch.Tensor) -> None:
        self._view("W")[mask] = 0
        self._view("theta")[mask] = self.opt.theta0


def _concat(parts: list[Finished]) -> Finished:
    return Finished(*(torch.cat(column) for column in zip(*(vars(f).values() for f in parts))))


def minimize_box(objective: Objective, x_start: torch.Tensor, options: SolverOptions | None = None,
                 on_iteration: IterationHook | None = None) -> Finished:
    """Solve every row of ``x_start`` (B, n) to the end; the result's rows are in input order."""
    pool = BoxLBFGS(objective, options, on_iteration)
    pool.add(torch.arange(x_start.shape[0], device=x_start.device), x_start)
    parts = []
    while len(pool):
        fin = pool.step()
        if fin is not None:
            parts.append(fin)
    out = _concat(parts)
    order = out.ids.argsort()
    return Finished(*(v[order] for v in vars(out).values()))
