"""The input-gradient heatmap with its controls: which class, which method, digit outline."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QComboBox, QGridLayout, QLabel, QRadioButton, QWidget

from advviewer.gui.map_view import MapView
from advviewer.gui.outline import outline_segments
from advviewer.gui.steady import steady

PREDICTED, TARGET = -1, -2  # gradient class choices besides 0..9
METHODS = (("autograd", "Backprop"), ("finite-difference", "Finite differences"))

EXPLAIN = ("Gradient of the loss for the chosen class with respect to each pixel.\n"
           "Blue: brightening this pixel makes the model MORE sure of the class.\n"
           "Red: brightening it makes the model LESS sure. White: no effect.")


class GradientView(QWidget):
    class_changed = Signal(int)  # PREDICTED, TARGET or 0..9
    method_changed = Signal(str)  # "autograd" or "finite-difference"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.map = MapView("gradient", "Input gradient heatmap", signed=True)
        self.map.setToolTip(EXPLAIN)
        self._outline = pg.PlotCurveItem(pen=pg.mkPen(20, 20, 20, width=1.5), connect="pairs", antialias=True)
        self.map.view.addItem(self._outline)

        self.class_box = QComboBox(objectName="gradient_class")
        self.class_box.setAccessibleName("Gradient class")
        self.class_box.setToolTip("Which class's loss the gradient is taken of")
        self.class_box.addItem("predicted class", PREDICTED)
        self.class_box.addItem("attack target", TARGET)
        for i in range(10):
            self.class_box.addItem(f"class {i}", i)
        self.class_box.currentIndexChanged.connect(lambda _: self.class_changed.emit(self.gradient_class))

        self._methods = QButtonGroup(self)
        self.method_buttons: dict[str, QRadioButton] = {}
        for i, (key, label) in enumerate(METHODS):
            button = QRadioButton(label, objectName=f"gradient_{key.replace('-', '_')}")
            button.setAccessibleName(f"Gradient by {label.lower()}")
            button.setToolTip("Backpropagation: exact, one backward pass." if key == "autograd" else
                              "Central differences, pixel by pixel (1,568 forward passes, computed in the background):\n"
                              "a check that backpropagation is right.")
            self._methods.addButton(button, i)
            self.method_buttons[key] = button
        self.method_buttons["autograd"].setChecked(True)
        self._methods.idToggled.connect(lambda i, on: on and self.method_changed.emit(METHODS[i][0]))

        self.overlay = QCheckBox("outline the digit", objectName="gradient_overlay")
        self.overlay.setAccessibleName("Outline the digit on the gradient")
        self.overlay.setChecked(True)
        self.overlay.toggled.connect(self._show_outline)

        self._digit: np.ndarray | None = None
        self.info = steady(QLabel(objectName="gradient_info"), lines=4)
        self.info.setAccessibleName("Gradient details")
        self.info.setWordWrap(True)

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.map, 0, 0, 1, 4)
        layout.addWidget(QLabel("class:"), 1, 0)
        layout.addWidget(self.class_box, 1, 1)
        layout.addWidget(self.overlay, 1, 2, 1, 2)
        layout.addWidget(self.method_buttons["autograd"], 2, 0, 1, 2)
        layout.addWidget(self.method_buttons["finite-difference"], 2, 2, 1, 2)
        layout.addWidget(self.info, 3, 0, 1, 4)
        layout.setRowStretch(0, 1)

    def _show_outline(self, on: bool) -> None:
        self._outline.setVisible(on)
        if on and self._digit is not None:
            self._outline.setData(*outline_segments(self._digit))

    @property
    def gradient_class(self) -> int:
        return int(self.class_box.currentData())

    @property
    def method(self) -> str:
        return METHODS[max(0, self._methods.checkedId())][0]

    def set_choices(self, gradient_class: int, method: str, overlay: bool) -> None:
        index = self.class_box.findData(gradient_class)
        self.class_box.setCurrentIndex(max(0, index))
        self.method_buttons.get(method, self.method_buttons["autograd"]).setChecked(True)
        self.overlay.setChecked(overlay)

    def show_gradient(self, gradient: np.ndarray, digit: np.ndarray, cls: int, note: str = "") -> None:
        self.map.set_signed(gradient)
        if self.overlay.isChecked():
            self._outline.setData(*outline_segments(digit))
        self._digit = digit
        text = (f"Brightening a <span style='color:#2c5aa0'><b>blue</b></span> pixel makes it more of a <b>{cls}</b>, "
                f"a <span style='color:#b42318'><b>red</b></span> one less (largest |g| {float(np.abs(gradient).max()):.2g}).")
        self.info.setText(text + (f"<br>{note}" if note else ""))

    def show_pending(self, text: str) -> None:
        self.info.setText(text)
