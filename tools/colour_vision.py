"""How a PNG looks to a person with deuteranopia or protanopia (about one man in twelve has a red-green deficiency).

The simulation is Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for
Simulation of Color Vision Deficiency", IEEE TVCG 15(6):1291-1298, with their published 3x3
matrices at severity 1.0 (dichromacy: the M or L cones missing). As the authors' model assumes,
each matrix is applied to *linear* RGB: the sRGB levels are decoded (IEC 61966-2-1 transfer
curve), multiplied, clipped to [0, 1] and encoded again. Transparency is kept as it is::

    .venv/bin/python tools/colour_vision.py shot.png [more.png ...] --out DIR

writes ``DIR/<name>-deuteranopia.png`` and ``DIR/<name>-protanopia.png`` for each PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# Machado et al. 2009, Table (severity 1.0), rows give the simulated linear R, G, B
MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
DEFICIENCIES = tuple(MACHADO_2009)


def srgb_to_linear(levels: np.ndarray) -> np.ndarray:
    """8-bit sRGB levels -> linear RGB in [0, 1]."""
    v = np.asarray(levels, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (clipped to [0, 1]) -> 8-bit sRGB levels."""
    v = np.clip(linear, 0.0, 1.0)
    encoded = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def simulate(rgb: np.ndarray, deficiency: str) -> np.ndarray:
    """(..., 3) uint8 sRGB -> the same shape as seen with ``deficiency`` (``deuteranopia`` or ``protanopia``)."""
    if deficiency not in MACHADO_2009:
        raise ValueError(f"unknown deficiency {deficiency!r}: one of {', '.join(DEFICIENCIES)}")
    rgb = np.asarray(rgb)
    if rgb.shape[-1] != 3:
        raise ValueError(f"expected RGB values in the last axis, got shape {rgb.shape}")
    return linear_to_srgb(srgb_to_linear(rgb) @ MACHADO_2009[deficiency].T)


# sRGB (D65) -> CIE XYZ, for the CIELAB distance below
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def cielab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB -> CIELAB (D65 white)."""
    xyz = srgb_to_linear(rgb) @ _SRGB_TO_XYZ.T / _SRGB_TO_XYZ.sum(axis=1)
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def colour_difference(first: tuple[int, int, int], second: tuple[int, int, int], deficiency: str | None = None) -> float:
    """CIE76 Delta E between two sRGB colours, as seen with ``deficiency`` (None: typical vision).

    About 2.3 is a just-noticeable difference; two small markers need tens to be told apart at a glance.
    """
    pair = np.array([first, second], dtype=np.uint8)
    if deficiency is not None:
        pair = simulate(pair, deficiency)
    lab = cielab(pair)
    return float(np.linalg.norm(lab[0] - lab[1]))


def simulate_png(source: Path, out: Path) -> list[Path]:
    """Write one simulated copy of ``source`` per deficiency into ``out``; return their paths."""
    from PIL import Image

    with Image.open(source) as opened:
        image = opened.convert("RGBA")
    pixels = np.asarray(image)
    written = []
    for deficiency in DEFICIENCIES:
        seen = pixels.copy()
        seen[..., :3] = simulate(pixels[..., :3], deficiency)
        path = out / f"{source.stem}-{deficiency}.png"
        Image.fromarray(seen, "RGBA").save(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("png", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None, help="folder for the simulated PNGs (default: beside each input)")
    args = parser.parse_args(argv)
    for source in args.png:
        if not source.is_file():
            print(f"colour_vision: no such file: {source}", file=sys.stderr)
            return 2
        out = args.out or source.parent
        out.mkdir(parents=True, exist_ok=True)
        for path in simulate_png(source, out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
