"""The curvature memory's inner products, kept up to date instead of recomputed every iteration.

The subspace step (lbfgs_steps.subspace_step) needs, per problem, ``G = W W^T`` (its blocks
S^T Y and S^T S form the middle matrix K) and ``G_F = W_F W_F^T``, the same over the free
variables only (W holds the m curvature pairs y and s as 2m rows of n pixels: 784 on MNIST).
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

W is float32 (see box_lbfgs.MEMORY_DTYPE); the products over n run in float32, and the kept
matrices are float64 so that adding and taking pixels does not drift. All of it is torch on the
pool's device.
"""

from __future__ import annotations

import torch

# beyond this many changed pixels, recomputing G_F (one float32 product over all n pixels) is
# cheaper than adding them one by one (float64, padded to the most changed problem)
MAX_CHANGED = 64
# Strategy: pixels are moved in and out of G_F one by one only in pools of at least this many rows.
# In a smaller pool (one image's few c values) the dozen small operations of moving them cost more
# than recomputing G_F for the rows whose free set changed (benchmarks/results/engine-torch-cpu-20261205.md).
MOVE_PIXELS_FROM_ROWS = 32
# Strategy: the products are kept up to date at all only in pools of at least this many rows; below
# it (one image's few c values) recomputing them is a handful of operations against refresh's dozens.
KEEP_FROM_ROWS = 8


def recomputed(W: torch.Tensor, free: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``W W^T`` and ``W_F W_F^T`` (float64, (k, 2m, 2m)) from scratch, for W (k, 2m, n) and free (k, n)."""
    return torch.bmm(W, W.transpose(1, 2)).to(torch.float64), free_gram(W, free)


def free_gram(W: torch.Tensor, free: torch.Tensor) -> torch.Tensor:
    """``W_F W_F^T`` (float64) from scratch."""
    return torch.bmm(W * free[:, None, :], W.transpose(1, 2)).to(torch.float64)


def refresh(W: torch.Tensor, free: torch.Tensor, free_before: torch.Tensor, G: torch.Tensor, GF: torch.Tensor,
            known: torch.Tensor, slot: int, gF: torch.Tensor, empty: torch.Tensor, keep: bool = True) -> torch.Tensor:
    """Bring ``G`` and ``GF`` (in place) up to date with W and the free set ``free``; returns ``W gF`` (k, 2m).

    ``known``: the problems whose G and GF were right for W as it was before memory slot
    ``slot`` (its y in row ``slot``, its s in row ``m + slot``) was written, and for the free set
    ``free_before``; the others are recomputed. ``empty``: problems whose memory was all zero
    before the slot was written (G and GF zero, whatever the free set: nothing to recompute).
    Afterwards every row is right for (W, free). ``keep`` False: recomputed from scratch (Strategies.kept_gram).
    ``W gF`` (the subspace step's ``W_F^T g``) comes from the same product as the new pair's
    rows: reading W (2m x n float32 per problem) is what these products cost.
    """
    if W.shape[0] < KEEP_FROM_ROWS or not keep:  # a small pool: both products from scratch, in a few operations
        G[:], GF[:] = recomputed(W, free)
        return torch.bmm(W, gF.to(W.dtype)[:, :, None])[:, :, 0].to(torch.float64)
    m = W.shape[1] // 2
    changed = free != free_before
    n_changed = torch.where(empty, 0, changed.sum(1))
    known = known | empty
    limit = MAX_CHANGED if W.shape[0] >= MOVE_PIXELS_FROM_ROWS else 0
    full = ~known | (n_changed > limit)
    A = torch.empty((W.shape[0], 5, W.shape[2]), dtype=W.dtype, device=W.device)
    A[:, 0], A[:, 1] = W[:, slot], W[:, m + slot]
    torch.mul(A[:, :2], free[:, None, :], out=A[:, 2:4])
    A[:, 4] = gF
    P = torch.bmm(W, A.transpose(1, 2)).transpose(1, 2).to(torch.float64)  # reads W once for all five rows
    if limit:
        moving = ~full & (n_changed > 0)
        if bool(moving.any()):
            _move_pixels(W, free, changed, n_changed, GF, moving)
    for M, new in ((G, P[:, :2]), (GF, P[:, 2:4])):  # the new pair's rows and columns (rows recomputed below are overwritten)
        for i, row in enumerate((slot, m + slot)):
            M[:, row, :] = new[:, i]
            M[:, :, row] = new[:, i]
    # G does not depend on the free set: a known problem whose free set changed by many pixels keeps
    # its G (the new pair written above) and only GF is recomputed
    idx = torch.nonzero(full & known).flatten()
    if idx.numel():
        GF[idx] = free_gram(W[idx], free[idx])
    idx = torch.nonzero(~known).flatten()
    if idx.numel():
        G[idx], GF[idx] = recomputed(W[idx], free[idx])
    return P[:, 4]


def _move_pixels(W, free, changed, n_changed, GF, rows: torch.Tensor) -> None:
    """Add each pixel that entered the free set to GF, take each that left it away (rows ``rows`` only)."""
    idx = torch.nonzero(rows).flatten()
    r, j = torch.nonzero(changed[idx], as_tuple=True)  # row-major: each problem's pixels together, in order
    counts = n_changed[idx]
    pos = torch.arange(r.numel(), device=W.device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    widest = int(counts.max())
    V = torch.zeros((idx.numel(), widest, W.shape[1]), dtype=torch.float64, device=W.device)  # changed pixels, zero-padded
    sign = torch.zeros(V.shape[:2], dtype=torch.float64, device=W.device)
    V[r, pos] = W[idx[r], :, j].to(torch.float64)
    sign[r, pos] = torch.where(free[idx[r], j], 1.0, -1.0).to(torch.float64)
    GF[idx] += torch.bmm((V * sign[:, :, None]).transpose(1, 2), V)


def rescaled(G: torch.Tensor, GF: torch.Tensor, q: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """G and GF after the memory is carried to another c (warm_states.rescaled_memory): ``y <- 2 (1 - q) s + q y``.

    Every y is then a fixed combination of the old y and s, so the new Gram matrices are
    ``T G T^T`` (2m x 2m, no pass over the pixels); pairs not ``valid`` (k, m) are emptied.
    """
    k, m2, _ = G.shape
    m = m2 // 2
    i = torch.arange(m, device=G.device)
    T = torch.zeros((k, m2, m2), dtype=torch.float64, device=G.device)
    T[:, i, i] = q[:, None]
    T[:, i, m + i] = 2.0 * (1.0 - q)[:, None]
    T[:, m + i, m + i] = 1.0
    T *= torch.cat([valid, valid], 1)[:, :, None]
    TT = T.transpose(1, 2)
    return T @ G @ TT, T @ GF @ TT
