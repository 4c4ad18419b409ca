"""The steps of a batched, box-constrained quasi-Newton method (projected L-BFGS with L-BFGS-B's subspace step).

:mod:`advviewer.attack.box_lbfgs` runs them: many independent problems ``min f_b(x_b)`` subject to
``0 <= x_b <= 1`` at once, every problem with its own curvature memory, step length, line search
and stopping test, all problems that need the objective in an iteration sharing one batched call
(one forward/backward pass of the network for the attack).

Each iteration, per problem (Bertsekas' projected Newton with an L-BFGS metric):

1. the binding set: variables at a bound whose gradient pushes outwards (within a margin
   ``eps = min(EPS_BIND, ||x - P(x - g)||)``), held fixed;
2. the step on the free variables is the L-BFGS-B subspace Newton step
   ``d_F = -(Z^T B Z)^{-1} g_F`` (a scaled gradient step ``-g / theta`` on the bound ones,
   which the projection turns into "move onto the bound") with the compact limited-memory matrix
   ``B = theta I - W M W^T`` (Byrd, Lu, Nocedal, Zhu 1995, eq. 5.11), computed with one small
   (2m x 2m) solve per problem;
3. a projected Armijo line search ``x(a) = P(x + a d)``, first trying ``a = 1``, backtracking with
   safeguarded quadratic interpolation.

Every iterate is the projection ``P`` onto the box, so ``0 <= x <= 1`` holds exactly on every
point at which the objective is evaluated (and on float32's grid, so the network sees exactly
the iterate). The algebra runs in numpy on the CPU, in float64 except the curvature pairs (see
:func:`subspace_step`): for the few rows of one image a numpy operation costs much less than a
torch one, and a solver iteration is some hundred of them. Only the network, and the one
batched product per iteration that reads the whole curvature memory (gram.refresh), run in torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# objective(ids, x) -> (f (k,), g (k, n), aux (k, ...)); ids index the objective's rows
Objective = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]

# A batch of at least BATCH_MEMORY_FROM problems keeps BATCH_MEMORY curvature pairs. There the
# solver's per-row algebra, which reads the memory (2m x 784) several times an iteration, costs
# more than the network on the MLPs, and the c search's warm starts carry the memory over, so 5
# pairs cost only a few more evaluations than 10 for a cheaper iteration, with the same answers.
# Below it the per-iteration overhead dominates and fewer iterations win, so smaller batches keep
# SolverOptions.memory (the A/B figures: benchmarks/results/code-comment-figures-20261205.md).
BATCH_MEMORY = 5
BATCH_MEMORY_FROM = 256

EPS_BIND = 1e-3
TINY = 1e-30
ARMIJO = 1e-4
MAX_BACKTRACKS = 10


@dataclass
class SolverOptions:
    max_iter: int = 500
    # curvature pairs kept: more pairs mean fewer iterations, but beyond 10 they cost more per
    # iteration than they save in batches (the n-sized products grow with m);
    # large batches keep BATCH_MEMORY instead
    memory: int = 10
    pgtol: float = 1e-7  # stop when max |x - P(x - g)| <= pgtol (absolute: tiny perturbations need it small)
    # or when the step's predicted decrease -g.d is below dtol * |f|: then the distance to the answer
    # is below sqrt(dtol * |f| / 2) (the Hessian is at least 2 I); for the attack, whose f is about
    # ||r||^2, that is about 4e-4 ||r||, and the L2 it reports moves by far less (the answer is a
    # minimum along the path). 3e-9 took twice the iterations and changed no L2 by more than 1e-4.
    dtol: float = 3e-7
    noise: float = 1e-7  # relative float32 rounding noise of f (the network runs in float32)
    theta0: float = 2.0  # initial curvature guess (the Hessian of ||r||^2 is 2 I)


def binding_free(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Free-variable mask (bool) and the projected-gradient sup norm per problem."""
    pg = x - box(x - g)
    pg_norm = np.abs(pg).max(1)
    eps = np.minimum(np.sqrt(np.einsum("ij,ij->i", pg, pg)), EPS_BIND)[:, None]
    bind = ((x <= eps) & (g > 0)) | ((x >= 1.0 - eps) & (g < 0))
    return ~bind, pg_norm


