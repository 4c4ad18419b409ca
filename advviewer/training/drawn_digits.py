"""Procedural mouse drawings of the ten digits, in the styles people draw them, for training the convnet.

MNIST's writers were mostly American: its 1s are bare strokes, its 7s uncrossed, its 4s open.
A person at the window draws with a mouse on a 280x280 canvas, often a flagged 1 (much of Europe
writes it so), a crossed 7 or a closed 4, slanted, small or off-centre, with a thin or thick brush.
Trained on MNIST alone, the convnet read 8 of 10 flagged 1s as 7.

Each digit has several *templates*: functions that draw its strokes in a unit box (x right, y
down, the digit about 0.6 wide and 1 tall) with random proportions (flag length and angle, bar
length, loop sizes). A drawing then gets a smooth random warp (the hand's wobble), a slant,
rotation and aspect change, a size and place on the canvas, mouse-event sampling (straight
segments between points 3-14 px apart) and a brush width, and is painted like the canvas paints
(white on black, round caps and joins, anti-aliased) before going through
:func:`advviewer.reading.preprocess.preprocess`, the window's own path from canvas to model input.

Everything is driven by one ``numpy.random.Generator``: the same seed gives the same drawings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from advviewer.reading.preprocess import preprocess

CANVAS = 280  # the canvas's drawing resolution (advviewer/gui/widgets/canvas.py SIDE)
DEFAULT_BRUSH = 22  # the canvas's default brush width at mouse pressure
BRUSH_RANGE = (4.0, 60.0)  # the brush slider's range
SUPERSAMPLE = 2  # painted at twice the size and box-averaged: anti-aliased like the canvas's pen

Point = tuple[float, float]
Stroke = list[Point]
Template = Callable[[np.random.Generator], list[Stroke]]


@dataclass(frozen=True)
class DrawnDigits:
    """Model inputs (N, 28, 28) float32 in [0, 1] and their labels (N,) int64."""

    images: np.ndarray
    labels: np.ndarray


# --- stroke helpers -----------------------------------------------------------------------------


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float) -> Stroke:
    """Points along an ellipse; angles in degrees with y down (0 right, 90 bottom, -90 top)."""
    n = max(4, int(abs(end_deg - start_deg) / 8))
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(start_deg, end_deg, n)]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


# --- templates: several ways of writing each digit -----------------------------------------------


def _zero(rng: np.random.Generator) -> list[Stroke]:
    start = _u(rng, -130, -50)
    sweep = _u(rng, 330, 385)
    direction = 1 if rng.random() < 0.5 else -1
    return [arc(0.5, 0.5, _u(rng, 0.2, 0.36), 0.5, start, start + direction * sweep)]


def _one_plain(rng: np.random.Generator) -> list[Stroke]:
    top, bottom = (0.5 + _u(rng, -0.03, 0.03), 0.0), (0.5 + _u(rng, -0.06, 0.06), 1.0)
    strokes = [[top, bottom]]
    if rng.random() < 0.25:  # a foot
        half = _u(rng, 0.1, 0.28)
        strokes.append([(bottom[0] - half, 1.0), (bottom[0] + half, 1.0)])
    return strokes


def _one_flagged(rng: np.random.Generator) -> list[Stroke]:
    """The continental 1: a flag rising from the left to the top of the stem, sometimes a foot."""
    length, angle = _u(rng, 0.12, 0.55), math.radians(_u(rng, 10, 70))
    top = (0.55, 0.0)
    flag = (top[0] - length * math.cos(angle), length * math.sin(angle))
    bottom = (0.55 + _u(rng, -0.06, 0.05), 1.0)
    strokes = [[flag, top, bottom]]
    if rng.random() < 0.35:
        half = _u(rng, 0.12, 0.3)
        strokes.append([(bottom[0] - half, 1.0), (bottom[0] + half, 1.0)])
    return strokes


def _two_classic(rng: np.random.Generator) -> list[Stroke]:
    r = _u(rng, 0.28, 0.4)
    top = arc(0.5, r * 0.9, r, r * 0.9, _u(rng, 170, 215), _u(rng, 370, 410))
    left, right = _u(rng, 0.05, 0.2), _u(rng, 0.8, 1.0)
    return [top + [(left, 1.0), (right, 1.0 - _u(rng, -0.04, 0.06))]]


def _two_looped(rng: np.random.Generator) -> list[Stroke]:
    r = _u(rng, 0.28, 0.38)
    top = arc(0.5, r * 0.9, r, r * 0.9, _u(rng, 180, 215), _u(rng, 370, 405))
    loop = arc(0.2, 0.9, 0.09, 0.08, -60, -420)  # a small curl where the diagonal meets the base
    return [top + [(0.25, 0.8)] + loop + [(_u(rng, 0.8, 1.0), 1.0)]]


def _two_angular(rng: np.random.Generator) -> list[Stroke]:
    return [[(0.1, 0.2), (0.45, 0.0), (0.85, 0.15), (0.8, 0.4), (_u(rng, 0.05, 0.2), 1.0), (_u(rng, 0.8, 1.0), 0.98)]]


def _three_round(rng: np.random.Generator) -> list[Stroke]:
    upper = _u(rng, 0.4, 0.5)
    r1 = upper / 2
    r2 = (1 - upper) / 2
    top = arc(0.5, r1, _u(rng, 0.28, 0.38), r1, _u(rng, 190, 220), 450)
    bottom = arc(0.5, upper + r2, _u(rng, 0.32, 0.42), r2, -90, _u(rng, 140, 175))
    return [top + bottom]


def _three_flat_top(rng: np.random.Generator) -> list[Stroke]:
    return [[(0.12, 0.0), (0.85, 0.0), (0.4, 0.38)] + arc(0.5, 0.68, 0.38, 0.32, -100, _u(rng, 140, 170))]


def _three_pointed(rng: np.random.Generator) -> list[Stroke]:
    top = arc(0.5, 0.25, 0.33, 0.25, _u(rng, 190, 215), 420)
    bottom = arc(0.5, 0.73, 0.38, 0.27, -120, _u(rng, 140, 170))
    return [top + [(0.4, 0.49)] + bottom]


def _four_open(rng: np.random.Generator) -> list[Stroke]:
    """Open top: the left stroke and the stem do not meet."""
    bar_y, stem_x = _u(rng, 0.55, 0.7), _u(rng, 0.6, 0.75)
    left_top = (_u(rng, 0.1, 0.35), 0.0)
    stem = [(stem_x, _u(rng, 0.0, 0.25)), (stem_x + _u(rng, -0.05, 0.05), 1.0)]
    return [[left_top, (_u(rng, 0.0, 0.12), bar_y), (_u(rng, 0.85, 1.0), bar_y)], stem]


def _four_closed(rng: np.random.Generator) -> list[Stroke]:
    """Closed top: a triangle from the stem's top, as printed."""
    bar_y, stem_x = _u(rng, 0.6, 0.72), _u(rng, 0.6, 0.75)
    apex = (stem_x, 0.0)
    return [[apex, (_u(rng, 0.0, 0.1), bar_y), (_u(rng, 0.85, 1.0), bar_y)], [apex, (stem_x + _u(rng, -0.04, 0.04), 1.0)]]


