"""Finished solves' end states, kept in tensors, and carried to another c straight into the solver pool.

The c search warm-starts every solve from a finished one (its parent, a bracket end). The end
states live in preallocated tensors on the solver's device, indexed by slot: a finishing row's
memory is copied once, from the pool into its slot (BoxLBFGS.memory_sink), and a warm start
gathers its parents' memory directly into the pool's rows and rescales it there (BoxLBFGS.add
with a ``memory`` callable): no per-row tuples, no stacking, no gathered copies in between.
"""

from __future__ import annotations

import numpy as np
import torch

from advviewer.attack import gram
from advviewer.attack.box_lbfgs import Finished, GramKept, MemoryWriter


class EndStates:
    """The end states of finished solves, by objective row: (f, g, W, theta, aux, G, GF, free, known) per slot.

    The states are tensors on the solver's device, one per field (``columns``); which slot holds
    which row is host bookkeeping (numpy).
    """

    def __init__(self, capacity: int = 0) -> None:
        # slots to allocate at the first put: an ample first size costs only what is used (zeroed
        # pages are mapped lazily on the CPU), and growing (a copy of every state kept) stays rare
        self.capacity = capacity
        self.columns: dict[str, torch.Tensor] = {}
        self.slot_of = np.full(0, -1, dtype=np.int64)  # objective row -> slot (-1: not kept)
        self.row_in = np.full(0, -1, dtype=np.int64)  # slot -> objective row (-1: free)

    def __contains__(self, row: int) -> bool:
        return 0 <= row < self.slot_of.size and self.slot_of[row] >= 0

    def __getitem__(self, row: int) -> tuple:
        """(f, g, S, Y, theta, z) of solve ``row`` (copies: the slot may be reused)."""
        s, t = int(self.slot_of[row]), self.columns
        m = t["W"].shape[1] // 2
        return (float(t["f"][s]), t["g"][s].clone(), t["W"][s, m:].clone(), t["W"][s, :m].clone(), float(t["theta"][s]),
                t["aux"][s].clone())

    def slots(self, rows: np.ndarray) -> np.ndarray:
        return self.slot_of[rows]

    def keep_memory(self, ids: torch.Tensor, W: torch.Tensor, idx: torch.Tensor) -> None:
        """BoxLBFGS's memory sink: keep the curvature memory ``W[idx]`` of the finishing rows ``ids``."""
        ids_host = ids.cpu().numpy()
        free = np.flatnonzero(self.row_in < 0)
        if free.size < ids_host.size:
            self._grow(max(2 * self.row_in.size, self.row_in.size + ids_host.size, self.capacity))
            free = np.flatnonzero(self.row_in < 0)
        slots = free[: ids_host.size]
        top = int(ids_host.max()) + 1
        if top > self.slot_of.size:
            self.slot_of = np.concatenate([self.slot_of, np.full(max(top, 2 * self.slot_of.size) - self.slot_of.size, -1)])
        self.slot_of[ids_host], self.row_in[slots] = slots, ids_host
        self._field("W", W)[torch.from_numpy(slots).to(W.device)] = W[idx]

    def put(self, fin: Finished) -> None:
        """Keep the rest of the end states of the rows of ``fin``, whose memory :meth:`keep_memory` took."""
        slots = torch.from_numpy(self.slot_of[fin.ids.cpu().numpy()]).to(fin.x.device)
        for name, value in (("f", fin.f), ("g", fin.g), ("theta", fin.theta), ("aux", fin.aux), ("G", fin.G),
                            ("GF", fin.GF), ("free", fin.free), ("known", fin.gram_known)):
            self._field(name, value)[slots] = value

    def keep_only(self, rows: np.ndarray) -> None:
        """Forget every state but those of ``rows`` (their slots are reused)."""
        live = np.flatnonzero(self.row_in >= 0)
        gone = live[~np.isin(self.row_in[live], rows)]
        self.slot_of[self.row_in[gone]] = -1
        self.row_in[gone] = -1

    def _field(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """The tensor of field ``name`` (one entry per slot), made at first use with the shape of ``like``'s rows."""
        if name not in self.columns:
            self.columns[name] = torch.zeros((self.row_in.size,) + tuple(like.shape[1:]), dtype=like.dtype,
                                             device=like.device)
        return self.columns[name]

    def _grow(self, cap: int) -> None:
        old = self.row_in.size
        for name, v in self.columns.items():
            self.columns[name] = torch.zeros((cap,) + tuple(v.shape[1:]), dtype=v.dtype, device=v.device)
            self.columns[name][:old] = v
        self.row_in = np.concatenate([self.row_in, np.full(cap - old, -1)])

    def carried(self, parents: np.ndarray, q: torch.Tensor, x: torch.Tensor,
                x0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, MemoryWriter]:
        """Parents' states carried to c multiplied by ``q`` at points ``x``: (f, g, aux, memory) for BoxLBFGS.add.

        ``memory(W)`` writes the rescaled curvature memory into the pool's rows ``W`` and returns
        (theta, gram_kept).
        """
        t = self.columns
        s = torch.from_numpy(self.slots(parents)).to(x.device)
        f, g = rescaled_start(t["f"][s], t["g"][s], x, x0, q)
        theta = torch.clamp_min(2 + q * (t["theta"][s] - 2), 1e-3)

        def memory(W: torch.Tensor) -> tuple[torch.Tensor, GramKept]:
            torch.index_select(t["W"], 0, s, out=W)  # gathered straight into the pool's rows (a slice: contiguous)
            valid = rescaled_memory(W, q)
            G, GF = gram.rescaled(t["G"][s], t["GF"][s], q, valid)
            return theta, GramKept(G, GF, t["free"][s], t["known"][s])

        return f, g, t["aux"][s], memory


def rescaled_start(f, g, x, x0, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f and g at ``x`` with c multiplied by ``q``: ||r||^2 + c * loss, only the loss part scales."""
    r = x - x0
    rr = (r * r).sum(1)
    return rr + q * (f - rr), 2 * r + q[:, None] * (g - 2 * r)


def rescaled_memory(W: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Carry W (k, 2m, n: y rows, then s rows) to c multiplied by ``q``, in place; returns which pairs stay (k, m)."""
    m = W.shape[1] // 2
    S, Y = W[:, m:], W[:, :m]
    S2 = 2 * S
    Y -= S2  # y = 2 s + c * dloss: only the loss part scales
    Y *= q[:, None, None].to(S.dtype)
    Y += S2
    sy, yy = (S * Y).sum(2), (Y * Y).sum(2)
    valid = (sy > 1e-10 * yy) & (yy > 0)  # a pair with negative loss curvature may turn
    if not bool(valid.all()):
        k, i = torch.nonzero(~valid, as_tuple=True)
        W[k, i] = 0
        W[k, m + i] = 0
    return valid


def rescaled_rows(f, g, S, Y, theta, x, x0, q: torch.Tensor) -> tuple:
    """:func:`rescaled` for k solves at once, c multiplied by ``q`` (k,); also returns which pairs stay (k, m)."""
    m = S.shape[1]
    W = torch.cat([Y, S], 1)
    valid = rescaled_memory(W, q)
    f, g = rescaled_start(f, g, x, x0, q)
    return f, g, W[:, m:], W[:, :m], torch.clamp_min(2 + q * (theta - 2), 1e-3), valid


def rescaled(state: tuple, x: torch.Tensor, x0: torch.Tensor, c_old: float, c_new: float) -> tuple:
    """A finished solve's (f, g, S, Y, theta) at its point x, for the same loss at ``c_new``."""
    f, g, S, Y, theta = state[:5]
    dev = x.device
    q = torch.tensor([c_new / c_old], dtype=torch.float64).to(dev)
    out = rescaled_rows(torch.tensor([f], dtype=torch.float64).to(dev), g[None], S[None], Y[None],
                        torch.tensor([theta], dtype=torch.float64).to(dev), x[None], x0[None], q)
    f, g, S, Y, theta = (v[0] for v in out[:5])
    return float(f), g, S, Y, float(theta)
