"""The curvature memory's inner products, kept up to date instead of recomputed every iteration.

The subspace step (lbfgs_steps.subspace_step) needs, per problem, ``G = W W^T`` (its blocks
S^T Y and S^T S form the middle matrix K) and ``G_F = W_F W_F^T``, the same over the free
variables only (W holds the m curvature pairs y and s as 2m rows of n = 784 pixels).
Recomputed, they are 2m x 2m x n products per problem and iteration: on the MLPs, whose network
pass is cheap, a large share of a batched attack. Between two iterations only one pair (two rows
of W) changes, and the free set usually gains or loses a few pixels. So, as L-BFGS-B itself does (Byrd, Lu,
Nocedal, Zhu 1995, section 5, "formk"):

- the new pair's rows and columns are recomputed (2 x 2m x n);
- the pixels that entered or left the free set are added to or taken from G_F
  (2m x 2m per pixel), exactly, in float64;
- a problem whose free set changed by more than ``MAX_CHANGED`` pixels gets G_F recomputed in
  full (G does not depend on the free set); one new to the pool or whose memory was replaced,
  both.

W is float32 (see box_lbfgs.MEMORY_DTYPE); the products over n run in float32, as before, and
the kept matrices are float64 so that adding and taking pixels does not drift.
"""

from __future__ import annotations

import numpy as np
import torch

# beyond this many changed pixels, recomputing G_F (one float32 product over all n pixels) is
# cheaper than adding them one by one (float64, padded to the most changed problem)
MAX_CHANGED = 64


def recomputed(W: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``W W^T`` and ``W_F W_F^T`` (float64, (k, 2m, 2m)) from scratch, for W (k, 2m, n) and free (k, n)."""
    return np.matmul(W, W.transpose(0, 2, 1)).astype(np.float64), free_gram(W, free)


def free_gram(W: np.ndarray, free: np.ndarray) -> np.ndarray:
    """``W_F W_F^T`` (float64) from scratch."""
    return np.matmul(W * free[:, None, :], W.transpose(0, 2, 1)).astype(np.float64)


def refresh(W: np.ndarray, free: np.ndarray, free_before: np.ndarray, G: np.ndarray, GF: np.ndarray,
            known: np.ndarray, slot: int, gF: np.ndarray, empty: np.ndarray | None = None) -> np.ndarray:
    """Bring ``G`` and ``GF`` (in place) up to date with W and the free set ``free``; returns ``W gF`` (k, 2m).

    ``known``: the problems whose G and GF were right for W as it was before memory slot
    ``slot`` (its y in row ``slot``, its s in row ``m + slot``) was written, and for the free set
    ``free_before``; the others are recomputed. ``empty``: problems whose memory was all zero
    before the slot was written (G and GF zero, whatever the free set: nothing to recompute).
    Afterwards every row is right for (W, free).
    ``W gF`` (the subspace step's ``W_F^T g``) comes from the same product as the new pair's
    rows: reading W (63 kB per problem) is what these products cost.
    """
    m = W.shape[1] // 2
    changed = free != free_before
    n_changed = changed.sum(1)
    if empty is not None and empty.any():
        n_changed[empty] = 0
        known = known | empty
    full = ~known | (n_changed > MAX_CHANGED)
    pair = np.array([slot, m + slot])
    A = np.empty((W.shape[0], 5, W.shape[2]), dtype=W.dtype)
    A[:, :2] = W[:, pair]
    np.multiply(A[:, :2], free[:, None, :], out=A[:, 2:4])
    A[:, 4] = gF
    # torch's batched product reads W about once for all five rows; numpy's is slower here
    P = torch.bmm(torch.from_numpy(W), torch.from_numpy(A).transpose(1, 2)).numpy().transpose(0, 2, 1).astype(np.float64)
    if not full.all():
        _move_pixels(W, free, changed, n_changed, GF, ~full & (n_changed > 0))
    if known.any():  # the new pair's rows and columns (rows recomputed below are overwritten)
        for M, new in ((G, P[:, :2]), (GF, P[:, 2:4])):
            M[:, pair, :] = new
            M[:, :, pair] = new.transpose(0, 2, 1)
    # G does not depend on the free set: a known problem whose free set changed by many pixels keeps
    # its G (the new pair written above) and only GF is recomputed
    idx = np.flatnonzero(full & known)
    if idx.size:
        GF[idx] = free_gram(W[idx], free[idx])
    idx = np.flatnonzero(~known)
    if idx.size:
        G[idx], GF[idx] = recomputed(W[idx], free[idx])
    return P[:, 4]


def _move_pixels(W, free, changed, n_changed, GF, rows: np.ndarray) -> None:
    """Add each pixel that entered the free set to GF, take each that left it away (rows ``rows`` only)."""
    idx = np.flatnonzero(rows)
    if not idx.size:
        return
    r, j = np.nonzero(changed[idx])  # row-major: each problem's pixels together, in order
    counts = n_changed[idx]
    pos = np.arange(r.size) - np.repeat(np.cumsum(counts) - counts, counts)
    V = np.zeros((idx.size, int(counts.max()), W.shape[1]))  # each problem's changed pixels, zero-padded
    sign = np.zeros(V.shape[:2])
    V[r, pos] = W[idx[r], :, j]
    sign[r, pos] = np.where(free[idx[r], j], 1.0, -1.0)
    GF[idx] += np.matmul((V * sign[:, :, None]).transpose(0, 2, 1), V)


def rescaled(G: np.ndarray, GF: np.ndarray, q: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G and GF after the memory is carried to another c (warm_states.rescaled_memory): ``y <- 2 (1 - q) s + q y``.

    Every y is then a fixed combination of the old y and s, so the new Gram matrices are
    ``T G T^T`` (2m x 2m, no pass over the pixels); pairs not ``valid`` (k, m) are emptied.
    """
    k, m2, _ = G.shape
    m = m2 // 2
    i = np.arange(m)
    T = np.zeros((k, m2, m2))
    T[:, i, i] = q[:, None]
    T[:, i, m + i] = 2.0 * (1.0 - q)[:, None]
    T[:, m + i, m + i] = 1.0
    T *= np.concatenate([valid, valid], 1)[:, :, None]
    TT = T.transpose(0, 2, 1)
    return T @ G @ TT, T @ GF @ TT
