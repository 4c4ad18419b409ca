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
the iterate). The algebra is torch on the model's device, in float64 except the curvature pairs
(see :func:`subspace_step`): no copy to the host per evaluation on a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch

# objective(ids, x) -> (f (k,), g (k, n), aux (k, ...)); ids index the objective's rows
Objective = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]

# A batch of at least BATCH_MEMORY_FROM problems keeps BATCH_MEMORY curvature pairs. There the
# solver's per-row algebra, which reads the memory (2m x n) several times an iteration, costs
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
    keep_gram: bool = True  # Strategies.kept_gram: the Gram products kept up to date (gram.py), not recomputed


def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise inner products (k,) of two (k, n) arrays."""
    return (a * b).sum(1)


def binding_free(x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Free-variable mask (bool) and the projected-gradient sup norm per problem."""
    pg = x - torch.clamp(x - g, 0.0, 1.0)
    pg_norm = pg.abs().amax(1)
    eps = torch.clamp_max(torch.linalg.vector_norm(pg, dim=1), EPS_BIND)[:, None]
    # bound: within eps of the bound the gradient pushes towards: x <= eps where g > 0, x >= 1 - eps where g < 0,
    # that is (x - 1/2) sign(g) <= eps - 1/2 (never where g = 0); free: the others
    return (x - 0.5) * torch.sign(g) > eps - 0.5, pg_norm


def subspace_step(g: torch.Tensor, free: torch.Tensor, W: torch.Tensor, masks: BlockMasks, theta: torch.Tensor,
                  G: torch.Tensor, GF: torch.Tensor, Wg: torch.Tensor) -> torch.Tensor:
    """d = -(Z^T B Z)^{-1} Z^T g on the free variables, -g / theta on the bound ones.

    ``W`` is (k, 2m, n): the curvature pairs' ``y`` in rows 0..m-1 and ``s`` in rows m..2m-1, in
    storage order; ``masks``: where the blocks of the middle matrix sit for the order the slots were
    written in (:func:`block_masks`). Empty slots are all-zero and drop out of the formula.
    ``G = W W^T``, ``GF = W_F W_F^T`` (float64, (k, 2m, 2m)) and ``Wg = W_F^T g`` (k, 2m) come from the
    caller (see gram.py). With ``W = [Y, theta S]`` and ``K = [[-D, L^T], [L, theta S^T S]]``
    (Byrd et al.), Sherman-Morrison-Woodbury gives
    ``(Z^T B Z)^{-1} = I / theta + W_F (K - W_F^T W_F / theta)^{-1} W_F^T / theta^2``.
    The long (n-sized) products run in W's dtype (float32: they only shape the step, which the
    line search checks); the small 2m x 2m system is solved in float64.
    """
    column = theta[:, None]
    scale = torch.where(masks.s_rows, column, 1.0)  # (k, 2m): 1 on the y rows, theta on the s rows
    try:
        v = torch.linalg.solve(_middle_matrix(G, GF, masks, column[:, :, None]), (Wg * scale)[:, :, None])
    except torch.linalg.LinAlgError:  # singular for some problem: fall back to scaled steepest descent
        return -g / column
    # free: -(g_F + W_F (scale v) / theta) / theta; bound: -g / theta (the projection turns it into "go to the bound")
    WFv = torch.bmm(((v[:, :, 0] * scale) / column).to(W.dtype)[:, None, :], W)[:, 0] * free
    return (WFv + g).div_(-column)


@dataclass(frozen=True)
class BlockMasks:
    """Where the middle matrix's blocks take G's entries (float64, (2m, 2m)), for one order of the memory's slots."""

    later: torch.Tensor  # [[0, later^T], [later, 0]]: L (slot i written after slot j) and its transpose
    ss: torch.Tensor  # the S^T S block
    yy: torch.Tensor  # the Y^T Y block
    off: torch.Tensor  # both off-diagonal blocks
    s_rows: torch.Tensor  # (2m,) bool: the s rows of W


@lru_cache(maxsize=256)
def block_masks(slot: int, m: int, device: torch.device) -> BlockMasks:
    """The masks for m memory slots of which ``slot`` was written last (made once: every pool, every call, reads the
    same m of them)."""
    age = [(slot - i) % m for i in range(m)]  # 0: the newest
    later = torch.tensor([[float(age[i] < age[j]) for j in range(m)] for i in range(m)], dtype=torch.float64)
    zero, one = torch.zeros((m, m), dtype=torch.float64), torch.ones((m, m), dtype=torch.float64)
    return BlockMasks(torch.cat([torch.cat([zero, later.T], 1), torch.cat([later, zero], 1)], 0).to(device),
                      torch.block_diag(zero, one).to(device), torch.block_diag(one, zero).to(device),
                      torch.cat([torch.cat([zero, one], 1), torch.cat([one, zero], 1)], 0).to(device),
                      (torch.arange(2 * m) >= m).to(device))


