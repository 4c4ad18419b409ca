"""Finished solves' end states, kept in arrays, and carried to another c straight into the solver pool.

The c search warm-starts every solve from a finished one (its parent, a bracket end). The end
states used to be per-row tuples in a dict, stacked again for every launch, rescaled through
several temporaries and then copied into the pool: per problem and round, four full copies of
the curvature memory (2m x 784 float32) and a dozen small ``np.stack`` calls. Here they live in
preallocated arrays indexed by slot: a finishing row's memory is copied once, from the pool into
its slot (BoxLBFGS.memory_sink), and a warm start gathers its parents' memory directly into the
pool's rows and rescales it there (BoxLBFGS.add with a ``memory`` callable). The arithmetic is
the same as before, operation for operation, so the results are bit-identical.
"""

from __future__ import annotations

import numpy as np

from advviewer.attack import gram
from advviewer.attack.box_lbfgs import Finished


class EndStates:
    """The end states of finished solves, by objective row: (f, g, W, theta, aux, G, GF, free, known) per slot."""

    def __init__(self, capacity: int = 0) -> None:
        # slots to allocate at the first put: np.zeros maps pages lazily, so an ample first size
        # costs only what is used, and growing (a copy of every state kept) stays rare
        self.capacity = capacity
        self.t: dict[str, np.ndarray] = {}
        self.slot_of = np.full(0, -1, dtype=np.int64)  # objective row -> slot (-1: not kept)
        self.row_in = np.full(0, -1, dtype=np.int64)  # slot -> objective row (-1: free)

    def __contains__(self, row: int) -> bool:
        return 0 <= row < self.slot_of.size and self.slot_of[row] >= 0

    def __getitem__(self, row: int) -> tuple:
        """(f, g, S, Y, theta, z) of solve ``row`` (copies: the slot may be reused)."""
        s, t = self.slot_of[row], self.t
        m = t["W"].shape[1] // 2
        return (t["f"][s], t["g"][s].copy(), t["W"][s, m:].copy(), t["W"][s, :m].copy(), t["theta"][s], t["aux"][s].copy())

    def slots(self, rows: np.ndarray) -> np.ndarray:
        return self.slot_of[rows]

    def keep_memory(self, ids: np.ndarray, W: np.ndarray, idx: np.ndarray) -> None:
        """BoxLBFGS's memory sink: keep the curvature memory ``W[idx]`` of the finishing rows ``ids``.

        Row by row: one copy, and no gathered temporary (a fresh array that size faults its pages
        in every time; a slot's pages stay mapped once written).
        """
        free = np.flatnonzero(self.row_in < 0)
        if free.size < ids.size:
            self._grow(max(2 * self.row_in.size, self.row_in.size + ids.size, self.capacity))
            free = np.flatnonzero(self.row_in < 0)
        slots = free[: ids.size]
        top = int(ids.max()) + 1
        if top > self.slot_of.size:
            self.slot_of = np.concatenate([self.slot_of, np.full(max(top, 2 * self.slot_of.size) - self.slot_of.size, -1)])
        self.slot_of[ids], self.row_in[slots] = slots, ids
        dst = self._field("W", W)
        for s, i in zip(slots.tolist(), idx.tolist()):
            dst[s] = W[i]

    def put(self, fin: Finished) -> None:
        """Keep the rest of the end states of the rows of ``fin``, whose memory :meth:`keep_memory` took."""
        slots = self.slot_of[fin.ids]
        for name, value in (("f", fin.f), ("g", fin.g), ("theta", fin.theta), ("aux", fin.aux), ("G", fin.G),
                            ("GF", fin.GF), ("free", fin.free), ("known", fin.gram_known)):
            self._field(name, value)[slots] = value

    def keep_only(self, rows: np.ndarray) -> None:
        """Forget every state but those of ``rows`` (their slots are reused)."""
        live = np.flatnonzero(self.row_in >= 0)
        gone = live[~np.isin(self.row_in[live], rows)]
        self.slot_of[self.row_in[gone]] = -1
        self.row_in[gone] = -1

    def _field(self, name: str, like: np.ndarray) -> np.ndarray:
        """The array of field ``name`` (one entry per slot), made at first use with the shape of ``like``'s rows."""
        if name not in self.t:
            self.t[name] = np.zeros((self.row_in.size,) + like.shape[1:], dtype=like.dtype)
        return self.t[name]

    def _grow(self, cap: int) -> None:
        old = self.row_in.size
        for name, v in self.t.items():
            self.t[name] = np.zeros((cap,) + v.shape[1:], dtype=v.dtype)
            self.t[name][:old] = v
        self.row_in = np.concatenate([self.row_in, np.full(cap - old, -1)])

    def carried(self, parents: np.ndarray, q: np.ndarray, x: np.ndarray, x0: np.ndarray) -> tuple:
        """Parents' states carried to c multiplied by ``q`` at points ``x``: (f, g, aux, memory) for BoxLBFGS.add.

        ``memory(W)`` writes the rescaled curvature memory into the pool's rows ``W`` and returns
        (theta, gram_kept).
        """
        s, t = self.slots(parents), self.t
        f, g = rescaled_start(t["f"][s], t["g"][s], x, x0, q)
        theta = np.maximum(2 + q * (t["theta"][s] - 2), 1e-3)

        def memory(W: np.ndarray) -> tuple:
            np.take(t["W"], s, axis=0, out=W, mode="clip")  # "raise" would buffer the copy
            valid = rescaled_memory(W, q)
            G, GF = gram.rescaled(t["G"][s], t["GF"][s], q, valid)
            return theta, (G, GF, t["free"][s], t["known"][s])

        return f, g, t["aux"][s], memory


