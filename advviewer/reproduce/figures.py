"""The report's figures, drawn with Pillow: transfer heat maps, example grids, distortion strips.

Pillow rather than matplotlib: it is already a dependency, the figures are cells, pixels and dots
(no curves or layout engine needed), and matplotlib would add ~40 MB to the packaged app for one
command. The perturbations use the export's diverging map, so they look as in the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from advviewer.reproduce import paper
from advviewer.reproduce.attacks import AttackSet
from advviewer.reproduce.digits import DigitSample
from advviewer.reproduce.tables import label
from advviewer.writing.pixels import diverging_rgb, to_8bit

WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (150, 150, 150)
READING_COLOURS = {"nearest": (33, 102, 172), "random": (214, 96, 77)}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _heat(value: float) -> tuple[int, int, int]:
    """0 -> white, 1 -> dark red (sequential, readable in grey print)."""
    t = min(max(value, 0.0), 1.0)
    r, g, b = (int(round(c)) for c in np.array([255, 250, 240]) + np.array([-115, -230, -220]) * t)
    return r, g, b


def _heat_map(draw: ImageDraw.ImageDraw, x0: int, y0: int, title: str, rows: list[str], cols: list[str],
              values: list[list[float | None]], cell: int, font, small) -> None:
    draw.text((x0, y0), title, fill=BLACK, font=font)
    top, left = y0 + 28 + 110, x0 + 110
    for j, c in enumerate(cols):  # column labels, written vertically
        text = Image.new("L", (108, 16), 0)
        ImageDraw.Draw(text).text((0, 0), label(c), fill=255, font=small)
        rotated = text.rotate(90, expand=True)
        draw.bitmap((left + j * cell + (cell - 16) // 2, top - 110), rotated, fill=BLACK)
    for i, r in enumerate(rows):
        draw.text((x0, top + i * cell + cell // 2 - 7), label(r), fill=BLACK, font=small)
        for j, v in enumerate(values[i]):
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1, top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=GREY if v is None else _heat(v), outline=WHITE)
            if v is not None:
                draw.text((box[0] + cell // 2, box[1] + cell // 2), f"{100 * v:.0f}", fill=WHITE if v > 0.55 else BLACK,
                          font=small, anchor="mm")


def transfer_figure(results: dict, cell: int = 44) -> Image.Image:
    """Heat maps of Table 2: ours for both readings, then the paper's (error in %, rows: made for)."""
    panels = []
    for reading in ("nearest", "random"):
        block = results["table2"][reading]["transfer"]
        models = list(block)
        panels.append((f"ours, {reading} {'class' if reading == 'nearest' else 'target'}", models, models,
                       [[block[r]["errors"][c] for c in models] for r in models]))
    pm = list(paper.PAPER_MODELS)
    panels.append(("the paper", pm, pm, [list(paper.TABLE2[r][0]) for r in pm]))
    width = sum(110 + cell * len(p[2]) + 30 for p in panels) + 20
    height = 28 + 110 + cell * max(len(p[1]) for p in panels) + 50
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    x = 10
    for title, rows, cols, values in panels:
        _heat_map(draw, x, 10, title, rows, cols, values, cell, _font(15), _font(11))
        x += 110 + cell * len(cols) + 30
    draw.text((10, height - 22), "error (%) each row's adversarial examples cause in each column's model", fill=BLACK, font=_font(12))
    return image


def _tile(array: np.ndarray, zoom: int) -> Image.Image:
    return Image.fromarray(to_8bit(array)).resize((28 * zoom, 28 * zoom), Image.Resampling.NEAREST)


def _one_per_class(attack: AttackSet, sample: DigitSample, count: int) -> np.ndarray:
    """Successful examples of different digits, spread over the classes present (the samples come sorted by class)."""
    ok = np.flatnonzero(attack.success)
    labels = sample.labels[attack.attacked[ok]]
    firsts = np.array([ok[np.flatnonzero(labels == c)[0]] for c in np.unique(labels)], dtype=int)
    if len(firsts) <= count:
        return firsts
    return firsts[np.unique(np.round(np.linspace(0, len(firsts) - 1, count)).astype(int))]


