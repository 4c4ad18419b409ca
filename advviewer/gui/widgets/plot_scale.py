"""Text and strokes of pyqtgraph plots at a scale: presentation mode makes them readable on a projector.

pyqtgraph's text (tick labels, axis labels, titles, TextItems) does not follow the widget's font,
so a plot scales its own: :func:`scaled_font` is the application's font times the scale, and at
scale 1 every item gets back the font it had (the application's). Strokes are cosmetic pens, in
pixels: :func:`scaled_pen` widens a pen by the scale.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QApplication

AXIS_PEN_WIDTH = 1.0  # pyqtgraph's own axis pen, widened by the scale
# pyqtgraph drops tick labels once they fill 40% of an axis (textFillLimits): large ones would lose the
# probability axis's 1 and the c plot's decades, so in large text every set tick keeps its label
LARGE_TEXT_FILL_LIMITS = [(0, 1.0)]
DESK_FILL_LIMITS = "advviewer_desk_text_fill_limits"  # where an axis keeps its own limits while they are lent
END_LABEL_OVERFLOW = 15  # pixels a vertical axis's end labels may reach past its ends (pyqtgraph's default)


def scaled_font(scale: float, points: float | None = None) -> QFont:
    """The application's font (or ``points`` pt of it) times ``scale``."""
    font = QFont(QApplication.font())
    font.setPointSizeF((points or font.pointSizeF()) * scale)
    return font


def scaled_pen(pen: QPen, scale: float) -> QPen:
    """``pen`` with its width times ``scale`` (a width of 0, one device pixel, counts as 1)."""
    wider = QPen(pen)
    wider.setWidthF(max(pen.widthF(), 1.0) * scale if scale != 1 else pen.widthF())
    return wider


def scale_axis(axis: pg.AxisItem, scale: float) -> None:
    """Tick labels, the axis label and the axis line of ``axis`` at ``scale`` (1: pyqtgraph's defaults)."""
    axis.setTickFont(None if scale == 1 else scaled_font(scale))
    axis.label.setFont(scaled_font(scale))
    if scale == 1:
        axis.setPen()  # the default foreground pen, as before
    else:
        axis.setPen(pg.mkPen(pg.getConfigOption("foreground"), width=AXIS_PEN_WIDTH * scale))
    if not hasattr(axis, DESK_FILL_LIMITS):
        setattr(axis, DESK_FILL_LIMITS, list(axis.style["textFillLimits"]))
    axis.setStyle(textFillLimits=getattr(axis, DESK_FILL_LIMITS) if scale == 1 else LARGE_TEXT_FILL_LIMITS)
    if axis.orientation in ("left", "right"):  # larger end labels (0 and 1, a colour bar's ±limit) reach further out
        axis.setStyle(hideOverlappingLabels=False if scale == 1 else round(END_LABEL_OVERFLOW * scale))
    axis.showLabel(axis.label.isVisible())  # re-measures the room the label takes


def scale_text(item: pg.TextItem, scale: float, points: float | None = None) -> None:
    """A TextItem's font at ``scale`` (``points``: its size at scale 1, else the application's)."""
    item.setFont(scaled_font(scale, points))
