"""The paper's MNIST figures (Szegedy et al. 2013, Tables 1 and 2), keyed by our zoo names.

Transcribed from docs/paper.md; the report prints them beside what this machine measured.
"""

from __future__ import annotations

from pathlib import PurePath

PAPER_MODELS = ("fc10-1e-4", "fc10-1e-2", "fc10-1", "fc100-100-10", "fc200-200-10", "ae400-10")

PAPER_LABELS = {
    "fc10-1e-4": "FC10(1e-4)",
    "fc10-1e-2": "FC10(1e-2)",
    "fc10-1": "FC10(1)",
    "fc100-100-10": "FC100-100-10",
    "fc200-200-10": "FC200-200-10",
    "ae400-10": "AE400-10",
}

# Table 1: training error, test error, average minimum distortion (on the training set)
TABLE1 = {
    "fc10-1e-4": (0.067, 0.074, 0.062),
    "fc10-1e-2": (0.10, 0.094, 0.1),
    "fc10-1": (0.212, 0.20, 0.14),
    "fc100-100-10": (0.0, 0.0164, 0.058),
    "fc200-200-10": (0.0, 0.0154, 0.065),
    "ae400-10": (0.0057, 0.019, 0.086),
}

# Table 2: row = the model the examples were made for, columns = error they cause in each
# model (in PAPER_MODELS order), then their average distortion
TABLE2 = {
    "fc10-1e-4": ((1.0, 0.117, 0.227, 0.02, 0.039, 0.027), 0.062),
    "fc10-1e-2": ((0.871, 1.0, 0.352, 0.359, 0.273, 0.098), 0.1),
    "fc10-1": ((0.719, 0.762, 1.0, 0.481, 0.47, 0.344), 0.14),
    "fc100-100-10": ((0.289, 0.137, 0.211, 1.0, 0.066, 0.02), 0.058),
    "fc200-200-10": ((0.382, 0.14, 0.238, 0.203, 1.0, 0.027), 0.065),
    "ae400-10": ((0.234, 0.16, 0.248, 0.094, 0.066, 1.0), 0.086),
}

# the two Gaussian-noise control rows: stddev -> error in each model (PAPER_MODELS order)
NOISE = {
    0.1: (0.05, 0.101, 0.183, 0.0, 0.0, 0.008),
    0.3: (0.156, 0.113, 0.227, 0.05, 0.043, 0.031),
}


def paper_name(model: str) -> str | None:
    """The zoo name whose paper row applies to ``model`` (a zoo name, or a weights file named after one)."""
    stem = PurePath(model).stem if PurePath(model).suffix else model
    return stem if stem in TABLE1 else None


def transfer(made_for: str, evaluated_on: str) -> float | None:
    if made_for not in TABLE2 or evaluated_on not in PAPER_MODELS:
        return None
    return TABLE2[made_for][0][PAPER_MODELS.index(evaluated_on)]


def noise_error(stddev: float, evaluated_on: str) -> float | None:
    if stddev not in NOISE or evaluated_on not in PAPER_MODELS:
        return None
    return NOISE[stddev][PAPER_MODELS.index(evaluated_on)]
