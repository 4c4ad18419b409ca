"""A scrubber through the shown attack's iterates, with ||r|| and the target's margin against iteration."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSlider, QVBoxLayout, QWidget

from advviewer.gui import palette
from advviewer.gui.widgets.static_plot import StaticPlot

HINT = ("Drag the scrubber: the result panel shows the attack's image at that step of its path "
        "(the final solve, through the solves it was warm-started from; step 0: where it started).")


class PlaybackView(QWidget):
    frame_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playback")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="playback_status", wordWrap=True)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="playback_scrubber")
        self.slider.setAccessibleName("Iteration to show")
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self.frame_requested)
        self.norm_plot = StaticPlot("playback_norm", "||r|| against iteration", "||r||₂ of each iterate")
        self.margin_plot = StaticPlot("playback_margin", "target margin against iteration",
                                      "z_target − max other z: above 0 the model sees the target")
        self.norm_plot.setLabel("left", "‖r‖₂")
        self.margin_plot.setLabel("left", "margin")
        self.margin_plot.setLabel("bottom", "step along the path (0: where it started)")
        for plot in (self.norm_plot, self.margin_plot):  # plain numbers, never "(x0.001)" on the axis
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.margin_plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine)))
        self.norm_curve = self.norm_plot.plot(pen=pg.mkPen(palette.NORM_CURVE, width=2))
        self.margin_curve = self.margin_plot.plot(pen=pg.mkPen(palette.MARGIN_CURVE, width=2))
        self.cursors = [pg.InfiniteLine(0, pen=pg.mkPen(palette.PLAYBACK_CURSOR, width=2)) for _ in range(2)]
        self.norm_plot.addItem(self.cursors[0])
        self.margin_plot.addItem(self.cursors[1])
        self.frame_label = QLabel("", objectName="playback_frame")
        for w in (self.status, self.slider, self.frame_label):
            layout.addWidget(w)
        layout.addWidget(self.norm_plot, 1)
        layout.addWidget(self.margin_plot, 1)

    def show_status(self, text: str) -> None:
        self.status.setText(text or HINT)

    def show_curves(self, l2: np.ndarray, margin: np.ndarray) -> None:
        """A new attack: its curves, and the scrubber at its end (the result)."""
        n = len(l2)
        x = np.arange(n)
        self.norm_curve.setData(x, l2)
        self.margin_curve.setData(x, np.clip(margin, -20, 20))  # the first iterates' margins dwarf the crossing
        for plot in (self.norm_plot, self.margin_plot):
            plot.setXRange(0, max(n - 1, 1), padding=0.02)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(max(n - 1, 0))
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 1)
        self._mark(max(n - 1, 0), l2, margin)
        self._l2, self._margin = l2, margin

    def show_frame(self, index: int) -> None:
        self._mark(index, self._l2, self._margin)

    def _mark(self, index: int, l2: np.ndarray, margin: np.ndarray) -> None:
        for cursor in self.cursors:
            cursor.setValue(index)
        if len(l2):
            verdict = "fooled" if margin[index] > 0 else "not yet"
            self.frame_label.setText(f"step {index} of {len(l2) - 1}: ‖r‖₂ = {l2[index]:.3f}, margin {margin[index]:+.2f} ({verdict})")
