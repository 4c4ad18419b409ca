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
the iterate). Float64 throughout the algebra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

# objective(ids, x) -> (f (k,), g (k, n), aux (k, ...)); ids index the original problems
Objective = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]

EPS_BIND = 1e-3
ARMIJO = 1e-4
MAX_BACKTRACKS = 10


@dataclass
class SolverOptions:
    max_iter: int = 500
    memory: int = 5
    pgtol: float = 1e-7  # stop when max |x - P(x - g)| <= pgtol (absolute: tiny perturbations need it small)
    # or when the step's predicted decrease -g.d is below dtol * |f|: then the distance to the answer
    # is below sqrt(dtol * |f| / 2) (the Hessian is at least 2 I); for the attack, whose f is about
    # ||r||^2, that is about 4e-5 ||r||
    dtol: float = 3e-9
    noise: float = 1e-7  # relative float32 rounding noise of f (the network runs in float32)
    theta0: float = 2.0  # initial curvature guess (the Hessian of ||r||^2 is 2 I)


def binding_free(x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Free-variable mask (float) and the projected-gradient sup norm per problem."""
    pg = x - (x - g).clamp(0.0, 1.0)
    pg_norm = pg.abs().amax(1)
    eps = pg.norm(dim=1).clamp(max=EPS_BIND)[:, None]
    bind = ((x <= eps) & (g > 0)) | ((x >= 1.0 - eps) & (g < 0))
    return (~bind).to(x.dtype), pg_norm


def subspace_step(g: torch.Tensor, free: torch.Tensor, S: torch.Tensor, Y: torch.Tensor, order: torch.Tensor,
                   theta: torch.Tensor) -> torch.Tensor:
    """d = -(Z^T B Z)^{-1} Z^T g on the free variables, -g / theta on the bound ones.

    ``S``, ``Y`` are (k, m, n) in storage order; ``order`` lists the slots oldest first. Empty
    slots are all-zero and drop out of the formula. With ``W = [Y, theta S]`` and
    ``K = [[-D, L^T], [L, theta S^T S]]`` (Byrd et al.), Sherman-Morrison-Woodbury gives
    ``(Z^T B Z)^{-1} = I / theta + W_F (K - W_F^T W_F / theta)^{-1} W_F^T / theta^2``.
    """
    k, m, _ = S.shape
    rank = torch.empty_like(order)
    rank[order] = torch.arange(m, device=order.device)
    later = rank[:, None] > rank[None, :]  # slot i was written after slot j
    SYS = S @ torch.cat([Y, S], 1).transpose(1, 2)  # (k, m, 2m): s_i . y_j and s_i . s_j
    SY, SS = SYS[:, :, :m], SYS[:, :, m:]
    diag = SY.diagonal(dim1=1, dim2=2)
    empty = diag <= 0
    eye = torch.eye(m, dtype=g.dtype, device=g.device)
    D = torch.diag_embed(torch.where(empty, torch.ones_like(diag), diag))
    L = SY * later
    th = theta[:, None, None]
    SS = SS + eye * empty[:, :, None].to(g.dtype)  # keep K invertible for empty slots
    K = torch.cat([torch.cat([-D, L.transpose(1, 2)], 2), torch.cat([L, th * SS], 2)], 1)
    # one masked Gram matrix of [Y, S, g] gives W_F^T W_F and W_F^T g (theta applied afterwards)
    V = torch.cat([Y, S, g[:, None, :]], 1) * free[:, None, :]
    G = V @ V.transpose(1, 2)
    scale = torch.cat([torch.ones_like(theta)[:, None].expand(k, m), theta[:, None].expand(k, m)], 1)
    A = G[:, : 2 * m, : 2 * m] * scale[:, :, None] * scale[:, None, :]
    rhs = G[:, : 2 * m, 2 * m :] * scale[:, :, None]
    try:
        v = torch.linalg.solve(K - A / th, rhs)
    except RuntimeError:  # singular for some problem: fall back to scaled steepest descent
        return -g / theta[:, None]
    gF = V[:, 2 * m]
    WFv = (V[:, : 2 * m].transpose(1, 2) @ (v * scale[:, :, None]))[:, :, 0]
    d = -(gF / theta[:, None] + WFv / theta[:, None] ** 2)
    # bound variables take a scaled gradient step, which the projection turns into "go to the bound"
    return d - (g - gF) / theta[:, None]


def project(x: torch.Tensor) -> torch.Tensor:
    """Onto the box, and onto float32's grid: the network sees exactly the x the solver holds."""
    return x.clamp(0.0, 1.0).to(torch.float32).to(x.dtype)


def line_search(objective: Objective, ids: torch.Tensor, x: torch.Tensor, f: torch.Tensor, g: torch.Tensor,
                aux: torch.Tensor, d: torch.Tensor, noise: torch.Tensor):
    """Projected Armijo backtracking for every active problem; evaluates only those still searching.

    Where the predicted decrease is below the float32 rounding ``noise`` of f, comparing values
    of f would compare rounding errors; there the decrease is estimated from the gradients.
    """
    k = x.shape[0]
    alpha = torch.ones(k, dtype=d.dtype, device=d.device)
    x_new, f_new, g_new, aux_new = x.clone(), f.clone(), g.clone(), aux.clone()
    ok = torch.zeros(k, dtype=torch.bool, device=d.device)
    n_evals = torch.zeros(k, dtype=torch.long, device=d.device)
    todo = torch.arange(k, device=d.device)
    for _ in range(MAX_BACKTRACKS):
        a = alpha[todo, None]
        xt = project(x[todo] + a * d[todo])
        ft, gt, auxt = objective(ids[todo], xt)
        n_evals[todo] += 1
        decrease = (g[todo] * (xt - x[todo])).sum(1)
        # below f's rounding noise, measure the decrease by the trapezoid rule on the gradients
        # (exact for a quadratic, and the gradients are accurate to about 1e-6)
        tiny = -decrease <= noise[todo]
        change = torch.where(tiny, 0.5 * ((g[todo] + gt) * (xt - x[todo])).sum(1), ft - f[todo])
        accept = (change <= ARMIJO * decrease) & torch.isfinite(ft)
        acc = todo[accept]
        x_new[acc], f_new[acc], g_new[acc], aux_new[acc] = xt[accept], ft[accept], gt[accept], auxt[accept]
        ok[acc] = True
        rej = ~accept
        if not rej.any():
            break
        # safeguarded quadratic interpolation of f along the (projected) path
        r = todo[rej]
        a_r = alpha[r]
        slope = decrease[rej] / a_r
        df = ft[rej] - f[r]
        a_q = -slope * a_r ** 2 / (2 * (df - slope * a_r))
        a_q = torch.where(torch.isfinite(a_q), a_q, 0.5 * a_r)
        alpha[r] = torch.minimum(torch.maximum(a_q, 0.1 * a_r), 0.5 * a_r)
        todo = r
    return x_new, f_new, g_new, aux_new, n_evals, ok
