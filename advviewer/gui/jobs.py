"""The background jobs, as plain functions ``job(cancel, report)`` over the core (no Qt).

Each builder captures its arguments (copies of the input, the model object) so a job is not
affected by what the user does while it runs; :class:`advviewer.gui.worker.JobWorker` runs them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from advviewer.gradients import input_gradient

# c values tried around a found minimal c to draw the c-vs-||r|| curve (relative to that c)
SWEEP_FACTORS = (0.25, 0.4, 0.6, 0.8, 0.9, 1.12, 1.3, 1.7, 2.5, 4.0)


@dataclass
class FiniteDifferenceState:
    gradient: np.ndarray  # finite differences
    gradient_class: int
    input: np.ndarray
    relative_difference: float  # ||fd - ag|| / ||ag||
    correlation: float
    seconds: float


def agreement(fd: np.ndarray, ag: np.ndarray) -> tuple[float, float]:
    """Relative L2 difference and correlation (cosine) of two gradients."""
    norm = float(np.linalg.norm(ag))
    rel = float(np.linalg.norm(fd - ag)) / norm if norm > 0 else float(np.linalg.norm(fd))
    denom = float(np.linalg.norm(fd)) * norm
    corr = float((fd * ag).sum()) / denom if denom > 0 else 1.0
    return rel, corr


def finite_difference_job(model, x: np.ndarray, cls: int, autograd: np.ndarray):
    def job(cancel, report) -> FiniteDifferenceState:
        t0 = time.perf_counter()
        fd = input_gradient(model, x, cls, method="finite-difference", cancel=cancel)
        rel, corr = agreement(fd, autograd)
        return FiniteDifferenceState(fd, cls, x, rel, corr, time.perf_counter() - t0)

    return job


def attack_job(model, x: np.ndarray, target: int | None, c: float | None, warm_start=None):
    def job(cancel, report):
        from advviewer.attack import lbfgs_attack

        return lbfgs_attack(model, x, target=target, c=c, untargeted=target is None, warm_start=warm_start,
                            callback=report, cancel=cancel)

    return job


def sweep_job(model, x: np.ndarray, found):
    """Fixed-c attacks at multiples of a found c, each warm-started from its neighbour nearer to it.

    Returns [(c, ||r||, fooled), ...]: the trade-off c controls, drawn in the attack panel.
    """
    def job(cancel, report) -> list[tuple[float, float, bool]]:
        from advviewer.attack import lbfgs_attack

        target = None if found.untargeted else found.target
        points = []
        for chain in ([f for f in SWEEP_FACTORS if f < 1][::-1], [f for f in SWEEP_FACTORS if f > 1]):
            start = found
            for factor in chain:
                r = lbfgs_attack(model, x, target=found.target, c=found.c * factor, warm_start=start, cancel=cancel)
                points.append((r.c, r.l2, bool(r.success if target is not None else r.adversarial_class != r.original_class)))
                start = r
        return points

    return job
