"""The drawing canvas: white ink on black like MNIST, anti-aliased, with undo and redo.

The canvas only paints and keeps its undo history; every change is sent out with its payload
(``picture_changed(pixels, exact, source)``) and turned into the model's input by the state. A
picture loaded from a file or the gallery is shown enlarged and sent with its exact 28x28 values
and its source until the user draws over it, so a 28x28 MNIST digit reaches the model unchanged;
undo brings a loaded picture back with both.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from advviewer.gui import palette

SIDE = 280  # drawing resolution: 10x the model's 28x28
UNDO_LIMIT = 60
MOUSE_PRESSURE = 0.5  # a mouse draws at the nominal brush size; a pen's pressure widens or thins
DEFAULT_BRUSH_SIZE = 22  # pen width in canvas pixels at nominal pressure: about MNIST's stroke once framed


class DrawingCanvas(QWidget):
    # the picture changed (a stroke segment, clear, undo, load): (280, 280) uint8 pixels, the exact
    # 28x28 input it was loaded from (None once drawn on) and where that came from (None: drawn)
    picture_changed = Signal(object, object, object)
    history_changed = Signal(bool, bool)  # can undo, can redo

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setAccessibleName("Drawing canvas")
        self.setToolTip("Draw a digit with the mouse (or a pen). Right button erases.")
        self.setMinimumSize(180, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._image = self._blank()
        self._empty = True  # no ink; kept up to date so hover repaints need not scan the image
        self._exact: np.ndarray | None = None
        self._source: str | None = None
        self._undo: list[tuple[QImage, np.ndarray | None, str | None]] = []
        self._redo: list[tuple[QImage, np.ndarray | None, str | None]] = []
        self._last: QPointF | None = None
        self._stroke_erases = False
        self._hover: QPointF | None = None
        self.brush_size = DEFAULT_BRUSH_SIZE
        self.eraser = False

    # --- state -------------------------------------------------------------------------------

    @staticmethod
    def _blank() -> QImage:
        image = QImage(SIDE, SIDE, QImage.Format.Format_Grayscale8)
        image.fill(0)
        return image

    def is_empty(self) -> bool:
        return self._empty

    def set_brush_size(self, size: int) -> None:
        self.brush_size = size
        self.update()

    def set_eraser(self, on: bool) -> None:
        self.eraser = on
        self.update()

    def _rescan(self) -> None:
        self._empty = not self.to_array().any()

    def to_array(self) -> np.ndarray:
        """The picture as a (280, 280) uint8 array, ink = 255."""
        ptr = self._image.constBits()
        rows = np.frombuffer(ptr, dtype=np.uint8, count=self._image.sizeInBytes()).reshape(SIDE, self._image.bytesPerLine())
        return rows[:, :SIDE].copy()

    def show_picture(self, input28: np.ndarray, source: str | None = None) -> None:
        """Show a 28x28 model input (floats in [0, 1]) enlarged; undoable. ``source``: where it came from."""
        self._push_undo()
        small = np.ascontiguousarray((np.clip(input28, 0.0, 1.0) * 255).round().astype(np.uint8))
        qsmall = QImage(small.data, 28, 28, 28, QImage.Format.Format_Grayscale8)
        self._image = qsmall.scaled(SIDE, SIDE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self._exact = np.array(input28, dtype=np.float32)
        self._source = source
        self._after_edit()

    def clear(self) -> None:
        if self.is_empty() and self._exact is None:
            return
        self._push_undo()
        self._image = self._blank()
        self._exact = self._source = None
        self._after_edit()

    def undo(self) -> None:
        if self._undo:
            self._redo.append((self._image, self._exact, self._source))
            self._image, self._exact, self._source = self._undo.pop()
            self._after_edit(clear_redo=False)

    def redo(self) -> None:
        if self._redo:
            self._undo.append((self._image, self._exact, self._source))
            self._image, self._exact, self._source = self._redo.pop()
            self._after_edit(clear_redo=False)

    def _push_undo(self) -> None:
        self._undo.append((self._image.copy(), self._exact, self._source))
        del self._undo[:-UNDO_LIMIT]

    def _after_edit(self, clear_redo: bool = True) -> None:
        if clear_redo:
            self._redo.clear()
        self._rescan()
        self.history_changed.emit(bool(self._undo), bool(self._redo))
        self.update()
        self._send()

    def _send(self) -> None:
        self.picture_changed.emit(self.to_array(), self._exact, self._source)

    # --- geometry ----------------------------------------------------------------------------

    def _target(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_image(self, pos: QPointF) -> QPointF:
        t = self._target()
        return QPointF((pos.x() - t.x()) * SIDE / t.width(), (pos.y() - t.y()) * SIDE / t.height())

    # --- drawing -----------------------------------------------------------------------------

    def _begin(self, pos: QPointF, erase: bool, pressure: float) -> None:
        self._push_undo()
        self._redo.clear()
        self._exact = self._source = None
        self._stroke_erases = erase or self.eraser
        self._last = self._to_image(pos)
        self._segment(self._last, pressure)

    def _segment(self, point: QPointF, pressure: float) -> None:
        width = max(1.0, self.brush_size * (0.5 + pressure))
        pen = QPen(QColor(0, 0, 0) if self._stroke_erases else QColor(255, 255, 255), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        if point == self._last:
            painter.drawPoint(point)
        else:
            painter.drawLine(self._last, point)
        painter.end()
        self._last = point
        if not self._stroke_erases:
            self._empty = False
        self.update()
        self._send()

    def _end(self) -> None:
        if self._last is not None:
            self._last = None
            if self._stroke_erases:
                self._rescan()
            self.history_changed.emit(True, False)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self._begin(event.position(), event.button() == Qt.MouseButton.RightButton, MOUSE_PRESSURE)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position()
        if self._last is not None and event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            self._segment(self._to_image(event.position()), MOUSE_PRESSURE)
        else:
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        pressure = float(event.pressure())
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position(), event.pointerType() == QPointingDevice.PointerType.Eraser, pressure)
        elif kind == QTabletEvent.Type.TabletMove and self._last is not None:
            self._segment(self._to_image(event.position()), pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()  # no synthesised mouse events: they would draw the stroke twice

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        target = self._target()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self._image)
        painter.setPen(QPen(QColor(110, 110, 110), 1))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        if self._last is None and self._exact is None and self.is_empty():
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(target, Qt.AlignmentFlag.AlignCenter, "Draw a digit here\n(or open an image, or pick a sample)")
        if self._hover is not None:
            radius = self.brush_size * target.width() / SIDE / 2
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            # the eraser's circle is dashed as well as another colour
            pen = QPen(QColor(palette.ERASER_CURSOR if self.eraser else palette.BRUSH_CURSOR), 1)
            pen.setStyle(Qt.PenStyle.DashLine if self.eraser else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            painter.drawEllipse(self._hover, radius, radius)
        painter.end()
