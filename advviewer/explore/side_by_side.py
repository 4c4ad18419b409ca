"""The same digit attacked towards the same target on two models (a standard and a robust one), side by side.

What a *Compare models* view shows: each model's minimal adversarial, their two perturbations on
one colour scale (so the larger one looks larger), and how each model reads the *other's*
adversarial: a robust model's minimal example that the standard model also reads as the target
has become a picture of the target, not noise that only its own model sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advviewer.attack import AttackResult, lbfgs_attack
from advviewer.errors import AdvViewerError

STANDARD_MODEL = "cnn"
ROBUST_MODEL = "cnn-robust"


def partner_model(in_use: str) -> str:
    """The zoo model compared with ``in_use``: cnn for cnn-robust, cnn-robust for any other (cnn first)."""
    return STANDARD_MODEL if in_use == ROBUST_MODEL else ROBUST_MODEL


@dataclass(frozen=True)
class ModelSide:
    """One model's half: its name, its minimal attack, and the class the other model gives its adversarial."""

    name: str
    result: AttackResult
    read_by_other_as: int  # the other model's answer on this side's adversarial


@dataclass(frozen=True)
class SideBySide:
    original: np.ndarray  # (28, 28) float32 in [0, 1]
    target: int
    sides: tuple[ModelSide, ModelSide]  # in the order the models were given (standard first, by convention)
    scale: float  # one colour scale for both perturbations: the larger max |r| of the two

    def perturbation_on_scale(self, side: int) -> np.ndarray:
        """Side ``side``'s perturbation divided by the shared scale: values in [-1, 1], comparable between sides."""
        return np.asarray(self.sides[side].result.perturbation, np.float32).reshape(28, 28) / np.float32(self.scale)

    @property
    def l2_ratio(self) -> float:
        """The second model's L2 over the first's: how much further the attack had to go."""
        first, second = (s.result.l2 for s in self.sides)
        return second / first if first > 0 else float("inf")


def _answer(model: nn.Module, image: np.ndarray) -> int:
    with torch.no_grad():
        return int(model(torch.as_tensor(np.asarray(image, np.float32)).view(1, 1, 28, 28)).argmax(1))


def _minimal_attack(model: nn.Module, x: np.ndarray, target: int, cancel) -> AttackResult:
    result = lbfgs_attack(model, x, target=target, cancel=cancel)
    assert isinstance(result, AttackResult)  # one (28, 28) image gives one result
    return result


def compare_models(first: tuple[str, nn.Module], second: tuple[str, nn.Module], image: np.ndarray, target: int,
                   cancel=None) -> SideBySide:
    """Minimal attacks on ``image`` towards ``target`` on both models (name, module), read by each other.

    Raises :class:`advviewer.errors.AdvViewerError` if the two names are the same (nothing to
    compare), and what :func:`advviewer.attack.lbfgs_attack` raises for a bad image or target.
    """
    if first[0] == second[0]:
        raise AdvViewerError(f"compare two different models, not {first[0]} with itself")
    x = np.asarray(image, np.float32).reshape(28, 28)
    mine, theirs = (_minimal_attack(model, x, target, cancel) for _, model in (first, second))
    sides = (ModelSide(first[0], mine, _answer(second[1], mine.adversarial)),
             ModelSide(second[0], theirs, _answer(first[1], theirs.adversarial)))
    scale = max(float(np.abs(mine.perturbation).max()), float(np.abs(theirs.perturbation).max()), 1e-12)
    return SideBySide(x, int(target), sides, scale)
