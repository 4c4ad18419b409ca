"""Every colour that carries a meaning in the window, in one place, each with a second cue that is not colour.

About one man in twelve has a red-green deficiency (deuteranopia, protanopia or their milder
forms): to him the former green "fooled" and red "not fooled" dots were the same olive, and the
orange predicted bar and the red adversarial bars the same brown. So:

- The hues come from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), made
  to stay distinct under protanopia, deuteranopia and tritanopia. Its blue and its orange or
  vermillion differ along the blue-yellow axis, which red-green dichromats keep, and in
  lightness, so the pairs that mean opposite things here are blue against orange/vermillion,
  never red against green. Checked with tools/colour_vision.py (Machado et al. 2009): Okabe-Ito
  blue and vermillion stay about 100 CIELAB units apart under both deficiencies; the old green
  and red fell from 101 to about 20.
- Colour is never the only cue: fooled runs are filled circles, failed runs crosses; the
  adversarial's bars are hatched and outlined, the input's solid; the attack target's bar has a
  thick black outline; a changed class is marked with an arrow.
- Signed maps keep the export's blue-white-red map (ColorBrewer RdBu, rated colour-blind safe):
  its negative end stays blue and its positive end turns olive-brown to a red-green dichromat,
  still apart in hue and lightness, and screen and exported PNGs keep agreeing.

Widgets take their colours, symbols and brushes from here, by the name of what they show.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from advviewer.writing.pixels import DIVERGING_ANCHORS

# Okabe-Ito, by name
OKABE_ITO_BLUE = "#0072B2"
OKABE_ITO_VERMILLION = "#D55E00"
OKABE_ITO_ORANGE = "#E69F00"
OKABE_ITO_SKY_BLUE = "#56B4E9"
OKABE_ITO_BLUISH_GREEN = "#009E73"
NEUTRAL_BAR = "#7896BE"  # a quiet grey-blue for the bars that mean nothing in particular
DARK_GREY = "#505050"

# an attack that fooled the model against one that did not (c plot, compare, transfer, noise check)
FOOLED = OKABE_ITO_BLUE
NOT_FOOLED = OKABE_ITO_VERMILLION
FOOLED_SYMBOL = "o"  # a filled circle
NOT_FOOLED_SYMBOL = "x"  # a cross
FOOLED_GLYPH = "●"  # the same shapes in legends written as text
NOT_FOOLED_GLYPH = "✕"
CHANGED_GLYPH = "→"  # a class that changed (noise check): an arrow before it

# panel 2's bars: the input's solid, the adversarial's hatched and outlined
INPUT_BAR = NEUTRAL_BAR
PREDICTED_BAR = OKABE_ITO_ORANGE
ADVERSARIAL_BAR = OKABE_ITO_BLUE
ADVERSARIAL_BAR_PATTERN = Qt.BrushStyle.BDiagPattern
TARGET_OUTLINE = "#000000"
TARGET_OUTLINE_WIDTH = 2.5
PLAIN_OUTLINE = DARK_GREY
PLAIN_OUTLINE_WIDTH = 0.5
HATCH_SWATCH = "▨"  # the hatched bars, as a legend writes them

# lines
C_CURSOR = DARK_GREY  # the slider's c on the c plot (dashed)
NORM_CURVE = OKABE_ITO_BLUE  # playback's ||r|| against iteration
MARGIN_CURVE = OKABE_ITO_VERMILLION  # playback's target margin against iteration
PLAYBACK_CURSOR = OKABE_ITO_BLUISH_GREEN
BRUSH_CURSOR = OKABE_ITO_SKY_BLUE  # the canvas's hover circle: solid while drawing
ERASER_CURSOR = OKABE_ITO_VERMILLION  # dashed while erasing


def diverging_colormap() -> pg.ColorMap:
    """The blue-white-red map of the exported perturbation PNGs (writing.pixels), so screen and file agree."""
    return pg.ColorMap(np.linspace(0.0, 1.0, len(DIVERGING_ANCHORS)), DIVERGING_ANCHORS.astype(np.uint8))


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


# the words "blue" and "red" in captions, in the colours of the map's halves (between the strong and the
# darkest anchor: dark enough to read as text on the light window)
SIGNED_NEGATIVE = _hex((DIVERGING_ANCHORS[0] + DIVERGING_ANCHORS[1]) / 2)
SIGNED_POSITIVE = _hex((DIVERGING_ANCHORS[3] + DIVERGING_ANCHORS[4]) / 2)


def coloured(text: str, colour: str, bold: bool = False) -> str:
    """``text`` as rich text in ``colour`` (the caller has escaped it)."""
    inner = f"<b>{text}</b>" if bold else text
    return f"<span style='color:{colour}'>{inner}</span>"


def fooled_brush(fooled: bool):
    return pg.mkBrush(FOOLED if fooled else NOT_FOOLED)


def bar_brush(predicted: bool):
    return pg.mkBrush(PREDICTED_BAR if predicted else INPUT_BAR)


def adversarial_bar_brush():
    """Hatched, so the adversarial's bars differ from the input's solid ones in more than hue."""
    return pg.mkBrush(pg.QtGui.QBrush(pg.mkColor(ADVERSARIAL_BAR), ADVERSARIAL_BAR_PATTERN))


def adversarial_bar_pen():
    return pg.mkPen(ADVERSARIAL_BAR, width=1.5)


def bar_pen(target: bool):
    return pg.mkPen(TARGET_OUTLINE, width=TARGET_OUTLINE_WIDTH) if target else pg.mkPen(PLAIN_OUTLINE, width=PLAIN_OUTLINE_WIDTH)
