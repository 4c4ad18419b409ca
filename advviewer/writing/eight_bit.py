"""An adversarial image that still fools the model after it is written as an 8-bit PNG.

A minimal attack stops just across the decision boundary; rounding every pixel to a multiple of
1/255 moves the image by up to 0.5/255 per pixel, which often carries it back. :func:`robust_8bit`
scales the perturbation ``r`` up by the smallest factor ``s >= 1`` for which the rounded image
``round(255 * clip(original + s * r)) / 255`` is still classified as the target: the smallest extra
margin along the attack's own direction. It checks a geometric ladder of factors in one batch, then
a fine grid between the last factor that failed and the first that fooled (two forward passes).

The ladder goes to 5 r, and further, doubling, for a perturbation so small that 5 r still moves no
pixel by half a level (a digit a hair from the boundary: r of 0.02 levels rounds away entirely),
until its largest pixel change spans the whole range 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from advviewer.writing.pixels import to_8bit

LADDER = 1.0 + np.concatenate([[0.0], 2.0 ** np.arange(-8, 3)])  # 1, 1.004, 1.008, ... 5: up to 5 r
FINE_STEPS = 64  # the bracket's resolution: the factor is found to 1/64 of [last failing, first fooling]


@dataclass(frozen=True)
class RobustPng:
    """The 8-bit image (28, 28) uint8 and what it took: ``scale`` times r; ``fools`` False if even the ladder's end did not."""

    pixels: np.ndarray
    scale: float
    fools: bool
    png_class: int
    png_class_prob: float  # how sure the model is of png_class
    l2: float  # ||8-bit image - original||_2, in pixel units (0..1)


def _probs(model, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = model(torch.from_numpy(images.astype(np.float32) / 255.0)[:, None])
    return torch.softmax(logits.double(), dim=1).numpy()


def _candidates(original: np.ndarray, r: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.stack([to_8bit(original + s * r) for s in scales])


def ladder(linf: float) -> np.ndarray:
    """The factors tried first: LADDER, then doubling until the largest pixel change ``factor * linf`` reaches 1."""
    extra = []
    factor = float(LADDER[-1])
    while linf > 0 and factor * linf < 1.0:
        factor *= 2.0
        extra.append(factor)
    return np.concatenate([LADDER, extra])


def robust_8bit(model, original: np.ndarray, adversarial: np.ndarray, target: int,
                confidence: float | None = None) -> RobustPng:
    """The rounded image of the smallest factor of r (see the module docstring) that is classified ``target``
    (with ``confidence``: with at least that probability, as the attack was asked)."""
    original = np.asarray(original, dtype=np.float64)
    r = np.asarray(adversarial, dtype=np.float64) - original
    scales = ladder(float(np.abs(r).max()))
    images = _candidates(original, r, scales)
    probs = _probs(model, images)
    fooled = _fooled(probs, target, confidence)
    if not fooled.any():
        return _made(images[-1], float(scales[-1]), probs[-1], target, original, confidence)
    first = int(fooled.argmax())
    if first == 0:
        return _made(images[0], 1.0, probs[0], target, original, confidence)
    fine = np.linspace(scales[first - 1], scales[first], FINE_STEPS + 1)[1:]
    fine_images = _candidates(original, r, fine)
    fine_probs = _probs(model, fine_images)
    k = int(_fooled(fine_probs, target, confidence).argmax())  # the last one is scales[first]: at least it fools
    return _made(fine_images[k], float(fine[k]), fine_probs[k], target, original, confidence)


def _fooled(probs: np.ndarray, target: int, confidence: float | None) -> np.ndarray:
    """Per row of ``probs`` (M, K): the model answers ``target`` (with at least ``confidence``, if given)."""
    fooled = probs.argmax(1) == target
    return fooled if confidence is None else fooled & (probs[:, target] >= confidence)


def _made(pixels: np.ndarray, scale: float, probs: np.ndarray, target: int, original: np.ndarray,
          confidence: float | None = None) -> RobustPng:
    l2 = float(np.linalg.norm(pixels / 255.0 - original))
    return RobustPng(pixels, scale, bool(_fooled(probs[None], target, confidence)[0]), int(probs.argmax()),
                     float(probs.max()), l2)
