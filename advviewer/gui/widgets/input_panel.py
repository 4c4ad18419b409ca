"""The canvas with its tools, and beside it the 28x28 image the model actually sees."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QToolButton, QWidget

from advviewer.gui.widgets.canvas import DrawingCanvas
from advviewer.gui.widgets.fixed_height import fixed_height, set_lines
from advviewer.gui.widgets.map_view import MapView

BLANK_TIP = ("A classifier always picks one of its ten classes: trained only on digits, it has never seen\n"
             "an empty image and cannot say 'none'. Its confidence here means nothing.")
PREVIEW_SIZE = 104  # the 28x28 input beside the canvas, in pixels
PREVIEW_GROWTH = 1.5  # at most this much larger in presentation mode: the canvas beside it is the large picture
PREDICTION_LINES = 5  # the empty-canvas note wraps to five at the preview's width (four cut off its last word)
PRESENTED_PREDICTION_LINES = 3  # presentation mode: "model says 7, 100.0% sure" in large text; a longer note grows it
PREVIEW_TIP = ("The model's input: your drawing cropped, scaled to fit 20x20 and centred by mass in\n"
               "28x28 pixels, the way the MNIST digits were made.")


def _tool(text: str, name: str, accessible: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton(objectName=name)
    button.setText(text)
    button.setAccessibleName(accessible)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class InputPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.preview = MapView("input_preview", "What the model sees (28 by 28 pixels)")
        self.preview.setToolTip(PREVIEW_TIP)
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.eraser = _tool("Eraser", "eraser", "Eraser", "Erase instead of drawing (E); the right mouse button always erases", True)
        self.undo = _tool("Undo", "undo", "Undo", "Undo the last stroke (Ctrl+Z)")
        self.redo = _tool("Redo", "redo", "Redo", "Redo (Ctrl+Shift+Z)")
        self.clear = _tool("Clear", "clear", "Clear the canvas", "Clear the canvas (Delete)")
        self.brush = QSlider(Qt.Orientation.Horizontal, objectName="brush_size")
        self.brush.setAccessibleName("Brush size")
        self.brush.setToolTip("Brush size ([ and ] keys)")
        self.brush.setRange(4, 60)
        self.brush.setValue(self.canvas.brush_size)
        self.brush.valueChanged.connect(self.canvas.set_brush_size)
        self.eraser.toggled.connect(self.canvas.set_eraser)
        self.undo.clicked.connect(self.canvas.undo)
        self.redo.clicked.connect(self.canvas.redo)
        self.clear.clicked.connect(self.canvas.clear)
        self.canvas.history_changed.connect(self._history)
        self._history(False, False)

        caption = QLabel("<b>The model sees</b>")
        caption.setToolTip(PREVIEW_TIP)
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # five lines: the empty-canvas note wraps to five at the preview's width (four cut off its last word)
        self.prediction = fixed_height(QLabel(objectName="input_prediction"), lines=PREDICTION_LINES)
        self.prediction.setAccessibleName("Predicted class")
        self.prediction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction.setWordWrap(True)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 0, 0, 4, 1)
        layout.addWidget(caption, 0, 1, alignment=Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.preview, 1, 1, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.prediction, 2, 1, alignment=Qt.AlignmentFlag.AlignTop)
        self.tools = QWidget(objectName="drawing_tools")
        tools = QGridLayout(self.tools)
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(QLabel("brush"), 0, 0)
        tools.addWidget(self.brush, 0, 1)
        for column, button in enumerate((self.eraser, self.undo, self.redo, self.clear), 2):
            tools.addWidget(button, 0, column)
        tools.setColumnStretch(1, 1)
        layout.setRowMinimumHeight(4, 4)  # the brush slider never touches the canvas
        layout.addWidget(self.tools, 5, 0, 1, 2)
        self.details: list[QWidget] = [self.tools]  # hidden in presentation mode (the keys still work)
        layout.setRowStretch(3, 1)
        layout.setColumnStretch(0, 1)

    def set_presentation_scale(self, scale: float) -> None:
        """The model's-eye picture at ``scale`` (1: as built); the labels follow the window's font."""
        side = round(PREVIEW_SIZE * min(scale, PREVIEW_GROWTH))
        self.preview.setFixedSize(side, side)
        self.preview.set_presentation_scale(scale)
        set_lines(self.prediction, PREDICTION_LINES if scale == 1 else PRESENTED_PREDICTION_LINES)

    def _history(self, can_undo: bool, can_redo: bool) -> None:
        self.undo.setEnabled(can_undo)
        self.redo.setEnabled(can_redo)

    def show_framed(self, image, note: str) -> None:
        """The model's 28x28 input before any model has answered for it (the first model still loading)."""
        self.preview.set_gray(image)
        self.prediction.setText(note)
        self.prediction.setToolTip("")

    def show_input(self, image, predicted: int, confidence: float, blank: bool = False) -> None:
        """The model's 28x28 input and its answer; ``blank``: nothing is drawn, and the answer is the lesson."""
        self.preview.set_gray(image)
        if blank:
            self.prediction.setText(f"<b>Empty canvas.</b> The model still says {predicted} ({confidence:.0%}): "
                                    "it has no “nothing” answer.")
            self.prediction.setToolTip(BLANK_TIP)
            self._room_for_the_note()
        else:
            self.prediction.setText(f"model says <b style='font-size:xx-large'>{predicted}</b><br>{confidence:.1%} sure")
            self.prediction.setToolTip("")

    def _room_for_the_note(self) -> None:
        """A larger font than the five lines allow for: the label grows rather than cut the note's last words."""
        label = self.prediction
        width = label.contentsRect().width()
        needed = label.heightForWidth(width) + label.height() - label.contentsRect().height() if width > 0 else 0
        if needed > label.height():
            label.setFixedHeight(needed)