def rescaled_start(f, g, x, x0, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f and g at ``x`` with c multiplied by ``q``: ||r||^2 + c * loss, only the loss part scales."""
    r = x - x0
    rr = np.einsum("ij,ij->i", r, r)
    return rr + q * (f - rr), 2 * r + q[:, None] * (g - 2 * r)


def rescaled_memory(W: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Carry W (k, 2m, n: y rows, then s rows) to c multiplied by ``q``, in place; returns which pairs stay (k, m)."""
    m = W.shape[1] // 2
    S, Y = W[:, m:], W[:, :m]
    S2 = 2 * S
    Y -= S2  # y = 2 s + c * dloss: only the loss part scales
    Y *= q[:, None, None].astype(S.dtype)
    Y += S2
    sy, yy = np.einsum("kij,kij->ki", S, Y), np.einsum("kij,kij->ki", Y, Y)
    valid = (sy > 1e-10 * yy) & (yy > 0)  # a pair with negative loss curvature may turn
    if not valid.all():  # times 0 (not = 0: the same signed zeros as before); cheaper than a broadcast bool mask
        k, i = np.nonzero(~valid)
        W[k, i] *= np.float32(0)
        W[k, m + i] *= np.float32(0)
    return valid


def rescaled_rows(f, g, S, Y, theta, x, x0, q: np.ndarray) -> tuple:
    """:func:`rescaled` for k solves at once, c multiplied by ``q`` (k,); also returns which pairs stay (k, m)."""
    m = S.shape[1]
    W = np.concatenate([Y, S], 1)
    valid = rescaled_memory(W, q)
    f, g = rescaled_start(f, g, x, x0, q)
    return f, g, W[:, m:], W[:, :m], np.maximum(2 + q * (theta - 2), 1e-3), valid


def rescaled(state: tuple, x: np.ndarray, x0: np.ndarray, c_old: float, c_new: float) -> tuple:
    """A finished solve's (f, g, S, Y, theta) at its point x, for the same loss at ``c_new``."""
    f, g, S, Y, theta = state[:5]
    out = rescaled_rows(np.array([f]), g[None], S[None], Y[None], np.array([theta]), x[None], x0[None],
                        np.array([c_new / c_old]))
    f, g, S, Y, theta = (v[0] for v in out[:5])
    return float(f), g, S, Y, float(theta)
