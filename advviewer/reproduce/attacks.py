"""Table 1's attacks: the minimal perturbation for every correctly classified digit of a sample.

Two readings of the paper's "minimum distortion", which does not say what the target was:
``nearest`` (untargeted: the closest other class) and ``random`` (a random wrong class, the same
one for every model). Only digits the model classifies correctly are attacked; a wrong answer
needs no perturbation and says nothing about how close the boundary is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from torch import nn

from advviewer.attack import lbfgs_attack_batch
from advviewer.errors import Cancelled
from advviewer.reproduce.digits import DigitSample, classify

READINGS = ("nearest", "random")
CHUNK = 25  # images per batched solve: one progress step; larger batches gained little and report less often

Advance = Callable[[int, str], None]  # (images just finished, what is running) -> None


@dataclass
class AttackSet:
    """One model's attacks on one sample under one reading; arrays are per attacked digit."""

    model: str
    split: str
    reading: str
    attacked: np.ndarray  # (k,) positions in the DigitSample of the digits attacked (correctly classified)
    targets: np.ndarray  # (k,) the class asked for, -1 for nearest
    success: np.ndarray  # (k,) bool
    adversarial_class: np.ndarray  # (k,)
    distortion: np.ndarray  # (k,) ||r||_2 / 28
    adversarial: np.ndarray  # (k, 28, 28) float32: the adversarial image (or the closest attempt)

    def summary(self) -> dict:
        d = self.distortion[self.success]
        return {
            "attacked": int(len(self.attacked)),
            "succeeded": int(self.success.sum()),
            "success_rate": _ratio(int(self.success.sum()), len(self.attacked)),
            "mean_distortion": float(d.mean()) if d.size else None,
            "median_distortion": float(np.median(d)) if d.size else None,
        }


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def correct_positions(model: nn.Module, sample: DigitSample) -> np.ndarray:
    return np.flatnonzero(classify(model, sample.images) == sample.labels)


def attack_sample(model: nn.Module, name: str, sample: DigitSample, reading: str, positions: np.ndarray,
                  advance: Advance | None = None, cancel=None) -> AttackSet:
    """Minimal attacks on ``sample.images[positions]``, CHUNK images per batched call.

    ``advance(k, message)`` after every chunk; ``cancel`` (anything with ``is_set()``) stops the
    solver within an iteration (raises :class:`advviewer.errors.Cancelled`).
    """
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, not {reading!r}")
    k = len(positions)
    targets = sample.random_targets[positions] if reading == "random" else np.full(k, -1, np.int64)
    success = np.zeros(k, bool)
    adv_class = np.zeros(k, np.int64)
    distortion = np.zeros(k, np.float64)
    adversarial = np.zeros((k, 28, 28), np.float32)
    for start in range(0, k, CHUNK):
        if cancel is not None and cancel.is_set():
            raise Cancelled("reproduction cancelled")
        rows = slice(start, min(start + CHUNK, k))
        images = sample.images[positions[rows]]
        goal = None if reading == "nearest" else [int(t) for t in targets[rows]]
        results = lbfgs_attack_batch(model, images, goal, untargeted=reading == "nearest", cancel=cancel)
        for j, res in zip(range(rows.start, rows.stop), results):
            success[j] = res.success
            adv_class[j] = res.adversarial_class
            distortion[j] = res.distortion
            adversarial[j] = res.adversarial
        if advance is not None:
            advance(rows.stop - rows.start, f"{name} {sample.split} {reading}")
    return AttackSet(name, sample.split, reading, positions, targets, success, adv_class, distortion, adversarial)