def _middle_matrix(G: torch.Tensor, GF: torch.Tensor, masks: BlockMasks, th: torch.Tensor) -> torch.Tensor:
    """``K - W_F^T W_F / theta`` (k, 2m, 2m), float64: the small system of the subspace step.

    With ``W = [Y, theta S]`` scaled by ``s = (1, theta)``: K's off-diagonal blocks are L and L^T
    (the ``later`` entries of G's S^T Y and Y^T S blocks), its S^T S block is theta S^T S, its
    Y block -D (the diagonal of S^T Y); ``W_F^T W_F / theta`` is ``GF * s s^T / theta``, that is
    GF's Y block over theta, its off-diagonal blocks as they are and its S block times theta.
    Empty slots (s^T y = 0) get 1 on K's diagonal in both blocks, so that the system stays invertible.
    """
    m = G.shape[1] // 2
    sy = torch.diagonal(G[:, m:, :m], dim1=1, dim2=2)
    empty = sy <= 0
    # K's diagonal where it is not G's: -D on the Y block (-1 where empty), theta on the S block's empty slots
    diagonal = torch.cat([torch.where(empty, -1.0, -sy), empty * th[:, :, 0]], 1)
    A = G * masks.later - GF * masks.off + ((G - GF) * masks.ss) * th - (GF * masks.yy) / th
    return A + torch.diag_embed(diagonal)


def box(x: torch.Tensor) -> torch.Tensor:
    # values below TINY become 0: iterates creeping towards the lower bound would otherwise reach
    # float32's subnormal range, where the network's arithmetic is many times slower
    return torch.where(x > TINY, x, 0.0).clamp_max(1.0)


def project(x: torch.Tensor) -> torch.Tensor:
    """Onto the box, and onto float32's grid: the network sees exactly the x the solver holds."""
    return box(x).to(torch.float32).to(torch.float64)


@dataclass
class Trial:
    """Points the line search evaluated, for some rows: where, the objective's value, gradient and aux there."""

    x: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    aux: torch.Tensor


@dataclass
class LineSearchResult:
    """Each row's accepted point (its start where the search failed), evaluations spent, and whether it succeeded."""

    point: Trial
    evaluations: torch.Tensor  # (k,) int64
    ok: torch.Tensor  # (k,) bool


def line_search(objective: Objective, ids: torch.Tensor, start: Trial, d: torch.Tensor, noise: torch.Tensor,
                x_full: torch.Tensor | None = None) -> LineSearchResult:
    """Projected Armijo backtracking for every active problem; evaluates only those still searching.

    Where the predicted decrease is below the float32 rounding ``noise`` of f, comparing values
    of f would compare rounding errors; there the decrease is estimated from the gradients.
    ``x_full``: ``project(x + d)`` if the caller has it already.
    """
    x, f, g = start.x, start.f, start.g
    k = x.shape[0]
    # first trial, a = 1, for every row at once (usually accepted by all: then nothing is indexed)
    xt = project(x + d) if x_full is None else x_full
    trial = Trial(xt, *objective(ids, xt))
    step = xt - x
    decrease = dot(g, step)
    accept = _armijo(f, g, trial, step, decrease, noise)
    n_evals = torch.ones(k, dtype=torch.int64, device=x.device)
    if bool(accept.all()):
        return LineSearchResult(trial, n_evals, accept)
    new = Trial(x.clone(), f.clone(), g.clone(), start.aux.clone())
    _take(new, torch.nonzero(accept).flatten(), trial, accept)
    ok = accept.clone()
    alpha = torch.ones(k, dtype=torch.float64, device=x.device)
    todo = torch.arange(k, device=x.device)
    for _ in range(MAX_BACKTRACKS - 1):
        rej = ~accept
        todo = _shorter_steps(alpha, todo, rej, decrease, trial.f, f)
        xt = project(x[todo] + alpha[todo, None] * d[todo])
        trial = Trial(xt, *objective(ids[todo], xt))
        n_evals[todo] += 1
        step = xt - x[todo]
        decrease = dot(g[todo], step)
        accept = _armijo(f[todo], g[todo], trial, step, decrease, noise[todo])
        acc = todo[accept]
        _take(new, acc, trial, accept)
        ok[acc] = True
        if bool(accept.all()):
            break
    return LineSearchResult(new, n_evals, ok)


def _shorter_steps(alpha, todo, rej, decrease, f_trial, f) -> torch.Tensor:
    """The rejected rows' next step length, by safeguarded quadratic interpolation of f along the (projected)
    path (in ``alpha``, in place); returns those rows."""
    r = todo[rej]
    a_r = alpha[r]
    slope = decrease[rej] / a_r
    df = f_trial[rej] - f[r]
    a_q = -slope * a_r ** 2 / (2 * (df - slope * a_r))
    a_q = torch.where(torch.isfinite(a_q), a_q, 0.5 * a_r)
    alpha[r] = torch.minimum(torch.maximum(a_q, 0.1 * a_r), 0.5 * a_r)
    return r


def _take(into: Trial, rows: torch.Tensor, trial: Trial, accepted: torch.Tensor) -> None:
    """The accepted trial points into ``into``'s ``rows``."""
    into.x[rows], into.f[rows] = trial.x[accepted], trial.f[accepted]
    into.g[rows], into.aux[rows] = trial.g[accepted], trial.aux[accepted]


def _armijo(f, g, trial: Trial, step, decrease, noise) -> torch.Tensor:
    """Sufficient decrease; below f's rounding noise measured by the trapezoid rule on the gradients
    (exact for a quadratic, and the gradients are accurate to about 1e-6)."""
    tiny = -decrease <= noise
    change = torch.where(tiny, 0.5 * dot(g + trial.g, step), trial.f - f)
    return (change <= ARMIJO * decrease) & (trial.f.abs() < torch.inf)  # (isfinite: four operations)
