"""The batched box-constrained solver on problems whose answer is known."""

import numpy as np
import scipy.optimize
import torch

from advviewer.attack import box_lbfgs
from advviewer.attack.box_lbfgs import BoxLBFGS, Finished
from advviewer.attack.lbfgs_steps import SolverOptions

TIGHT = SolverOptions(pgtol=1e-9, dtol=1e-18)  # the iterates live on float32's grid: about 6e-8 apart near 1


def in_torch(objective):
    """A numpy objective (ids, x) -> (f, g, aux) as the solver calls it: torch in, torch float64 out."""

    def wrapped(ids: torch.Tensor, x: torch.Tensor):
        f, g, aux = objective(ids.cpu().numpy(), x.cpu().numpy())
        return tuple(torch.as_tensor(np.asarray(v, dtype=np.float64), device=x.device) for v in (f, g, aux))

    return wrapped


def t64(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def minimize_numpy(objective, x_start, options=None, on_iteration=None):
    """The solver on a numpy objective and start (the test problems are numpy); the answer's fields as numpy."""
    fin = box_lbfgs.minimize_box(in_torch(objective), t64(x_start), options, on_iteration)
    return Finished(*(v.cpu().numpy() for v in vars(fin).values()))


def numpy_pool(objective, options) -> BoxLBFGS:
    return BoxLBFGS(in_torch(objective), options)


def quadratic(centres: np.ndarray, scales: np.ndarray):
    """f_b(x) = sum_i scales_i (x_i - centres_bi)^2: the box answer is clip(centres, 0, 1)."""

    def objective(ids, x):
        d = x - centres[ids]
        return (scales * d * d).sum(1), 2 * scales * d, d[:, :1].copy()

    return objective


def test_separable_quadratic_lands_on_the_clipped_centre():
    rng = np.random.default_rng(0)
    centres = rng.random((6, 50)) * 3 - 1  # many outside the box
    scales = np.logspace(0, 2, 50)  # condition number 100
    fin = minimize_numpy(quadratic(centres, scales), np.full((6, 50), 0.5), TIGHT)
    assert np.allclose(fin.x, np.clip(centres, 0, 1), atol=1e-6)


def test_every_iterate_stays_in_the_box():
    rng = np.random.default_rng(1)
    centres = rng.random((4, 30)) * 4 - 2
    seen = []
    minimize_numpy(quadratic(centres, np.ones(30)), rng.random((4, 30)),
                 on_iteration=lambda it, ids, x, f, aux: seen.append(x.cpu().numpy().copy()))
    xs = np.concatenate(seen)
    assert xs.min() >= 0.0 and xs.max() <= 1.0


def coupled_problem(seed: int, n: int):
    """Three non-separable convex problems in n variables: a log-sum-exp of 8 linear forms plus a quadratic."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((3, 8, n))
    x0 = rng.random((3, n))

    def objective(ids, x):
        z = 3 * np.einsum("bkn,bn->bk", M[ids], x)
        top = z.max(1, keepdims=True)
        e = np.exp(z - top)
        f = np.log(e.sum(1)) + top[:, 0] + ((x - x0[ids]) ** 2).sum(1)
        return f, 3 * np.einsum("bk,bkn->bn", e / e.sum(1, keepdims=True), M[ids]) + 2 * (x - x0[ids]), z

    return M, x0, objective


def test_coupled_problem_matches_scipy_lbfgsb():
    """A non-separable convex function: a log-sum-exp plus a quadratic, against scipy's L-BFGS-B."""
    M, x0, objective = coupled_problem(seed=2, n=40)

    fin = minimize_numpy(objective, x0.copy(), TIGHT)
    for b in range(3):
        def fg(v, b=b):
            f, grad, _ = objective(np.array([b]), v[None])
            return float(f[0]), grad[0]

        ref = scipy.optimize.minimize(fg, x0[b], jac=True, method="L-BFGS-B", bounds=[(0, 1)] * 40,
                                      options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000))
        assert abs(float(fin.f[b]) - ref.fun) <= 1e-7 * max(1.0, abs(ref.fun))
        assert np.abs(fin.x[b] - ref.x).max() < 1e-3


def test_rows_joining_a_running_pool_are_solved_like_fresh_ones():
    rng = np.random.default_rng(3)
    centres = rng.random((5, 20)) * 2 - 0.5
    scales = np.logspace(0, 1, 20)
    objective = quadratic(centres, scales)
    pool = numpy_pool(objective, TIGHT)
    pool.add(np.array([0, 1]), t64(np.full((2, 20), 0.5)))
    done = {}
    steps = 0
    while len(pool):
        fin = pool.step()
        steps += 1
        if steps == 2:
            pool.add(np.array([2, 3, 4]), t64(np.zeros((3, 20))))
        if fin is not None:
            done.update({int(i): x.numpy() for i, x in zip(fin.ids, fin.x)})
    assert sorted(done) == [0, 1, 2, 3, 4]
    for i, x in done.items():
        assert np.allclose(x, np.clip(centres[i], 0, 1), atol=1e-6)


