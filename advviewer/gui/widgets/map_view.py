"""A 28x28 picture in a pyqtgraph view: grayscale digits, or signed maps on a diverging scale.

Signed maps (gradients, perturbations) use the export's blue - white - red map (palette.diverging_colormap) with symmetric levels
``(-m, m)`` set explicitly and a colour bar beside the image, so zero is always white and the
scale is always visible; auto-levels are never used.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize

from advviewer.gui.palette import diverging_colormap
from advviewer.gui.widgets.plot_scale import scale_axis, scale_text

_configured = False


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, once: (28, 28) arrays shown upright, light theme, anti-aliasing."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")
        _configured = True


END_LABEL_ROOM = 8  # pixels above and below an image: half a label's height, for the colour bar's end labels
BAR_AXIS_WIDTH = 48  # the colour bar's labels ("-2.5e-5"), times the presentation scale

NICE = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0)


def nice_limit(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7 x 10^k at or above ``value``.

    A colour bar on such round limits is easy to read, and its axis is redrawn only when the
    limit changes, not on every stroke.
    """
    if not np.isfinite(value) or value <= 0:
        return 1.0
    exponent = np.floor(np.log10(value))
    mantissa = value / 10**exponent
    return float(next(n for n in NICE if n >= mantissa - 1e-9) * 10**exponent)


def bar_label(value: float) -> str:
    """A colour-bar label: 0, 0.5, -1.5, 0.0002, 3e-06 (two significant digits, never an SI prefix)."""
    if value == 0:
        return "0"
    if abs(value) >= 0.01:
        return f"{value:.2g}"
    mantissa, exponent = f"{value:.1e}".split("e")  # 0.0002 -> 2e-4: fits the bar's narrow axis
    return f"{float(mantissa):g}e{int(exponent)}"


class MapView(pg.GraphicsLayoutWidget):
    """One 28x28 image, fixed aspect, no panning; ``signed=True`` adds a colour bar."""

    def __init__(self, object_name: str, accessible_name: str, *, signed: bool = False, parent=None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.ci.setContentsMargins(1, END_LABEL_ROOM, 1, END_LABEL_ROOM)  # the same for all, so images match in size
        self.ci.setSpacing(2)
        self.view = self.addViewBox(row=0, col=0, lockAspect=True, enableMouse=False, invertY=True)
        self.view.setMenuEnabled(False)
        self.view.setDefaultPadding(0.0)
        self.image = pg.ImageItem(np.zeros((28, 28), np.float32))
        self.view.addItem(self.image)
        self.view.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)
        self.placeholder = pg.TextItem("", color=(90, 90, 90), anchor=(0.5, 0.5))  # what will appear here
        self.placeholder.setPos(14, 14)
        self.placeholder.setZValue(10)
        self._placeholder_shown = False
        self.view.addItem(self.placeholder)
        self.bar: pg.ColorBarItem | None = None
        if signed:
            self.bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=diverging_colormap(), interactive=False, width=14,
                                        colorMapMenu=False, rounding=1e-9)
            self.bar.setImageItem(self.image)
            # the end labels (the scale) half stick out of the bar: draw them, never hide them
            self.bar.axis.setStyle(hideOverlappingLabels=False, autoExpandTextSpace=True)
            self.bar.axis.enableAutoSIPrefix(False)
            self.bar.axis.setWidth(BAR_AXIS_WIDTH)
            self._bar_ticks(1.0)
            self.addItem(self.bar, row=0, col=1)
        else:
            self.image.setLevels((0.0, 1.0))

    def sizeHint(self) -> QSize:
        return QSize(200 if self.bar is not None else 170, 170)

    def set_presentation_scale(self, scale: float) -> None:
        """The placeholder, the colour bar's labels and the room they take at ``scale`` (1: as built)."""
        room = round(END_LABEL_ROOM * scale)
        self.ci.setContentsMargins(1, room, 1, room)
        scale_text(self.placeholder, scale)
        if self.bar is not None:
            scale_axis(self.bar.axis, scale)
            self.bar.axis.setWidth(round(BAR_AXIS_WIDTH * scale))

    def set_gray(self, image: np.ndarray) -> None:
        """A picture in [0, 1]: black 0, white 1, levels fixed."""
        self._hide_placeholder()
        self.image.setImage(np.asarray(image, dtype=np.float32), autoLevels=False, levels=(0.0, 1.0))

    def set_signed(self, values: np.ndarray, limit: float | None = None) -> float:
        """A signed map with levels (-limit, limit); default: max|values| rounded up to a nice number."""
        values = np.asarray(values, dtype=np.float32)
        self._hide_placeholder()
        if limit is None:
            limit = nice_limit(float(np.abs(values).max()))
        limit = limit if np.isfinite(limit) and limit > 0 else 1.0
        self.image.setImage(values, autoLevels=False)
        if self.bar is not None:
            if tuple(self.bar.levels()) != (-limit, limit):  # the bar's axis is redrawn only on a change
                self.bar.setLevels((-limit, limit))
                self._bar_ticks(limit)
        else:
            self.image.setLevels((-limit, limit))
        return limit

    def _hide_placeholder(self) -> None:
        if self._placeholder_shown:  # an attack's iterates arrive many times a second: no text layout for each
            self._placeholder_shown = False
            self.placeholder.setHtml("")

    def _bar_ticks(self, limit: float) -> None:
        """Ticks at -limit, -limit/2, 0, limit/2, limit, labelled however small the range (no SI prefix)."""
        assert self.bar is not None
        values = (-limit, -limit / 2, 0.0, limit / 2, limit)
        self.bar.axis.setTicks([[(v, bar_label(v)) for v in values]])

    def relevel(self, limit: float | None = None) -> float:
        """New levels (-limit, limit) for the signed map shown (default: from its largest value)."""
        return self.set_signed(self.image.image, limit)

    def clear_image(self, placeholder: str = "") -> None:
        """An empty state: light grey, and ``placeholder`` (HTML) saying what will appear here."""
        empty = np.zeros((28, 28), np.float32) if self.bar is not None else np.full((28, 28), 0.93, np.float32)
        self.image.setImage(empty, autoLevels=False)
        self.placeholder.setHtml(f"<div style='text-align:center'>{placeholder}</div>")
        self._placeholder_shown = bool(placeholder)

    @property
    def placeholder_text(self) -> str:
        return self.placeholder.textItem.toPlainText()
