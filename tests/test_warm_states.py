"""The c search's store of finished solves: a warm start must get its own parent's state back.

A mixed-up slot would not fail the search (a solve from the wrong memory still converges, only
slower and to a slightly different answer), so the bookkeeping is checked here directly.
"""

from __future__ import annotations

import numpy as np

from advviewer.attack.box_lbfgs import Finished
from advviewer.attack.warm_states import EndStates

M, N = 3, 7


def finished(rows: list[int]) -> tuple[Finished, np.ndarray]:
    """Finished solves whose every field encodes their row number; and the pool's W holding their memory."""
    k = len(rows)
    r = np.asarray(rows, dtype=float)
    W = (r[:, None, None] + np.arange(2 * M * N).reshape(2 * M, N) / 1000).astype(np.float32)
    empty = np.empty((k, 0, N), dtype=np.float32)
    fin = Finished(ids=np.asarray(rows), x=np.zeros((k, N)), f=r, g=np.repeat(r[:, None], N, 1), aux=np.repeat(r[:, None], 10, 1),
                   S=empty, Y=empty, theta=r + 0.5, iterations=np.ones(k, dtype=np.int64), evaluations=np.ones(k, dtype=np.int64),
                   converged=np.ones(k, dtype=bool), G=np.repeat(r, 4 * M * M).reshape(k, 2 * M, 2 * M),
                   GF=np.zeros((k, 2 * M, 2 * M)), free=np.ones((k, N), dtype=bool), gram_known=np.ones(k, dtype=bool))
    return fin, W


def keep(store: EndStates, rows: list[int]) -> None:
    fin, W = finished(rows)
    idx = np.arange(len(rows))[::-1]  # the pool holds them in another order: row ids[i] at idx[i]
    store.keep_memory(fin.ids, W[::-1].copy(), idx)
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
        assert np.floor(S).min() == row and np.floor(Y).max() == row  # its own memory, not a neighbour's
        assert (store.t["G"][store.slots(np.array([row]))] == row).all()
