"""Held-out mouse drawings of the ten digits, written by hand here: 10 styles x 10 digits, and 10 flagged 1s.

Not made by the training generator (advviewer.training.drawn_digits): four hand-written sets of polylines
(A: school print; B: continental -- flagged 1, closed 4, crossed 7, hooked 9; C: quick and angular;
D: rounded and cursive), each drawn in one or more *styles*: brush width, slant, rotation, size and
place on the 280x280 canvas. Painted as the canvas paints (white on black, round caps at every
mouse event, anti-aliased) by code of their own, and framed by advviewer.reading.preprocess like the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]


def _arc(cx, cy, rx, ry, start_deg, end_deg, step=12.0) -> Stroke:
    """y down: 0 deg is right, 90 bottom, -90 top."""
    n = max(3, int(abs(end_deg - start_deg) / step) + 1)
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start_deg, end_deg, n)]


# Each set: digit -> strokes in the digit's own box (x 0..1 right, y 0..1 down).
SCHOOL: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.45, 0.5, -95, 268)],
    1: [[(0.5, 0.02), (0.5, 0.98)]],
    2: [_arc(0.5, 0.28, 0.42, 0.28, 195, 380) + [(0.78, 0.45), (0.05, 0.98), (0.97, 0.98)]],
    3: [_arc(0.48, 0.26, 0.4, 0.26, 205, 445) + _arc(0.48, 0.74, 0.45, 0.26, -85, 155)],
    4: [[(0.18, 0.02), (0.05, 0.62), (0.95, 0.62)], [(0.74, 0.08), (0.74, 0.99)]],
    5: [[(0.9, 0.02), (0.22, 0.02), (0.16, 0.44)] + _arc(0.46, 0.7, 0.46, 0.3, -140, 155)],
    6: [[(0.78, 0.02), (0.4, 0.28), (0.1, 0.66)] + _arc(0.5, 0.7, 0.4, 0.3, 180, -175)],
    7: [[(0.04, 0.03), (0.96, 0.03), (0.38, 0.98)]],
    8: [_arc(0.5, 0.24, 0.36, 0.24, -20, -270) + _arc(0.5, 0.73, 0.44, 0.27, -90, 270) + _arc(0.5, 0.24, 0.36, 0.24, 90, -25)],
    9: [_arc(0.45, 0.27, 0.42, 0.27, 5, -355) + [(0.88, 0.3), (0.86, 0.99)]],
}

CONTINENTAL: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.42, 0.5, -60, -420)],
    1: [[(0.12, 0.33), (0.62, 0.0), (0.62, 1.0)]],
    2: [_arc(0.48, 0.3, 0.4, 0.3, 210, 350) + [(0.82, 0.52), (0.1, 1.0), (0.95, 0.99)]],
    3: [[(0.1, 0.02), (0.9, 0.02), (0.42, 0.4)] + _arc(0.48, 0.68, 0.46, 0.32, -105, 150)],
    4: [[(0.68, 0.0), (0.02, 0.66), (0.98, 0.66)], [(0.68, 0.0), (0.68, 1.0)]],
    5: [[(0.2, 0.02), (0.15, 0.42)] + _arc(0.48, 0.7, 0.44, 0.3, -130, 150), [(0.2, 0.02), (0.92, 0.0)]],
    6: [[(0.7, 0.0), (0.12, 0.7)] + _arc(0.48, 0.72, 0.36, 0.28, 180, -180)],
    7: [[(0.02, 0.02), (0.98, 0.02), (0.42, 1.0)], [(0.45, 0.5), (0.95, 0.5)]],
    8: [_arc(0.5, 0.23, 0.33, 0.23, -90, 270), _arc(0.5, 0.73, 0.45, 0.27, -90, 270)],
    9: [_arc(0.48, 0.27, 0.4, 0.27, 0, -360) + [(0.86, 0.32), (0.8, 0.82)] + _arc(0.55, 0.82, 0.25, 0.18, 0, 160)],
}

QUICK: dict[int, list[Stroke]] = {  # few points, straight segments: drawn fast
    0: [[(0.5, 0.0), (0.12, 0.2), (0.02, 0.6), (0.3, 1.0), (0.75, 0.95), (0.98, 0.5), (0.82, 0.1), (0.5, 0.0)]],
    1: [[(0.2, 0.25), (0.58, 0.0), (0.55, 1.0)], [(0.25, 1.0), (0.85, 1.0)]],
    2: [[(0.08, 0.25), (0.35, 0.0), (0.8, 0.05), (0.85, 0.35), (0.05, 1.0), (1.0, 0.95)]],
    3: [[(0.1, 0.1), (0.55, 0.0), (0.85, 0.18), (0.7, 0.4), (0.35, 0.5), (0.85, 0.6), (0.95, 0.82), (0.6, 1.0), (0.05, 0.9)]],
    4: [[(0.25, 0.0), (0.05, 0.6), (0.95, 0.6)], [(0.7, 0.2), (0.72, 1.0)]],
    5: [[(0.95, 0.0), (0.2, 0.02), (0.12, 0.45), (0.6, 0.38), (0.95, 0.62), (0.8, 0.92), (0.4, 1.0), (0.05, 0.88)]],
    6: [[(0.8, 0.0), (0.3, 0.3), (0.05, 0.75), (0.3, 1.0), (0.8, 0.95), (0.9, 0.65), (0.5, 0.5), (0.08, 0.68)]],
    7: [[(0.02, 0.2), (0.05, 0.02), (0.95, 0.02), (0.35, 1.0)]],
    8: [[(0.85, 0.12), (0.45, 0.0), (0.12, 0.18), (0.3, 0.42), (0.85, 0.65), (0.75, 0.95), (0.25, 0.98), (0.1, 0.72), (0.7, 0.38), (0.85, 0.12)]],
    9: [[(0.9, 0.12), (0.5, 0.0), (0.1, 0.18), (0.2, 0.48), (0.6, 0.45), (0.9, 0.12), (0.8, 1.0)]],
}

CURSIVE: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.48, 0.4, 0.46, -80, 290)],
    1: [[(0.3, 0.18), (0.6, 0.0), (0.55, 0.5), (0.45, 1.0)]],
    2: [_arc(0.5, 0.3, 0.42, 0.3, 180, 380) + [(0.6, 0.6), (0.15, 0.9)] + _arc(0.22, 0.88, 0.12, 0.1, -30, -390) + [(0.6, 0.95), (0.98, 1.0)]],
    3: [_arc(0.45, 0.25, 0.38, 0.25, 200, 400) + [(0.4, 0.48)] + _arc(0.45, 0.72, 0.48, 0.28, -115, 165)],
    4: [[(0.3, 0.0), (0.1, 0.55), (0.9, 0.55)], [(0.62, 0.0), (0.6, 0.6), (0.55, 1.0)]],
    5: [_arc(0.4, 0.7, 0.5, 0.3, 160, -150) + [(0.2, 0.0), (0.95, -0.02)]],
    6: [_arc(0.95, 0.65, 0.85, 0.65, -95, -185) + _arc(0.45, 0.72, 0.35, 0.28, 180, -160)],
    7: [[(0.05, 0.05), (0.4, 0.0), (0.95, 0.05)] + [(0.7, 0.45), (0.5, 1.0)],
        [(0.38, 0.52), (0.95, 0.46)]],
    8: [_arc(0.5, 0.25, 0.3, 0.25, 0, -250) + _arc(0.5, 0.72, 0.42, 0.28, -80, 265) + _arc(0.5, 0.25, 0.3, 0.25, 110, 0)],
    9: [_arc(0.45, 0.28, 0.38, 0.28, -10, -370) + [(0.82, 0.3), (0.75, 0.75)] + _arc(0.45, 0.75, 0.3, 0.25, 0, 140)],
}


@dataclass(frozen=True)
class Style:
    name: str
    shapes: dict[int, list[Stroke]]
    brush: float  # canvas pixels
    height: float = 0.7  # of the canvas
    centre: tuple[float, float] = (0.5, 0.5)  # of the canvas
    slant: float = 0.0  # x shift per unit of height, top to the right
    degrees: float = 0.0  # rotation, clockwise on screen
    aspect: float = 0.62  # box width / height


STYLES = (
    Style("school print", SCHOOL, 22),
    Style("continental", CONTINENTAL, 22),
    Style("quick", QUICK, 22, height=0.6),
    Style("cursive", CURSIVE, 22, height=0.65),
    Style("thin pen", SCHOOL, 6, height=0.75, centre=(0.45, 0.5), degrees=5),
    Style("thick brush", CONTINENTAL, 42, height=0.78),
    Style("slanted right", QUICK, 18, slant=0.4, centre=(0.5, 0.55)),
    Style("small, top left", CURSIVE, 14, height=0.32, centre=(0.25, 0.25)),
    Style("off-centre, leaning left", CONTINENTAL, 28, height=0.55, centre=(0.64, 0.66), slant=-0.15),
    Style("rotated, right edge", SCHOOL, 30, height=0.6, centre=(0.7, 0.45), degrees=-10, aspect=0.7),
)

# Ten flagged 1s: flag length and angle, foot or none, slant, brush, size.
FLAGGED_ONES = (
    Style("flag short", {1: [[(0.3, 0.15), (0.6, 0.0), (0.6, 1.0)]]}, 22),
    Style("flag long", {1: [[(0.0, 0.35), (0.65, 0.0), (0.65, 1.0)]]}, 22),
    Style("flag and foot", {1: [[(0.15, 0.28), (0.6, 0.0), (0.6, 1.0)], [(0.25, 1.0), (0.95, 1.0)]]}, 22),
    Style("flag steep", {1: [[(0.35, 0.35), (0.6, 0.0), (0.6, 1.0)]]}, 20, slant=0.15),
    Style("flag flat", {1: [[(0.1, 0.12), (0.62, 0.0), (0.58, 1.0)]]}, 22),
    Style("flag thin", {1: [[(0.18, 0.25), (0.6, 0.0), (0.6, 1.0)]]}, 8, height=0.8),
    Style("flag thick", {1: [[(0.2, 0.3), (0.6, 0.0), (0.6, 1.0)]]}, 40, height=0.75),
    Style("flag slanted", {1: [[(0.15, 0.3), (0.6, 0.0), (0.55, 1.0)]]}, 22, slant=0.35),
    Style("flag small corner", {1: [[(0.2, 0.3), (0.62, 0.0), (0.6, 1.0)], [(0.3, 1.0), (0.9, 1.0)]]}, 12, height=0.3,
          centre=(0.72, 0.3)),
    Style("flag curved", {1: [[(0.15, 0.4), (0.35, 0.22), (0.6, 0.0), (0.6, 0.5), (0.58, 1.0)]]}, 26, degrees=6),
)


def _to_canvas(strokes: list[Stroke], style: Style, size: int) -> list[list[tuple[float, float]]]:
    h = style.height * size
    w = style.aspect * h
    cx, cy = style.centre[0] * size, style.centre[1] * size
    c, s = math.cos(math.radians(style.degrees)), math.sin(math.radians(style.degrees))
    out = []
    for stroke in strokes:
        pts = []
        for x, y in stroke:
            dx, dy = (x - 0.5) * w + style.slant * (0.5 - y) * h, (y - 0.5) * h
            pts.append((cx + c * dx - s * dy, cy + s * dx + c * dy))
        out.append(_mouse_events(pts))
    return out


def _mouse_events(points: list[tuple[float, float]], spacing: float = 6.0) -> list[tuple[float, float]]:
    """Points every ~spacing canvas pixels along the polyline, as mouse-move events arrive."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / spacing))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return out


def paint(digit: int, style: Style, size: int = 280) -> np.ndarray:
    """(size, size) uint8: the canvas after drawing ``digit`` in ``style`` (segments with round caps, anti-aliased)."""
    ss = 4
    image = Image.new("L", (size * ss, size * ss), 0)
    pen = ImageDraw.Draw(image)
    width = max(1, round(style.brush * ss))
    r = width / 2
    for stroke in _to_canvas(style.shapes[digit], style, size):
        pts = [(x * ss, y * ss) for x, y in stroke]
        for a, b in zip(pts[:-1], pts[1:]):  # the canvas draws a round-capped line per mouse move
            pen.line([a, b], fill=255, width=width)
        for x, y in pts:
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image.resize((size, size), Image.Resampling.BOX))
