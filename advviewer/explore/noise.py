"""Random noise of a given L2 inside the box [0, 1]: the paper's control for an adversarial perturbation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

BISECTION_STEPS = 40


def noise_of_norm(originals: np.ndarray, l2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random direction per image, scaled so that after clipping to the box the change has exactly ``l2``.

    Clipping removes the outward half of the noise on black and white pixels, so the scale is
    found by bisection (the clipped norm grows monotonically with it).
    """
    n = len(originals)
    direction = rng.normal(size=originals.shape)
    direction /= np.sqrt((direction**2).reshape(n, -1).sum(1)).reshape(-1, 1, 1)

    def clipped_norm(scale: np.ndarray) -> np.ndarray:
        moved = np.clip(originals + scale.reshape(-1, 1, 1) * direction, 0.0, 1.0) - originals
        return np.sqrt((moved**2).reshape(n, -1).sum(1))

    lo, hi = l2.copy(), 8.0 * l2
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        short = clipped_norm(mid) < l2
        lo, hi = np.where(short, mid, lo), np.where(short, hi, mid)
    return np.clip(originals + hi.reshape(-1, 1, 1) * direction, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True, eq=False)
class NoiseCheck:
    """``draws`` noisy copies of one digit, each with the L2 ``l2``, and what the model answers for each."""

    l2: float
    original_class: int
    images: np.ndarray = field(repr=False)  # (draws, 28, 28) float32
    classes: np.ndarray  # (draws,) the model's answer
    confidences: np.ndarray  # (draws,) its probability

    @property
    def kept(self) -> int:
        """How many draws the model still reads as the original class."""
        return int((self.classes == self.original_class).sum())


def noise_check(model: nn.Module, original: np.ndarray, l2: float, draws: int = 8, seed: int | None = None) -> NoiseCheck:
    """``draws`` random changes of ``original`` with exactly ``l2`` (clipped to the box), classified in one pass."""
    x = np.asarray(original, dtype=np.float64).reshape(1, 28, 28)
    rng = np.random.default_rng(seed)
    noisy = noise_of_norm(np.repeat(x, draws, 0), np.full(draws, float(l2)), rng)
    with torch.no_grad():
        logits = model(torch.as_tensor(np.concatenate([x.astype(np.float32), noisy])).view(-1, 1, 28, 28))
        probs = torch.softmax(logits.to(torch.float64), 1).numpy()
    classes = probs.argmax(1)
    return NoiseCheck(float(l2), int(classes[0]), noisy, classes[1:], probs[np.arange(1, draws + 1), classes[1:]])
