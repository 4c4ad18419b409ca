"""A 28x28 picture in a pyqtgraph view: grayscale digits, or signed maps on a diverging scale.

Signed maps (gradients, perturbations) use the export's blue - white - red map with symmetric levels
``(-m, m)`` set explicitly and a colour bar beside the image, so zero is always white and the
scale is always visible; auto-levels are never used.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize

from advviewer.export import DIVERGING_ANCHORS

_configured = False


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, once: (28, 28) arrays shown upright, light theme, anti-aliasing."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")
        _configured = True


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


def diverging_colormap() -> pg.ColorMap:
    """The blue-white-red map of the exported perturbation PNGs, so screen and file agree."""
    return pg.ColorMap(np.linspace(0.0, 1.0, len(DIVERGING_ANCHORS)), DIVERGING_ANCHORS.astype(np.uint8))


class MapView(pg.GraphicsLayoutWidget):
    """One 28x28 image, fixed aspect, no panning; ``signed=True`` adds a colour bar."""

    def __init__(self, object_name: str, accessible_name: str, *, signed: bool = False, parent=None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.ci.setContentsMargins(1, 1, 1, 1)
        self.ci.setSpacing(2)
        self.view = self.addViewBox(row=0, col=0, lockAspect=True, enableMouse=False, invertY=True)
        self.view.setMenuEnabled(False)
        self.view.setDefaultPadding(0.0)
        self.image = pg.ImageItem(np.zeros((28, 28), np.float32))
        self.view.addItem(self.image)
        self.view.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)
        self.bar: pg.ColorBarItem | None = None
        if signed:
            self.bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=diverging_colormap(), interactive=False, width=14,
                                        colorMapMenu=False, rounding=1e-9)
            self.bar.setImageItem(self.image)
            self.addItem(self.bar, row=0, col=1)
        else:
            self.image.setLevels((0.0, 1.0))

    def sizeHint(self) -> QSize:
        return QSize(200 if self.bar is not None else 170, 170)

    def set_gray(self, image: np.ndarray) -> None:
        """A picture in [0, 1]: black 0, white 1, levels fixed."""
        self.image.setImage(np.asarray(image, dtype=np.float32), autoLevels=False, levels=(0.0, 1.0))

    def set_signed(self, values: np.ndarray, limit: float | None = None) -> float:
        """A signed map with levels (-limit, limit); default: max|values| rounded up to a nice number."""
        values = np.asarray(values, dtype=np.float32)
        if limit is None:
            limit = nice_limit(float(np.abs(values).max()))
        limit = limit if np.isfinite(limit) and limit > 0 else 1.0
        self.image.setImage(values, autoLevels=False)
        if self.bar is not None:
            if tuple(self.bar.levels()) != (-limit, limit):  # the bar's axis is redrawn only on a change
                self.bar.setLevels((-limit, limit))
        else:
            self.image.setLevels((-limit, limit))
        return limit

    def relevel(self, limit: float | None = None) -> float:
        """New levels (-limit, limit) for the signed map shown (default: from its largest value)."""
        return self.set_signed(self.image.image, limit)

    def clear_image(self) -> None:
        self.image.setImage(np.zeros((28, 28), np.float32), autoLevels=False)
