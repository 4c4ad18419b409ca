"""What c does around a found minimal c: fixed-c attacks at multiples of it, and the "fooled" rule.

``c_sweep(model, found)`` solves at ``found.c * factor`` for each of :data:`SWEEP_FACTORS`,
walking outwards from the found c in both directions, each solve warm-started from its
neighbour nearer to it (so each costs a few iterations). The points (c, ||r||, fooled) show the
trade-off c controls: below the minimal c the perturbation is smaller and does not fool the
model, above it the perturbation grows and the mistake becomes surer. The window draws them;
anything else that wants the curve (a script, a later view) calls the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from advviewer.attack.api import lbfgs_attack
from advviewer.attack.result import AttackResult

# c values tried, relative to the found c: denser next to it, where the boundary is
SWEEP_FACTORS = (0.25, 0.4, 0.6, 0.8, 0.9, 1.12, 1.3, 1.7, 2.5, 4.0)


@dataclass(frozen=True)
class SweepPoint:
    """One attack run as a point of the c-vs-||r|| curve."""

    c: float
    l2: float
    fooled: bool


def fooled(result: AttackResult, untargeted: bool | None = None) -> bool:
    """Whether ``result`` fooled the model.

    Targeted: the model answers the target (``result.success``). Untargeted (``untargeted``, by
    default the result's own flag): the model answers any class but the original one -- also for
    the fixed-c runs a sweep makes towards the class an untargeted attack reached.
    """
    if untargeted if untargeted is not None else result.untargeted:
        return int(result.adversarial_class) != int(result.original_class)
    return bool(result.success)


def sweep_point(result: AttackResult, untargeted: bool | None = None) -> SweepPoint:
    return SweepPoint(float(result.c), float(result.l2), fooled(result, untargeted))


def c_sweep(model: nn.Module, found: AttackResult, factors: Sequence[float] = SWEEP_FACTORS, *,
            image: np.ndarray | None = None, cancel=None,
            callback: Callable[[SweepPoint], None] | None = None) -> list[SweepPoint]:
    """Fixed-c attacks at ``found.c * factor`` for each factor (see the module docstring).

    ``image`` defaults to ``found.original``. ``cancel`` (a ``threading.Event``) stops the sweep
    with :class:`~advviewer.attack.AttackCancelled`; ``callback`` receives each point as it is
    found. Returns the points, those below the found c first (nearest first), then those above.
    """
    x = image if image is not None else found.original
    if x is None:
        raise ValueError("c_sweep needs the attacked image: pass image= (the result carries no original)")
    points = []
    below = sorted((f for f in factors if f < 1), reverse=True)
    above = sorted(f for f in factors if f > 1)
    for chain in (below, above):
        start = found
        for factor in chain:
            r = lbfgs_attack(model, x, target=found.target, c=found.c * factor, warm_start=start, cancel=cancel,
                             objective=found.objective,  # the points of one objective's curve
                             confidence=found.confidence)  # fooled as the found result was asked to
            if not isinstance(r, AttackResult):  # a batch of images: the sweep is one image's curve
                raise ValueError("c_sweep takes one image (H, W)")
            point = sweep_point(r, untargeted=found.untargeted)
            points.append(point)
            if callback is not None:
                callback(point)
            start = r
    return points
