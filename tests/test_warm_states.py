"""The c search's store of finished solves: a warm start must get its own parent's state back.

A mixed-up slot would not fail the search (a solve from the wrong memory still converges, only
slower and to a slightly different answer), so the bookkeeping is checked here directly.
"""

from __future__ import annotations

import numpy as np
import torch

from advviewer.attack.box_lbfgs import Finished
from advviewer.attack.warm_states import EndStates

M, N = 3, 7


def finished(rows: list[int]) -> tuple[Finished, torch.Tensor]:
    """Finished solves whose every field encodes their row number; and the pool's W holding their memory."""
    k = len(rows)
    r = torch.tensor(rows, dtype=torch.float64)
    W = (r[:, None, None] + torch.arange(2 * M * N, dtype=torch.float64).reshape(2 * M, N) / 1000).to(torch.float32)
    empty = torch.empty((k, 0, N), dtype=torch.float32)
    fin = Finished(ids=torch.tensor(rows), x=torch.zeros((k, N), dtype=torch.float64), f=r, g=r[:, None].repeat(1, N),
                   aux=r[:, None].repeat(1, 10), S=empty, Y=empty, theta=r + 0.5,
                   iterations=torch.ones(k, dtype=torch.int64), evaluations=torch.ones(k, dtype=torch.int64),
                   converged=torch.ones(k, dtype=torch.bool), G=r.repeat_interleave(4 * M * M).reshape(k, 2 * M, 2 * M),
                   GF=torch.zeros((k, 2 * M, 2 * M), dtype=torch.float64), free=torch.ones((k, N), dtype=torch.bool),
                   gram_known=torch.ones(k, dtype=torch.bool))
    return fin, W


def keep(store: EndStates, rows: list[int]) -> None:
    fin, W = finished(rows)
    idx = torch.arange(len(rows)).flip(0)  # the pool holds them in another order: row ids[i] at idx[i]
    store.keep_memory(fin.ids, W.flip(0), idx)
    store.put(fin)


def test_each_kept_solve_gets_its_own_state_back_through_reuse_and_growth():
    store = EndStates(capacity=2)
    keep(store, [4, 9])
    store.keep_only(np.array([9, -1]))
    keep(store, [11, 2, 30])  # one freed slot reused, then the store grows
    store.keep_only(np.array([2, 9, 30]))
    keep(store, [31])
    assert 4 not in store and 11 not in store and -1 not in store and 100 not in store
    for row in (2, 9, 30, 31):
        f, g, S, Y, theta, z = store[row]
        assert f == row and theta == row + 0.5 and (g == row).all() and (z == row).all()
        assert float(torch.floor(S).min()) == row and float(torch.floor(Y).max()) == row  # its own memory, not a neighbour's
        assert (store.columns["G"][torch.from_numpy(store.slots(np.array([row])))] == row).all()