def examples_figure(attacks: dict[str, AttackSet], sample: DigitSample, per_reading: int = 6, zoom: int = 4) -> Image.Image:
    """Rows of original | perturbation | adversarial (as the paper's figures), one block per reading."""
    side, gap, caption = 28 * zoom, 6, 30
    block_w = 3 * side + 2 * gap
    image = Image.new("RGB", (len(attacks) * (block_w + 30) + 10, 34 + per_reading * (side + caption)), WHITE)
    draw = ImageDraw.Draw(image)
    small = _font(12)
    for b, (reading, attack) in enumerate(attacks.items()):
        x0 = 10 + b * (block_w + 30)
        draw.text((x0, 8), f"{attack.model}: {reading} {'class' if reading == 'nearest' else 'target'}", fill=BLACK, font=_font(15))
        shown = _one_per_class(attack, sample, per_reading)
        for row, k in enumerate(shown):
            y = 34 + row * (side + caption)
            original = sample.images[attack.attacked[k]]
            r = attack.adversarial[k] - original
            scale = float(np.abs(r).max())
            image.paste(_tile(original, zoom), (x0, y))
            image.paste(Image.fromarray(diverging_rgb(r, scale)).resize((side, side), Image.Resampling.NEAREST), (x0 + side + gap, y))
            image.paste(_tile(attack.adversarial[k], zoom), (x0 + 2 * (side + gap), y))
            text = (f"{int(sample.labels[attack.attacked[k]])} -> {int(attack.adversarial_class[k])}   "
                    f"d {attack.distortion[k]:.4f}   r in +-{scale:.2g}")
            draw.text((x0, y + side + 4), text, fill=BLACK, font=small)
    return image


def distortion_figure(results: dict, split: str, width: int = 760, row_h: int = 46) -> Image.Image:
    """Per model, every successful attack's distortion as a dot (both readings), its mean as a bar, the paper's as a diamond."""
    records = [e for e in results["examples"] if e["split"] == split]
    models = list(results["table1"])
    values = [d for e in records for d in _successful_distortions(e)]
    top = max(values + [v[2] for v in paper.TABLE1.values()] + [0.05]) * 1.05
    axis = _DistortionAxis(left=130, right=width - 20, top=top)
    head = 40
    height = head + row_h * len(models) + 50
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    font, small = _font(15), _font(11)
    draw.text((10, 8), f"minimal distortion ||r||/28 per attack, {split} digits", fill=BLACK, font=font)
    for i, model in enumerate(models):
        _draw_model_row(draw, axis, model, records, head + i * row_h, row_h, small)
    axis_y = head + row_h * len(models)
    _draw_distortion_axis(draw, axis, axis_y, small)
    legend = "dots: nearest class (blue), random target (red); bar: mean; diamond: the paper's average"
    draw.text((axis.left, axis_y + 26), legend, fill=BLACK, font=small)
    return image


@dataclass(frozen=True)
class _DistortionAxis:
    """The horizontal scale of the distortion figure: 0 at pixel ``left``, ``top`` at pixel ``right``."""

    left: int
    right: int
    top: float

    def x(self, value: float) -> float:
        return self.left + (self.right - self.left) * value / self.top


def _successful_distortions(record: dict) -> list[float]:
    """The distortions of the record's successful attacks (failed ones have no minimal distortion)."""
    return [d for d, ok in zip(record["distortion"], record["success"]) if ok]


def _draw_model_row(draw: ImageDraw.ImageDraw, axis: _DistortionAxis, model: str, records: list[dict], y: int, row_h: int,
                    small) -> None:
    """One model's row: its label, a strip of dots and a mean bar per reading, the paper's diamond, a separator."""
    draw.text((10, y + row_h // 2 - 7), label(model), fill=BLACK, font=small)
    for j, reading in enumerate(("nearest", "random")):
        record = next((e for e in records if e["model"] == model and e["reading"] == reading), None)
        distortions = _successful_distortions(record) if record else []
        _draw_reading_strip(draw, axis, distortions, y + 12 + j * 18, READING_COLOURS[reading])
    ref = paper.TABLE1.get(paper.paper_name(model) or "")
    if ref:
        cx, cy = axis.x(ref[2]), y + 21
        draw.polygon([(cx, cy - 6), (cx + 6, cy), (cx, cy + 6), (cx - 6, cy)], outline=BLACK, fill=(255, 215, 0))
    draw.line((axis.left, y + row_h - 2, axis.right, y + row_h - 2), fill=(225, 225, 225))


def _draw_reading_strip(draw: ImageDraw.ImageDraw, axis: _DistortionAxis, distortions: list[float], y: int,
                        colour: tuple[int, int, int]) -> None:
    """A dot per distortion and, if there are any, a bar at their mean."""
    for d in distortions:
        draw.ellipse((axis.x(d) - 2, y - 2, axis.x(d) + 2, y + 2), fill=colour)
    if distortions:
        m = axis.x(float(np.mean(distortions)))
        draw.line((m, y - 7, m, y + 7), fill=BLACK, width=2)


def _draw_distortion_axis(draw: ImageDraw.ImageDraw, axis: _DistortionAxis, axis_y: int, small) -> None:
    """The axis line with a labelled tick every 0.02 (every 0.05 when the scale goes past 0.16)."""
    draw.line((axis.left, axis_y, axis.right, axis_y), fill=BLACK)
    step = 0.02 if axis.top <= 0.16 else 0.05
    for t in np.arange(0, axis.top, step):
        draw.line((axis.x(t), axis_y, axis.x(t), axis_y + 5), fill=BLACK)
        draw.text((axis.x(t), axis_y + 8), f"{t:.2f}", fill=BLACK, font=small, anchor="ma")
