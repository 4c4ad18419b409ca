"""Mouse-style drawings of the ten digits at 280x280, as the window's canvas makes them.

Each digit is a list of strokes; a stroke is a polyline in a 0..1 square (x right, y down),
drawn white on black with a round brush, the way a person drags the mouse.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx, cy, rx, ry, start_deg, end_deg, n=24):
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start_deg, end_deg, n)]


DIGITS: dict[int, list[list[tuple[float, float]]]] = {
    0: [_arc(0.5, 0.5, 0.22, 0.33, -90, 270, 40)],
    1: [[(0.42, 0.25), (0.52, 0.16), (0.52, 0.84)]],
    2: [_arc(0.5, 0.34, 0.2, 0.17, 200, 380, 20) + [(0.62, 0.5), (0.3, 0.82), (0.72, 0.82)]],
    3: [_arc(0.48, 0.33, 0.2, 0.16, 200, 450, 20) + _arc(0.48, 0.66, 0.22, 0.18, -90, 160, 20)],
    4: [[(0.58, 0.16), (0.28, 0.6), (0.74, 0.6)], [(0.6, 0.36), (0.6, 0.86)]],
    5: [[(0.7, 0.18), (0.36, 0.18), (0.33, 0.46)] + _arc(0.5, 0.64, 0.21, 0.2, -120, 160, 24)],
    6: [[(0.62, 0.16), (0.45, 0.32), (0.34, 0.55)] + _arc(0.5, 0.66, 0.18, 0.18, 180, 540, 30)],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.85)]],
    8: [_arc(0.5, 0.32, 0.16, 0.15, 90, 450, 30) + _arc(0.5, 0.66, 0.2, 0.19, -90, 270, 30)],
    9: [_arc(0.5, 0.35, 0.18, 0.17, 0, 360, 30) + [(0.68, 0.35), (0.64, 0.85)]],
}


def draw_digit(digit: int, size: int = 280, width: int = 18, invert: bool = False) -> np.ndarray:
    """uint8 (size, size) image of ``digit``: white strokes on black (or the reverse)."""
    image = Image.new("L", (size, size), 255 if invert else 0)
    pen = ImageDraw.Draw(image)
    ink = 0 if invert else 255
    for stroke in DIGITS[digit]:
        points = [(x * size, y * size) for x, y in stroke]
        pen.line(points, fill=ink, width=width, joint="curve")
        r = width / 2
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return np.asarray(image)
