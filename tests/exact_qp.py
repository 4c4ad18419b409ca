"""The exact answer the attack is checked against, for a linear softmax model z = W y + b (K classes,
inputs of any size D, flattened): the smallest perturbation that makes the model answer ``t`` is a
quadratic programme,

    min ||y - x||^2   subject to   (W_t - W_k) . y + b_t - b_k >= 0 (k != t),   0 <= y <= 1,

solved here independently of the attack through its (K - 1)-variable dual (scipy's L-BFGS-B on the
multipliers lam >= 0; for given lam the box-constrained minimiser over y is x + A^T lam / 2 clipped
to the box): every dual value is a lower bound on the true minimum (weak duality), and the primal
point the multipliers give certifies how tight it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
from torch import nn

GAP_TOLERANCE = 1e-6  # relative duality gap the solution must close
FEASIBILITY_TOLERANCE = 1e-6  # how far the primal point may violate a margin constraint


@dataclass(frozen=True)
class ExactMinimum:
    """The smallest L2 perturbation to class ``t``, certified by its duality gap."""

    l2: float  # sqrt of the dual optimum: a proven lower bound, equal to the minimum within the gap
    clipped_pixels: int  # pixels the optimal point holds at 0 or 1 where the unconstrained step would leave the box


def exact_minimum(W: np.ndarray, b: np.ndarray, x: np.ndarray, t: int, margin: float = 0.0) -> ExactMinimum:
    """The dual optimum, with the duality gap and feasibility checked (the check checks itself).

    ``W``: (K, D) float64, ``b``: (K,), ``x``: (D,) in [0, 1], ``t``: the target class; ``margin``: the logit
    margin z_t - z_k every other class must be beaten by (0: the decision boundary).
    """
    others = [k for k in range(len(W)) if k != t]
    A = W[t][None] - W[others]
    lower = b[others] - b[t] + margin  # A y >= lower

    def neg_dual(lam):
        y = np.clip(x + A.T @ lam / 2, 0.0, 1.0)
        r = y - x
        return -(r @ r - lam @ (A @ y - lower)), A @ y - lower

    res = scipy.optimize.minimize(neg_dual, np.zeros(len(others)), jac=True, method="L-BFGS-B",
                                  bounds=[(0, None)] * len(others),
                                  options=dict(ftol=1e-15, gtol=1e-12, maxiter=10000, maxcor=20))
    free = x + A.T @ res.x / 2
    y = np.clip(free, 0.0, 1.0)
    dual, primal = -res.fun, float(((y - x) ** 2).sum())
    assert (primal - dual) <= GAP_TOLERANCE * primal, "the reference QP did not converge"
    assert (lower - A @ y).max() <= FEASIBILITY_TOLERANCE, "the reference QP's point is not feasible"
    return ExactMinimum(float(np.sqrt(dual)), int((free != y).sum()))


def exact_min_l2(W: np.ndarray, b: np.ndarray, x: np.ndarray, t: int) -> float:
    """sqrt of the dual optimum (:func:`exact_minimum`'s ``l2``)."""
    return exact_minimum(W, b, x, t).l2


def linear_weights(model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) in float64 of a model that is a Flatten then one Linear layer (the fc10 zoo models, the tests' own)."""
    layer = model[1]
    assert isinstance(layer, nn.Linear), f"not a linear softmax model: {model}"
    return layer.weight.detach().double().cpu().numpy(), layer.bias.detach().double().cpu().numpy()


def exact_minima(model: nn.Module, images: np.ndarray, targets) -> list[ExactMinimum]:
    """The exact minimum of every (image, target) pair of a linear model, images of any shape (flattened)."""
    W, b = linear_weights(model)
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return [exact_minimum(W, b, x, int(t)) for x, t in zip(flat, targets)]
