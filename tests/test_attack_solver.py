"""The batched box-constrained solver on problems whose answer is known."""

import numpy as np
import pytest
import scipy.optimize
import torch

from advviewer.attack.box_lbfgs import BoxLBFGS, minimize_box
from advviewer.attack.lbfgs_steps import SolverOptions

TIGHT = SolverOptions(pgtol=1e-9, dtol=1e-18)  # the iterates live on float32's grid: about 6e-8 apart near 1


@pytest.fixture(autouse=True)
def one_thread():
    """As the attack runs it (lbfgs_attack does this itself): tiny ops on two threads crawl on a shared machine."""
    from advviewer.threads import torch_threads

    with torch_threads(1):
        yield


def quadratic(centres: torch.Tensor, scales: torch.Tensor):
    """f_b(x) = sum_i scales_i (x_i - centres_bi)^2: the box answer is clip(centres, 0, 1)."""

    def objective(ids, x):
        d = x - centres[ids]
        return (scales * d * d).sum(1), 2 * scales * d, d[:, :1].clone()

    return objective


def test_separable_quadratic_lands_on_the_clipped_centre():
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(6, 50, generator=g, dtype=torch.float64) * 3 - 1  # many outside the box
    scales = torch.logspace(0, 2, 50, dtype=torch.float64)  # condition number 100
    fin = minimize_box(quadratic(centres, scales), torch.full((6, 50), 0.5, dtype=torch.float64), TIGHT)
    assert torch.allclose(fin.x, centres.clamp(0, 1), atol=1e-6)


def test_every_iterate_stays_in_the_box():
    g = torch.Generator().manual_seed(1)
    centres = torch.rand(4, 30, generator=g, dtype=torch.float64) * 4 - 2
    seen = []
    minimize_box(quadratic(centres, torch.ones(30, dtype=torch.float64)), torch.rand(4, 30, generator=g, dtype=torch.float64),
                 on_iteration=lambda it, ids, x, f, aux: seen.append(x.clone()))
    xs = torch.cat(seen)
    assert xs.min() >= 0.0 and xs.max() <= 1.0


def test_coupled_problem_matches_scipy_lbfgsb():
    """A non-separable convex function: a log-sum-exp plus a quadratic, against scipy's L-BFGS-B."""
    g = torch.Generator().manual_seed(2)
    M = torch.randn(3, 8, 40, generator=g, dtype=torch.float64)
    x0 = torch.rand(3, 40, generator=g, dtype=torch.float64)

    def objective(ids, x):
        x = x.detach().requires_grad_(True)
        z = torch.einsum("bkn,bn->bk", M[ids], x)
        f = torch.logsumexp(3 * z, 1) + ((x - x0[ids]) ** 2).sum(1)
        (grad,) = torch.autograd.grad(f.sum(), x)
        return f.detach(), grad, z.detach()

    fin = minimize_box(objective, x0.clone(), TIGHT)
    for b in range(3):
        def fg(v, b=b):
            f, grad, _ = objective(torch.tensor([b]), torch.tensor(v)[None])
            return float(f[0]), grad[0].numpy()

        ref = scipy.optimize.minimize(fg, x0[b].numpy(), jac=True, method="L-BFGS-B", bounds=[(0, 1)] * 40,
                                      options=dict(ftol=1e-15, gtol=1e-10, maxiter=5000))
        assert abs(float(fin.f[b]) - ref.fun) <= 1e-7 * max(1.0, abs(ref.fun))
        assert np.abs(fin.x[b].numpy() - ref.x).max() < 1e-3


def test_rows_joining_a_running_pool_are_solved_like_fresh_ones():
    g = torch.Generator().manual_seed(3)
    centres = torch.rand(5, 20, generator=g, dtype=torch.float64) * 2 - 0.5
    scales = torch.logspace(0, 1, 20, dtype=torch.float64)
    objective = quadratic(centres, scales)
    pool = BoxLBFGS(objective, TIGHT)
    pool.add(torch.tensor([0, 1]), torch.full((2, 20), 0.5, dtype=torch.float64))
    done = {}
    steps = 0
    while len(pool):
        fin = pool.step()
        steps += 1
        if steps == 2:
            pool.add(torch.tensor([2, 3, 4]), torch.zeros(3, 20, dtype=torch.float64))
        if fin is not None:
            done.update({int(i): x for i, x in zip(fin.ids, fin.x)})
    assert sorted(done) == [0, 1, 2, 3, 4]
    for i, x in done.items():
        assert torch.allclose(x, centres[i].clamp(0, 1), atol=1e-6)
