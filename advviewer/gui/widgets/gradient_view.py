"""The input-gradient heatmap with its controls: which class, which method, digit outline."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QComboBox, QGridLayout, QLabel, QRadioButton, QWidget

from advviewer.gui import palette
from advviewer.gui.widgets.fixed_height import fixed_height
from advviewer.gui.widgets.map_view import MapView
from advviewer.gui.widgets.outline import outline_segments
from advviewer.gui.widgets.plot_scale import scaled_pen
from advviewer.session.choices import AUTOGRAD, FINITE_DIFFERENCES, GRADIENT_CLASSES, GRADIENT_METHODS, PREDICTED, TARGET

CLASS_LABELS = {PREDICTED: "predicted class", TARGET: "attack target", **{i: f"class {i}" for i in range(10)}}
METHOD_LABELS = {AUTOGRAD: "Backprop", FINITE_DIFFERENCES: "Finite differences"}

EXPLAIN = ("Gradient of the loss for the chosen class with respect to each pixel.\n"
           "Blue: brightening this pixel makes the model MORE sure of the class.\n"
           "Red: brightening it makes the model LESS sure. White: no effect.")
OUTLINE_PEN = pg.mkPen(20, 20, 20, width=1.5)


class GradientView(QWidget):
    class_chosen = Signal(object)  # the user picked PREDICTED, TARGET or 0..9
    method_chosen = Signal(str)  # the user picked AUTOGRAD or FINITE_DIFFERENCES

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.map = MapView("gradient", "Input gradient heatmap", signed=True)
        self.map.setToolTip(EXPLAIN)
        self._outline = pg.PlotCurveItem(pen=OUTLINE_PEN, connect="pairs", antialias=True)
        self.map.view.addItem(self._outline)

        self.class_box = QComboBox(objectName="gradient_class")
        self.class_box.setAccessibleName("Gradient class")
        self.class_box.setToolTip("Which class's loss the gradient is taken of")
        for choice in GRADIENT_CLASSES:
            self.class_box.addItem(CLASS_LABELS[choice], choice)
        self.class_box.currentIndexChanged.connect(lambda index: self.class_chosen.emit(self.class_box.itemData(index)))

        self._methods = QButtonGroup(self)
        self.method_buttons: dict[str, QRadioButton] = {}
        for i, key in enumerate(GRADIENT_METHODS):
            label = METHOD_LABELS[key]
            button = QRadioButton(label, objectName=f"gradient_{key.replace('-', '_')}")
            button.setAccessibleName(f"Gradient by {label.lower()}")
            button.setToolTip("Backpropagation: exact, one backward pass." if key == AUTOGRAD else
                              "Central differences, pixel by pixel (1,568 forward passes, computed in the background):\n"
                              "a check that backpropagation is right.")
            self._methods.addButton(button, i)
            self.method_buttons[key] = button
        self.method_buttons[AUTOGRAD].setChecked(True)
        self._methods.idToggled.connect(lambda i, on: on and self.method_chosen.emit(GRADIENT_METHODS[i]))

        self.overlay = QCheckBox("outline the digit", objectName="gradient_overlay")
        self.overlay.setAccessibleName("Outline the digit on the gradient")
        self.overlay.setChecked(True)
        self.overlay.toggled.connect(self._outline.setVisible)

        self.info = fixed_height(QLabel(objectName="gradient_info"), lines=4)
        self.info.setAccessibleName("Gradient details")
        self.info.setWordWrap(True)

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.map, 0, 0, 1, 4)
        class_title = QLabel("class:")
        layout.addWidget(class_title, 1, 0)
        layout.addWidget(self.class_box, 1, 1)
        layout.addWidget(self.overlay, 1, 2, 1, 2)
        layout.addWidget(self.method_buttons[AUTOGRAD], 2, 0, 1, 2)
        layout.addWidget(self.method_buttons[FINITE_DIFFERENCES], 2, 2, 1, 2)
        layout.addWidget(self.info, 3, 0, 1, 4)
        layout.setRowStretch(0, 1)
        # hidden in presentation mode: the map and what it says are the lesson
        self.details: list[QWidget] = [class_title, self.class_box, self.overlay, *self.method_buttons.values()]

    def set_presentation_scale(self, scale: float) -> None:
        """The map's text and the digit's outline at ``scale`` (1: as built)."""
        self.map.set_presentation_scale(scale)
        self._outline.setPen(scaled_pen(OUTLINE_PEN, scale))

    def show_choice(self, gradient_class: int | str, method: str) -> None:
        """Show the state's choice (without signals: only the user's picks are intents)."""
        self.class_box.blockSignals(True)
        self._methods.blockSignals(True)
        self.class_box.setCurrentIndex(max(0, self.class_box.findData(gradient_class)))
        self.method_buttons.get(method, self.method_buttons[AUTOGRAD]).setChecked(True)
        self._methods.blockSignals(False)
        self.class_box.blockSignals(False)

    def show_gradient(self, gradient: np.ndarray, digit: np.ndarray, cls: int, note: str = "") -> None:
        """A gradient of class ``cls``'s loss, with the outline of ``digit`` (drawn, or kept hidden)."""
        self.map.set_signed(gradient)
        self._outline.setData(*outline_segments(digit))
        text = (f"Brightening a {palette.coloured('blue', palette.SIGNED_NEGATIVE, bold=True)} pixel makes it more of a <b>{cls}</b>, "
                f"a {palette.coloured('red', palette.SIGNED_POSITIVE, bold=True)} one less (largest |g| {float(np.abs(gradient).max()):.2g}).")
        self.info.setText(text + (f"<br>{note}" if note else ""))

    def show_pending(self, text: str) -> None:
        self.info.setText(text)