def _four_one_stroke(rng: np.random.Generator) -> list[Stroke]:
    """Down, across, then the stem drawn up and down in one go."""
    bar_y, stem_x = _u(rng, 0.55, 0.7), _u(rng, 0.62, 0.75)
    return [[(0.15, 0.0), (0.1, bar_y), (stem_x, bar_y), (stem_x, 0.05), (stem_x + 0.02, 1.0)]]


def _five_one_stroke(rng: np.random.Generator) -> list[Stroke]:
    belly = _u(rng, 0.28, 0.36)
    bend = (0.22, _u(rng, 0.36, 0.46))
    cy = 1.0 - belly
    return [[(_u(rng, 0.75, 0.95), 0.0), (0.25, 0.0), bend] + arc(0.45, cy, _u(rng, 0.35, 0.45), belly, _u(rng, -150, -120), _u(rng, 140, 170))]


def _five_two_strokes(rng: np.random.Generator) -> list[Stroke]:
    belly = _u(rng, 0.28, 0.36)
    cy = 1.0 - belly
    body = [(0.25, 0.0), (0.2, _u(rng, 0.38, 0.46))] + arc(0.45, cy, _u(rng, 0.35, 0.45), belly, _u(rng, -150, -120), _u(rng, 140, 170))
    return [body, [(0.25, 0.0), (_u(rng, 0.75, 0.95), _u(rng, -0.04, 0.04))]]


def _six_curved(rng: np.random.Generator) -> list[Stroke]:
    r = _u(rng, 0.25, 0.33)
    cy = 1.0 - r
    stem = arc(0.85, cy, 0.7, cy, -100, -180)  # from the top right, curving down the left side
    return [[(0.75, 0.0)] + stem[1:] + arc(0.15 + _u(rng, 0.28, 0.36), cy, _u(rng, 0.28, 0.36), r, 180, -180 + _u(rng, -10, 20))]


