"""A pyqtgraph plot for showing, not exploring: fixed ranges, no mouse panning, no context menu."""

from __future__ import annotations

import pyqtgraph as pg

from advviewer.gui.widgets.map_view import configure_pyqtgraph
from advviewer.gui.widgets.plot_scale import scale_axis


class StaticPlot(pg.PlotWidget):
    def __init__(self, object_name: str, accessible_name: str, tooltip: str, parent=None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.setToolTip(tooltip)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.scale = 1.0  # presentation mode's: text and strokes times this

    def set_presentation_scale(self, scale: float) -> None:
        """The axes' text and lines at ``scale`` (1: as built); subclasses add their own items."""
        self.scale = scale
        for side in ("left", "bottom"):
            scale_axis(self.getPlotItem().getAxis(side), scale)
