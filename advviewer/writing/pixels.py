"""Pixels as files and screens show them: floats in [0, 1] as 8-bit levels, signed values in a diverging colour map.

What the export, the 8-bit check, the figure, the reproduce figures and the window's signed maps
share (numpy only), so that a file and the screen agree and the writing room imports in one
direction: pixels <- eight_bit, figure <- export.
"""

from __future__ import annotations

import numpy as np

# RdBu-like diverging map: -1 blue, 0 near white, +1 red (sRGB anchors, linearly interpolated)
DIVERGING_ANCHORS = np.array([[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], dtype=np.float64)


def to_8bit(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8, as a PNG stores them (round half to even, like numpy)."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def diverging_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) signed values -> (H, W, 3) uint8, with -scale and +scale at the ends of the map."""
    t = np.clip(np.asarray(values, dtype=np.float64) / (scale if scale > 0 else 1.0), -1.0, 1.0)
    pos = (t + 1.0) / 2.0 * (len(DIVERGING_ANCHORS) - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, len(DIVERGING_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    return np.round(DIVERGING_ANCHORS[lo] * (1 - frac) + DIVERGING_ANCHORS[lo + 1] * frac).astype(np.uint8)