def subspace_step(g: np.ndarray, free: np.ndarray, W: np.ndarray, order: np.ndarray, theta: np.ndarray,
                  G: np.ndarray, GF: np.ndarray, Wg: np.ndarray) -> np.ndarray:
    """d = -(Z^T B Z)^{-1} Z^T g on the free variables, -g / theta on the bound ones.

    ``W`` is (k, 2m, n): the curvature pairs' ``y`` in rows 0..m-1 and ``s`` in rows m..2m-1, in
    storage order; ``order`` lists the slots oldest first. Empty slots are all-zero and drop out of
    the formula. ``G = W W^T``, ``GF = W_F W_F^T`` (float64, (k, 2m, 2m)) and ``Wg = W_F^T g``
    (k, 2m) come from the caller (see gram.py). With ``W = [Y, theta S]`` and ``K = [[-D, L^T], [L, theta S^T S]]``
    (Byrd et al.), Sherman-Morrison-Woodbury gives
    ``(Z^T B Z)^{-1} = I / theta + W_F (K - W_F^T W_F / theta)^{-1} W_F^T / theta^2``.
    The long (n-sized) products run in W's dtype (float32: they only shape the step, which the
    line search checks); the small 2m x 2m system is solved in float64.
    """
    k, m2, _ = W.shape
    m = m2 // 2
    rank = np.empty_like(order)
    rank[order] = np.arange(m)
    later = rank[:, None] > rank[None, :]  # slot i was written after slot j
    SY, SS = G[:, m:, :m], G[:, m:, m:]
    diag = np.diagonal(SY, axis1=1, axis2=2)
    empty = diag <= 0
    K = np.zeros((k, m2, m2))
    K[:, :m, m:] = (SY * later).transpose(0, 2, 1)  # L^T
    K[:, m:, :m] = SY * later  # L
    th = theta[:, None, None]
    K[:, m:, m:] = th * (SS + np.eye(m) * empty[:, :, None])  # keep K invertible for empty slots
    K[:, np.arange(m), np.arange(m)] = -np.where(empty, 1.0, diag)  # -D
    scale = np.ones((k, m2))
    scale[:, m:] = theta[:, None]
    A = GF * scale[:, :, None] * scale[:, None, :]
    try:
        v = np.linalg.solve(K - A / th, (Wg * scale)[:, :, None])
    except np.linalg.LinAlgError:  # singular for some problem: fall back to scaled steepest descent
        return -g / theta[:, None]
    WFv = np.matmul(W.transpose(0, 2, 1), (v * scale[:, :, None]).astype(W.dtype))[:, :, 0] * free
    # free: -(g_F / theta + W_F v / theta^2); bound: -g / theta (the projection turns it into "go to the bound")
    return -(g / theta[:, None] + WFv / theta[:, None] ** 2)


def box(x: np.ndarray) -> np.ndarray:
    # values below TINY become 0: iterates creeping towards the lower bound would otherwise reach
    # float32's subnormal range, where the network's arithmetic is many times slower
    return np.minimum(np.where(x > TINY, x, 0.0), 1.0)


def project(x: np.ndarray) -> np.ndarray:
    """Onto the box, and onto float32's grid: the network sees exactly the x the solver holds."""
    return box(x).astype(np.float32).astype(np.float64)


def line_search(objective: Objective, ids: np.ndarray, x: np.ndarray, f: np.ndarray, g: np.ndarray,
                aux: np.ndarray, d: np.ndarray, noise: np.ndarray, x_full: np.ndarray | None = None):
    """Projected Armijo backtracking for every active problem; evaluates only those still searching.

    Where the predicted decrease is below the float32 rounding ``noise`` of f, comparing values
    of f would compare rounding errors; there the decrease is estimated from the gradients.
    ``x_full``: ``project(x + d)`` if the caller has it already.
    """
    k = x.shape[0]
    # first trial, a = 1, for every row at once (usually accepted by all: then nothing is indexed)
    xt = project(x + d) if x_full is None else x_full
    ft, gt, auxt = objective(ids, xt)
    step = xt - x
    decrease = np.einsum("ij,ij->i", g, step)
    accept = _armijo(f, g, gt, step, ft, decrease, noise)
    n_evals = np.ones(k, dtype=np.int64)
    if accept.all():
        return xt, ft, gt, auxt, n_evals, accept
    alpha = np.ones(k)
    x_new, f_new, g_new, aux_new = x.copy(), f.copy(), g.copy(), aux.copy()
    ok = accept.copy()
    x_new[accept], f_new[accept], g_new[accept], aux_new[accept] = xt[accept], ft[accept], gt[accept], auxt[accept]
    todo = np.arange(k)
    for _ in range(MAX_BACKTRACKS - 1):
        # safeguarded quadratic interpolation of f along the (projected) path
        rej = ~accept
        r = todo[rej]
        a_r = alpha[r]
        slope = decrease[rej] / a_r
        df = ft[rej] - f[r]
        with np.errstate(divide="ignore", invalid="ignore"):
            a_q = -slope * a_r ** 2 / (2 * (df - slope * a_r))
        a_q = np.where(np.isfinite(a_q), a_q, 0.5 * a_r)
        alpha[r] = np.minimum(np.maximum(a_q, 0.1 * a_r), 0.5 * a_r)
        todo = r
        xt = project(x[todo] + alpha[todo, None] * d[todo])
        ft, gt, auxt = objective(ids[todo], xt)
        n_evals[todo] += 1
        step = xt - x[todo]
        decrease = np.einsum("ij,ij->i", g[todo], step)
        accept = _armijo(f[todo], g[todo], gt, step, ft, decrease, noise[todo])
        acc = todo[accept]
        x_new[acc], f_new[acc], g_new[acc], aux_new[acc] = xt[accept], ft[accept], gt[accept], auxt[accept]
        ok[acc] = True
        if accept.all():
            break
    return x_new, f_new, g_new, aux_new, n_evals, ok


def _armijo(f, g, gt, step, ft, decrease, noise) -> np.ndarray:
    """Sufficient decrease; below f's rounding noise measured by the trapezoid rule on the gradients
    (exact for a quadratic, and the gradients are accurate to about 1e-6)."""
    tiny = -decrease <= noise
    change = np.where(tiny, 0.5 * np.einsum("ij,ij->i", g + gt, step), ft - f)
    return (change <= ARMIJO * decrease) & np.isfinite(ft)
