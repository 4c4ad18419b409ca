"""A slide-ready figure of one attack: original | perturbation (with its colour bar) | adversarial.

Each picture is enlarged with nearest neighbour (pixels stay visible), and under each the model's
class and confidence are written; the perturbation's colour bar is labelled with its scale. Plain
Pillow, no Qt: the command line and the window write the same figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from advviewer.writing.pixels import diverging_rgb, to_8bit

if TYPE_CHECKING:  # eight_bit imports torch: the figure does not need it to draw
    from advviewer.writing.eight_bit import RobustPng

CELL = 280  # each picture's side, in pixels (28 x 10)
GAP = 24
BAR = 18
TEXT_SIZE = 20


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)


def _gray(image: np.ndarray) -> Image.Image:
    pixels = to_8bit(image)
    return Image.fromarray(pixels).convert("RGB").resize((CELL, CELL), Image.Resampling.NEAREST)


def figure_image(result, robust: RobustPng | None = None) -> Image.Image:
    """The figure for an AttackResult, its float adversarial and what the model says of it.

    ``robust``: the robust 8-bit export, shown instead, with its own perturbation and answer.
    """
    original = result.original if result.original is not None else result.adversarial - result.perturbation
    p0, p1 = np.asarray(result.original_probs), np.asarray(result.adversarial_probs)
    adversarial, answer, confidence = result.adversarial, result.adversarial_class, float(p1[result.adversarial_class])
    if robust is not None:
        adversarial, answer, confidence = robust.pixels.astype(np.float32) / 255.0, robust.png_class, robust.png_class_prob
    perturbation = adversarial - original
    l2, linf = float(np.linalg.norm(perturbation)), float(np.abs(perturbation).max())
    scale = linf or 1.0
    font, small = _font(TEXT_SIZE), _font(TEXT_SIZE - 4)
    width = 3 * CELL + 2 * GAP + BAR + 70 + 2 * GAP
    height = CELL + 2 * GAP + 3 * TEXT_SIZE + 20
    figure = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(figure)
    left = [GAP, 2 * GAP + CELL, 3 * GAP + 2 * CELL + BAR + 70]
    figure.paste(_gray(original), (left[0], GAP))
    r_image = Image.fromarray(diverging_rgb(perturbation, scale)).resize((CELL, CELL), Image.Resampling.NEAREST)
    figure.paste(r_image, (left[1], GAP))
    figure.paste(_gray(adversarial), (left[2], GAP))
    ramp = diverging_rgb(np.linspace(scale, -scale, CELL)[:, None].repeat(BAR, 1), scale)
    bar_left = left[1] + CELL + 8
    figure.paste(Image.fromarray(ramp), (bar_left, GAP))
    for y, value in ((GAP, scale), (GAP + CELL // 2, 0.0), (GAP + CELL, -scale)):
        draw.text((bar_left + BAR + 4, y), f"{value:+.3g}" if value else "0", fill="black", font=small, anchor="lm")
    below = GAP + CELL + 10
    captions = (
        ("original", f"model: {result.original_class} ({p0[result.original_class]:.1%})"),
        (f"perturbation r, largest ±{linf:.3f}", f"L2 {l2:.3f}, distortion {l2 / 28:.4f}"),
        ("adversarial = original + r", f"model: {answer} ({confidence:.1%})"),
    )
    for x, (title, line) in zip(left, captions):
        draw.text((x + CELL // 2, below), title, fill="black", font=font, anchor="ma")
        draw.text((x + CELL // 2, below + TEXT_SIZE + 6), line, fill="black", font=font, anchor="ma")
    return figure
