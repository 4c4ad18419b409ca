"""What c does, as a picture: every attack run on this input as a point (c, ||r||): a blue dot if it fooled the model, a vermillion cross if not."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize

from advviewer.gui import palette
from advviewer.gui.widgets.plot_scale import scaled_pen
from advviewer.gui.widgets.static_plot import StaticPlot
from advviewer.session.choices import DEFAULT_OBJECTIVE, describe_objective

DOT_SIZE = 9
DOT_PEN = pg.mkPen(40, 40, 40, width=0.5)
CURSOR_PEN = pg.mkPen(palette.C_CURSOR, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)


class CPlot(StaticPlot):
    """||r||_2 against c (log scale) for the runs on the current input, model, target and objective (named in the legend)."""

    def __init__(self, parent=None) -> None:
        super().__init__("c_plot", "Perturbation size against c",
                         "Each dot is one attack on this digit with the objective named below: its c and\n"
                         "the size of its perturbation. Runs of the other objective are not shown.\n"
                         "Blue dot: the model was fooled. Vermillion cross: it was not. The dashed line marks the slider's c.\n"
                         "Larger c pushes harder: the perturbation grows until the model gives in.", parent)
        item = self.getPlotItem()
        item.setLogMode(x=True, y=False)
        item.setLabel("left", "‖r‖₂")
        for side in ("bottom", "left"):
            item.getAxis(side).enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.2)
        self._dots = pg.ScatterPlotItem(size=DOT_SIZE, pen=DOT_PEN)
        item.addItem(self._dots)
        self._cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN)
        item.addItem(self._cursor)
        self._points: tuple = ()
        self.objective = ""
        self.set_objective(DEFAULT_OBJECTIVE)
        self.setMinimumHeight(84)
        self._decades(-3, 3)  # the slider's range, before any run

    def sizeHint(self) -> QSize:
        return QSize(360, 150)

    def _decades(self, lo: int, hi: int) -> None:
        """x from 10^lo to 10^hi, labelled only at whole decades (pyqtgraph's own log ticks run together)."""
        self.getPlotItem().setXRange(lo - 0.2, hi + 0.2, padding=0)  # room for the end decades' labels
        step = 1 if hi - lo <= 5 else 2  # a narrow plot keeps its labels apart
        decades = [(k, f"{10.0 ** k:g}") for k in range(lo, hi + 1) if (k - lo) % step == 0]
        unlabelled = [(k, "") for k in range(lo, hi + 1) if (k - lo) % step] + [
            (k + np.log10(m), "") for k in range(lo, hi) for m in range(2, 10)]
        self.getPlotItem().getAxis("bottom").setTicks([decades, unlabelled])

    def show_runs(self, points) -> None:
        """Show these runs, each with ``c``, ``l2`` and ``fooled`` (the state's c sweep points)."""
        self._points = tuple((p.c, p.l2, p.fooled) for p in points if p.c > 0 and math.isfinite(p.c) and math.isfinite(p.l2))
        self._redraw()

    def set_objective(self, objective: str) -> None:
        """Name the objective whose runs are shown (the caller shows only its runs)."""
        self.objective = objective
        # the legend shares the axis label's line: a title line would take height a short plot lacks
        # in large text (presentation mode) there is room for the key only
        runs = f"c (log scale) &nbsp; runs of the <b>{describe_objective(objective)}</b>:" if self.scale == 1 else "c:"
        self.getPlotItem().setLabel(
            "bottom", f"{runs} "
                      f"{palette.coloured(palette.FOOLED_GLYPH + ' fooled', palette.FOOLED)} "
                      f"{palette.coloured(palette.NOT_FOOLED_GLYPH + ' not fooled', palette.NOT_FOOLED)}")

    def set_presentation_scale(self, scale: float) -> None:
        """Axes, the dots and the slider's line at ``scale`` (1: as built)."""
        super().set_presentation_scale(scale)
        self._dots.setSize(DOT_SIZE * scale)
        self._dots.setPen(scaled_pen(DOT_PEN, scale))
        self._cursor.setPen(scaled_pen(CURSOR_PEN, scale))
        self.set_objective(self.objective)

    def set_cursor(self, c: float) -> None:
        self._cursor.setValue(math.log10(max(c, 1e-12)))

    @property
    def points(self) -> list[tuple[float, float, bool]]:
        """The (c, ||r||, fooled) shown."""
        return list(self._points)

    def _redraw(self) -> None:
        if not self._points:
            self._dots.setData([], [])
            return
        c, l2, fooled = (np.array(v) for v in zip(*self._points))
        self._dots.setData(x=np.log10(c), y=l2, brush=[palette.fooled_brush(f) for f in fooled],
                           symbol=[palette.FOOLED_SYMBOL if f else palette.NOT_FOOLED_SYMBOL for f in fooled])
        lo, hi = int(np.floor(np.log10(c.min()) - 0.3)), int(np.ceil(np.log10(c.max()) + 0.3))  # whole decades
        top = max(float(l2.max()) * 1.15, 1e-3)
        self.getPlotItem().setYRange(0.0, top, padding=0)
        nice = float(f"{top / 1.15:.2g}")  # three labels: they stay apart however short the plot is
        self.getPlotItem().getAxis("left").setTicks([[(0.0, "0"), (nice / 2, f"{nice / 2:g}"), (nice, f"{nice:g}")]])
        self._decades(lo, hi)
