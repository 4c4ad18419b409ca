"""Table 2: the error each model's adversarial examples cause in every model, and the noise controls.

Error means "answers something other than the true label", as in the paper; a row is computed
over the successful examples made for one model, so its diagonal is 100% by construction --
up to float rounding: a minimal example sits a hair across the boundary, and classifying it in
a batch of another size can round to the other side (the report shows the measured diagonal).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from advviewer.explore.noise import noise_of_norm
from advviewer.reproduce.attacks import AttackSet
from advviewer.reproduce.digits import DigitSample, classify

SCALES = (1.0, 1.5, 2.0, 3.0)  # perturbations enlarged: how steeply transfer climbs with size
NOISE_STDDEVS = (0.1, 0.3)


def _errors(models: dict[str, nn.Module], images: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    if len(images) == 0:
        return {name: None for name in models}
    return {name: float((classify(m, images) != labels).mean()) for name, m in models.items()}


def _distortion(images: np.ndarray, originals: np.ndarray) -> float | None:
    if len(images) == 0:
        return None
    return float((np.sqrt(((images.astype(np.float64) - originals) ** 2).reshape(len(images), -1).sum(1)) / 28.0).mean())


def scaled_examples(attack: AttackSet, sample: DigitSample, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The successful examples with their perturbation multiplied by ``scale`` and put back in the box."""
    ok = attack.success
    originals = sample.images[attack.attacked[ok]]
    images = np.clip(originals + scale * (attack.adversarial[ok] - originals), 0.0, 1.0).astype(np.float32)
    return images, originals, sample.labels[attack.attacked[ok]]


def transfer_table(attacks: dict[str, AttackSet], sample: DigitSample, models: dict[str, nn.Module], scale: float = 1.0) -> dict:
    """{made_for: {"errors": {evaluated_on: error}, "examples": n, "mean_distortion": d}}."""
    rows: dict[str, dict] = {}
    for made_for, attack in attacks.items():
        images, originals, labels = scaled_examples(attack, sample, scale)
        rows[made_for] = {"errors": _errors(models, images, labels), "examples": int(len(images)),
                          "mean_distortion": _distortion(images, originals)}
    return rows


def off_diagonal_mean(rows: dict) -> dict[str, float | None]:
    """Per row, the mean error caused in the *other* models: the transfer in one number."""
    out: dict[str, float | None] = {}
    for made_for, row in rows.items():
        others = [e for name, e in row["errors"].items() if name != made_for and e is not None]
        out[made_for] = float(np.mean(others)) if others else None
    return out


def gaussian_noise_rows(sample: DigitSample, models: dict[str, nn.Module], rng: np.random.Generator) -> dict:
    """Gaussian noise on the sample's digits, once clipped to the box [0, 1] and once not (same draw).

    Clipping keeps only the positive half of the noise on the black background, which turns it
    grey (mean 0.4 stddev) and makes the noise smaller than its stddev says; without clipping
    the image leaves the box the attack is confined to. Both are measured.
    """
    out = {"clean": {"errors": _errors(models, sample.images, sample.labels), "mean_distortion": 0.0}}
    for std in NOISE_STDDEVS:
        noise = rng.normal(0.0, std, sample.images.shape)
        for clipped in (True, False):
            noisy = sample.images + noise
            if clipped:
                noisy = np.clip(noisy, 0.0, 1.0)
            noisy = noisy.astype(np.float32)
            key = f"{std:g} {'clipped' if clipped else 'unclipped'}"
            out[key] = {"stddev": std, "clipped": clipped, "errors": _errors(models, noisy, sample.labels),
                        "mean_distortion": _distortion(noisy, sample.images)}
    return out


def same_size_noise(attacks: dict[str, AttackSet], sample: DigitSample, models: dict[str, nn.Module],
                    rng: np.random.Generator) -> dict:
    """The paper's control per example: a random change in the box with the adversarial perturbation's L2.

    Returns {made_for: {"error_on_own_model": e, "mean_distortion": d}}.
    """
    out: dict[str, dict] = {}
    for made_for, attack in attacks.items():
        images, originals, labels = scaled_examples(attack, sample, 1.0)
        if len(images) == 0:
            out[made_for] = {"error_on_own_model": None, "mean_distortion": None}
            continue
        l2 = np.sqrt(((images.astype(np.float64) - originals) ** 2).reshape(len(images), -1).sum(1))
        noisy = noise_of_norm(originals.astype(np.float64), l2, rng)
        err = float((classify(models[made_for], noisy) != labels).mean())
        out[made_for] = {"error_on_own_model": err, "mean_distortion": _distortion(noisy, originals)}
    return out