def _six_straight(rng: np.random.Generator) -> list[Stroke]:
    r = _u(rng, 0.25, 0.33)
    cy = 1.0 - r
    rx = _u(rng, 0.3, 0.38)
    return [[(_u(rng, 0.55, 0.8), 0.0), (0.12, cy)] + arc(0.12 + rx, cy, rx, r, 180, -180 + _u(rng, -10, 25))]


def _seven(rng: np.random.Generator, crossed: bool, ticked: bool) -> list[Stroke]:
    bar_y = _u(rng, -0.04, 0.04)
    left, right = (_u(rng, 0.0, 0.1), 0.0), (_u(rng, 0.85, 1.0), bar_y)
    foot = (_u(rng, 0.2, 0.55), 1.0)
    mid = ((right[0] + foot[0]) / 2 + _u(rng, -0.05, 0.08), 0.5)  # a straight or slightly bowed stem
    stroke = ([(left[0], _u(rng, 0.1, 0.2))] if ticked else []) + [left, right, mid, foot]
    strokes = [stroke]
    if crossed:
        half = _u(rng, 0.15, 0.3)
        y = _u(rng, 0.42, 0.58)
        x = right[0] + (foot[0] - right[0]) * (y - bar_y) / (1 - bar_y)
        strokes.append([(x - half, y), (x + half * _u(rng, 0.7, 1.1), y + _u(rng, -0.03, 0.03))])
    return strokes


def _eight_one_stroke(rng: np.random.Generator) -> list[Stroke]:
    ru, rl = _u(rng, 0.2, 0.25), _u(rng, 0.25, 0.3)
    xu, xl = _u(rng, 0.25, 0.35), _u(rng, 0.32, 0.42)
    upper_c, lower_c = (0.5, ru), (0.5, 2 * ru + rl)
    return [arc(*upper_c, xu, ru, -30, -270) + arc(*lower_c, xl, rl, -90, 270) + arc(*upper_c, xu, ru, 90, -35)]


def _eight_two_circles(rng: np.random.Generator) -> list[Stroke]:
    ru, rl = _u(rng, 0.2, 0.25), _u(rng, 0.25, 0.3)
    return [arc(0.5, ru, _u(rng, 0.25, 0.35), ru, -90, 270), arc(0.5, 2 * ru + rl, _u(rng, 0.32, 0.42), rl, -90, 270)]


def _nine(rng: np.random.Generator, hooked: bool) -> list[Stroke]:
    r = _u(rng, 0.22, 0.3)
    rx = _u(rng, 0.3, 0.4)
    cx = 0.85 - rx
    loop = arc(cx, r, rx, r, _u(rng, 0, 20), _u(rng, -370, -345))
    tail_top = (cx + rx, r)
    if hooked:
        tail = [tail_top, (cx + rx - 0.05, 0.8)] + arc(cx + rx - 0.25, 0.8, 0.2, 0.2, 0, 150)
    else:
        tail = [tail_top, (cx + rx + _u(rng, -0.2, 0.02), 1.0)]
    return [loop + tail]


TEMPLATES: dict[int, tuple[Template, ...]] = {
    0: (_zero,),
    1: (_one_plain, _one_flagged, _one_flagged),
    2: (_two_classic, _two_looped, _two_angular),
    3: (_three_round, _three_flat_top, _three_pointed),
    4: (_four_open, _four_closed, _four_one_stroke),
    5: (_five_one_stroke, _five_two_strokes),
    6: (_six_curved, _six_straight),
    7: (lambda r: _seven(r, False, False), lambda r: _seven(r, True, False), lambda r: _seven(r, False, True),
        lambda r: _seven(r, True, True)),
    8: (_eight_one_stroke, _eight_two_circles),
    9: (lambda r: _nine(r, False), lambda r: _nine(r, True)),
}


# --- variation and painting -----------------------------------------------------------------------


