"""The ten class probabilities as one bar chart with a fixed 0..1 axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize

from advviewer.gui import palette
from advviewer.gui.widgets.plot_scale import scale_text, scaled_pen
from advviewer.gui.widgets.static_plot import StaticPlot

BAR = palette.bar_brush(predicted=False)
PREDICTED_BRUSH = palette.bar_brush(predicted=True)
TARGET_PEN = palette.bar_pen(target=True)
NO_PEN = palette.bar_pen(target=False)
MINIMUM_WIDTH = 340  # the axis, ten bars and the title "left: your image  right: the adversarial (says 2)"
ADVERSARIAL_LEGEND = "the adversarial"
ATTEMPT_LEGEND = "the attempt, not fooled"
INSIDE = 0.82  # labels of taller bars go inside the bar so they stay on the fixed axis
LABEL_TEXT = (30, 30, 30)
# A label sits on a light box: inside a bar narrowed beside the adversarial's, white text was wider
# than the bar and its "." fell on the white background (".99" read "99").
LABEL_FILL = pg.mkBrush(255, 255, 255, 230)
TITLE_POINTS = 8.0  # the legend above the bars after an attack (times the presentation scale)
TITLE_HEIGHT = 30  # pyqtgraph's height for a plot title
HEADROOM = 0.04  # above 1 on the probability axis, times the presentation scale: the 1 tick's label stays whole


class ProbabilityPlot(StaticPlot):
    """Bars for classes 0..9; the predicted class in orange, the attack target with a thick black outline.

    The adversarial's bars, beside them after an attack, are hatched and outlined in blue: they differ
    from the input's solid bars in fill as well as hue (palette).
    """

    def __init__(self, parent=None) -> None:
        super().__init__("probabilities", "Class probabilities",
                         "The model's softmax probability for each class, updated as you draw.\n"
                         "Orange: the predicted class. Thick black outline: the attack target.\n"
                         "After an attack, hatched blue bars on the right: the adversarial's probabilities.", parent)
        item = self.getPlotItem()
        item.setXRange(-0.7, 9.7, padding=0)  # room for the labels of classes 0 and 9 beside the adversarial's bars
        item.setYRange(0.0, 1 + HEADROOM, padding=0)  # a little headroom so the 1 tick and a top label show
        item.setLabel("left", "probability")
        item.setLabel("bottom", "class")
        item.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        item.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        item.showGrid(y=True, alpha=0.25)
        self._bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.72, brushes=[BAR] * 10, pens=[NO_PEN] * 10)
        item.addItem(self._bars)
        # the adversarial's probabilities, beside the original's, while a current result is on screen
        self._adversarial = pg.BarGraphItem(x=np.arange(10) + 0.2, height=np.zeros(10), width=0.36,
                                            brush=palette.adversarial_bar_brush(), pen=palette.adversarial_bar_pen())
        self._adversarial.setVisible(False)
        item.addItem(self._adversarial)

        self._labels = []
        for i in range(10):
            text = pg.TextItem("", color=LABEL_TEXT, anchor=(0.5, 1.0), fill=LABEL_FILL)
            text.textItem.document().setDocumentMargin(1)  # a tight box: class 0's label stays inside the plot
            text.setPos(i, 0.0)
            item.addItem(text)
            self._labels.append(text)
        self._shown: list[str] = [""] * 10
        self._target: int | None = None
        self._title: str | None = None
        # a line across the empty chart while there is nothing to show yet ("Loading the model cnn…")
        self.note = pg.TextItem("", color=(90, 90, 90), anchor=(0.5, 0.5))
        self.note.setPos(4.5, 0.55)
        item.addItem(self.note)

    def sizeHint(self) -> QSize:
        return QSize(360, 230)

    def minimumSizeHint(self) -> QSize:
        # narrower, pyqtgraph keeps the bars' spacing and cuts classes off the right (0-3 of 0-9 at 175 px)
        return QSize(MINIMUM_WIDTH, 160)

    def show_note(self, text: str) -> None:
        """A line across the chart instead of bars (the next probabilities take it away)."""
        self.set_probabilities(None, self._target)
        self.note.setText(text)

    @property
    def note_text(self) -> str:
        return self.note.toPlainText()

    def set_probabilities(self, probs: np.ndarray | None, target: int | None = None) -> None:
        """Show ``probs`` (10,); None clears the chart. ``target`` gets a thick black outline."""
        if probs is not None and self.note.toPlainText():
            self.note.setText("")
        self._target = target
        heights = np.zeros(10) if probs is None else np.asarray(probs, dtype=float)
        predicted = int(heights.argmax()) if probs is not None else -1
        brushes = [PREDICTED_BRUSH if i == predicted else BAR for i in range(10)]
        pens = [scaled_pen(TARGET_PEN if i == target else NO_PEN, self.scale) for i in range(10)]
        self._bars.setOpts(height=heights, brushes=brushes, pens=pens)
        offset = -0.2 if self._adversarial.isVisible() else 0.0
        for i, p in enumerate(heights):
            self._place_label(i, "" if probs is None else self._bar_label(p), float(p), offset)

    def _place_label(self, i: int, text: str, height: float, offset: float) -> None:
        """Class ``i``'s label on its bar of ``height``: inside a tall bar, above a short one; hidden when empty."""
        inside = height > INSIDE
        key = f"{text}|{inside}"
        if key != self._shown[i]:
            self._shown[i] = key
            self._labels[i].setText(text)
            self._labels[i].setVisible(bool(text))  # an empty label would still draw its box
            self._labels[i].setAnchor((0.5, 0.0) if inside else (0.5, 1.0))
        if text:
            self._labels[i].setPos(i + offset, height - 0.015 if inside else height + 0.01)

    @staticmethod
    def _bar_label(probability: float) -> str:
        """A bar's label: .07, .50, 1; nothing below 0.005 (tiny ones clutter)."""
        if probability < 0.005:
            return ""
        return "1" if probability >= 0.995 else f"{probability:.2f}"[1:]

    def set_adversarial(self, probs: np.ndarray | None, adversarial_class: int | None = None, fooled: bool = True) -> None:
        """The attack's image's ten probabilities as hatched blue bars beside the original's (None: hide them).

        ``fooled`` False: the image is the attack's closest attempt, not an adversarial, and the legend says so.
        """
        shown = probs is not None
        if not shown and not self._adversarial.isVisible():
            return  # nothing to take away (the common case while drawing)
        self._adversarial.setVisible(shown)
        self._bars.setOpts(x=np.arange(10) - (0.2 if shown else 0.0), width=0.36 if shown else 0.72)
        if shown:
            self._adversarial.setOpts(height=np.asarray(probs, dtype=float))
            self._set_title("left: your image " + ("<br>" if self.scale != 1 else "&nbsp;")
                            + palette.coloured(f"right {palette.HATCH_SWATCH}: {ADVERSARIAL_LEGEND if fooled else ATTEMPT_LEGEND} "
                                               f"(says {adversarial_class})", palette.ADVERSARIAL_BAR))
        else:
            self._set_title(None)
        self.set_probabilities(None if not self._bars.opts["height"].any() else self._bars.opts["height"],
                               self._target)

    def _set_title(self, title: str | None) -> None:
        if title != self._title:  # a new title re-lays out the plot: only when it changes
            self._title = title
            item = self.getPlotItem()
            item.setTitle(title, size=f"{TITLE_POINTS * self.scale:g}pt")
            if title is not None:  # pyqtgraph gives a title 30 px: a larger one gets its own height
                height = max(TITLE_HEIGHT, round(item.titleLabel.item.boundingRect().height()))
                item.titleLabel.setMaximumHeight(height)
                item.layout.setRowFixedHeight(0, height)

    def set_presentation_scale(self, scale: float) -> None:
        """Axes, title, the bars' labels and outlines at ``scale`` (1: as built)."""
        super().set_presentation_scale(scale)
        self.getPlotItem().setYRange(0.0, 1 + HEADROOM * scale, padding=0)
        for text in (*self._labels, self.note):
            scale_text(text, scale)
        title, self._title = self._title, None
        if title is not None:  # the legend on two lines in large text, one at the desk
            title = title.replace("&nbsp;", "<br>") if scale != 1 else title.replace("<br>", "&nbsp;")
        self._set_title(title)
        self._adversarial.setOpts(pen=scaled_pen(palette.adversarial_bar_pen(), scale))
        shown = self.probabilities
        self.set_probabilities(shown if shown.any() else None, self._target)

    @property
    def adversarial_probabilities(self) -> np.ndarray | None:
        return np.asarray(self._adversarial.opts["height"], dtype=float) if self._adversarial.isVisible() else None

    @property
    def probabilities(self) -> np.ndarray:
        """The bar heights shown."""
        return np.asarray(self._bars.opts["height"], dtype=float)