def test_rows_dropped_unfinished_leave_the_others_untouched():
    rng = np.random.default_rng(4)
    centres = rng.random((4, 20)) * 2 - 0.5
    pool = numpy_pool(quadratic(centres, np.logspace(0, 1, 20)), TIGHT)
    pool.add(np.arange(4), t64(np.full((4, 20), 0.5)))
    pool.step()
    gone = pool.drop([1, 2])
    assert sorted(gone.ids.tolist()) == [1, 2] and len(pool) == 2
    done = {}
    while len(pool):
        fin = pool.step()
        if fin is not None:
            done.update({int(i): x.numpy() for i, x in zip(fin.ids, fin.x)})
    assert sorted(done) == [0, 3]
    for i, x in done.items():
        assert np.allclose(x, np.clip(centres[i], 0, 1), atol=1e-6)


def test_kept_gram_matrices_equal_recomputed_ones():
    """Incremental Gram upkeep (new pair, pixels entering and leaving the free set) matches a recomputation."""
    from advviewer.attack import gram

    rng = np.random.default_rng(5)
    k, m, n = 4, 3, 200
    W = torch.zeros((k, 2 * m, n), dtype=torch.float32)
    free = torch.from_numpy(rng.random((k, n)) > 0.5)  # an empty memory's Grams are zero whatever the free set was
    G, GF = torch.zeros((k, 2 * m, 2 * m), dtype=torch.float64), torch.zeros((k, 2 * m, 2 * m), dtype=torch.float64)
    known, empty = torch.zeros(k, dtype=torch.bool), torch.ones(k, dtype=torch.bool)
    for it in range(12):
        slot = it % m
        W[:, slot] = torch.from_numpy(rng.standard_normal((k, n)))  # a new pair: y in row slot, s in row m + slot
        W[:, m + slot] = torch.from_numpy(rng.standard_normal((k, n)))
        new_free = free.clone()
        for row, flips in enumerate((3, 0, gram.MAX_CHANGED + 5, 17)):  # few, none, many (recomputed), some
            new_free[row, torch.from_numpy(rng.choice(n, flips, replace=False))] ^= True
        g = torch.from_numpy(rng.standard_normal((k, n)))
        Wg = gram.refresh(W, new_free, free, G, GF, known, slot, g * new_free, empty)
        free, known, empty = new_free, torch.ones(k, dtype=torch.bool), torch.zeros(k, dtype=torch.bool)
        G_ref, GF_ref = gram.recomputed(W, free)
        tol = 1e-5 * float(G_ref.abs().max())
        assert float((G - G_ref).abs().max()) < tol and float((GF - GF_ref).abs().max()) < tol
        assert torch.allclose(Wg, torch.einsum("kan,kn->ka", W.to(torch.float64), g * free), atol=tol)


def test_solver_keeping_gram_matrices_matches_recomputing_them(monkeypatch):
    """The pool's answers with kept Gram matrices equal those with the matrices recomputed every step."""
    from advviewer.attack import gram

    M, x0, objective = coupled_problem(seed=6, n=60)

    # (a pool this small recomputes its products by default: keep and move pixels at any size here)
    monkeypatch.setattr(gram, "KEEP_FROM_ROWS", 0)
    monkeypatch.setattr(gram, "MOVE_PIXELS_FROM_ROWS", 0)
    kept = minimize_numpy(objective, x0.copy(), TIGHT)

    def refresh_from_scratch(W, free, free_before, G, GF, known, slot, gF, empty=None, keep=True):
        G[:], GF[:] = gram.recomputed(W, free)
        return torch.einsum("kan,kn->ka", W, gF.to(W.dtype)).to(torch.float64)

    monkeypatch.setattr(box_lbfgs.gram, "refresh", refresh_from_scratch)
    fresh = minimize_numpy(objective, x0.copy(), TIGHT)
    assert np.allclose(kept.f, fresh.f, rtol=1e-9)
    assert np.abs(kept.x - fresh.x).max() < 1e-4


def test_gram_matrices_carried_to_another_c_equal_recomputed_ones():
    """A warm start at another c rescales every y; the carried G and GF match those of the rescaled memory."""
    from advviewer.attack import gram
    from advviewer.attack.warm_states import rescaled_rows

    rng = np.random.default_rng(7)
    k, m, n = 3, 4, 150
    S = torch.from_numpy(rng.standard_normal((k, m, n)).astype(np.float32))
    Y = (2 * S + 0.3 * torch.from_numpy(rng.standard_normal((k, m, n)))).to(torch.float32)
    Y[1, 2] = -S[1, 2]  # negative curvature: this pair is dropped when carried
    free = torch.from_numpy(rng.random((k, n)) > 0.3)
    G, GF = gram.recomputed(torch.cat([Y, S], 1), free)
    x0 = t64(rng.random((k, n)))
    q = t64([1.5, 0.8, 3.0])
    _, _, S2, Y2, _, valid = rescaled_rows(torch.ones(k, dtype=torch.float64), t64(rng.standard_normal((k, n))), S, Y,
                                           torch.full((k,), 2.0, dtype=torch.float64), x0 + 0.01, x0, q)
    assert not valid[1, 2] and int(valid.sum()) == k * m - 1
    G2, GF2 = gram.rescaled(G, GF, q, valid)
    G_ref, GF_ref = gram.recomputed(torch.cat([Y2, S2], 1), free)
    tol = 1e-5 * float(G_ref.abs().max())
    assert float((G2 - G_ref).abs().max()) < tol and float((GF2 - GF_ref).abs().max()) < tol