def _densify(stroke: Stroke, step: float = 0.02) -> np.ndarray:
    """The polyline with points at most ``step`` apart, so a warp bends straight segments too."""
    pts = np.asarray(stroke, dtype=np.float64)
    out = [pts[:1]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(1, int(math.ceil(float(np.hypot(*(b - a))) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def _wobble(points: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A smooth random displacement field (two low-frequency waves per axis): an unsteady hand."""
    out = points.copy()
    for axis in (0, 1):
        for _ in range(2):
            freq = rng.uniform(1.0, 3.0, size=2)
            phase = rng.uniform(0, 2 * math.pi)
            out[:, axis] += amplitude * rng.uniform(-1, 1) * np.sin(2 * math.pi * (points @ freq) / 2 + phase)
    return out


def _mouse_samples(points: np.ndarray, rng: np.random.Generator, spacing: float) -> np.ndarray:
    """Resample a path at about ``spacing`` canvas pixels: where mouse events would land."""
    seg = np.hypot(*np.diff(points, axis=0).T)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    total = dist[-1]
    if total < 1e-9:
        return points[:1]
    n = max(2, int(total / spacing) + 1)
    where = np.linspace(0.0, total, n)
    where[1:-1] += rng.uniform(-0.3, 0.3, n - 2) * spacing
    where = np.sort(np.clip(where, 0.0, total))
    return np.stack([np.interp(where, dist, points[:, 0]), np.interp(where, dist, points[:, 1])], 1)


def _brush_width(rng: np.random.Generator, height: float) -> float:
    if rng.random() < 0.45:
        width = DEFAULT_BRUSH * rng.uniform(0.8, 1.25)
    else:
        width = math.exp(rng.uniform(math.log(BRUSH_RANGE[0]), math.log(BRUSH_RANGE[1])))
    return float(min(width, 0.3 * height))


def _place(strokes: list[np.ndarray], rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
    """Slant, rotate, stretch, size and place the digit on the canvas; returns canvas points and height."""
    slant = rng.uniform(-0.2, 0.45)
    angle = math.radians(rng.uniform(-12, 12))
    aspect = rng.uniform(0.7, 1.3)
    pts = [s.copy() for s in strokes]
    for p in pts:
        p[:, 0] = (p[:, 0] - 0.5) * aspect + slant * (0.5 - p[:, 1])
        p[:, 1] -= 0.5
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = [p @ rot.T for p in pts]
    allp = np.concatenate(pts)
    lo, hi = allp.min(0), allp.max(0)
    height = rng.uniform(0.25, 0.88) * CANVAS
    scale = min(height / max(hi[1] - lo[1], 1e-6), 0.9 * CANVAS / max(hi[0] - lo[0], 1e-6))
    size = (hi - lo) * scale
    margin = 12.0
    corner = np.array([rng.uniform(margin, max(margin, CANVAS - margin - size[0])),
                       rng.uniform(margin, max(margin, CANVAS - margin - size[1]))])
    return [(p - lo) * scale + corner for p in pts], float(size[1])


def paint(strokes: list[np.ndarray], width: float) -> np.ndarray:
    """(280, 280) uint8 canvas: white strokes on black with round caps and joins, anti-aliased."""
    big = CANVAS * SUPERSAMPLE
    image = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(image)
    w = max(1, int(round(width * SUPERSAMPLE)))
    r = w / 2
    for stroke in strokes:
        points = [(float(x) * SUPERSAMPLE, float(y) * SUPERSAMPLE) for x, y in stroke]
        if len(points) > 1:
            pen.line(points, fill=255, width=w, joint="curve")
        for x, y in points:  # the canvas's round caps, at every mouse event
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image.resize((CANVAS, CANVAS), Image.Resampling.BOX))


def draw_canvas(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One random drawing of ``digit`` as the canvas would hold it: (280, 280) uint8."""
    templates = TEMPLATES[digit]
    strokes = templates[int(rng.integers(len(templates)))](rng)
    wobble = rng.uniform(0.0, 0.04)
    dense = [_wobble(_densify(s), rng, wobble) for s in strokes]
    placed, height = _place(dense, rng)
    spacing = rng.uniform(3.0, 14.0)
    sampled = [_mouse_samples(p, rng, spacing) + rng.normal(0.0, 0.6, size=(1, 2)) for p in placed]
    return paint(sampled, _brush_width(rng, height))


def drawn_digits(count: int, seed: int) -> DrawnDigits:
    """``count`` drawings (labels cycling 0-9), each painted and then framed by :func:`preprocess`."""
    rng = np.random.default_rng([seed, 0xD1A7])
    labels = np.arange(count, dtype=np.int64) % 10
    images = np.stack([preprocess(draw_canvas(int(d), rng)) for d in labels]) if count else np.zeros((0, 28, 28), np.float32)
    return DrawnDigits(images.astype(np.float32), labels)
