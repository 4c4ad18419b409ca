"""The canvas to the state: each picture change becomes the state's input, coalesced per event-loop pass.

A fast stroke sends more mouse moves than one live evaluation (a few ms) per move can follow; a
zero-interval single-shot timer evaluates only the newest picture of each pass of the event loop.
The picture travels with the canvas's signal, so nothing is read back from the canvas.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer

from advviewer.gui.widgets.canvas import DrawingCanvas
from advviewer.session import SessionState


class DrawingBinding(QObject):
    def __init__(self, canvas: DrawingCanvas, state: SessionState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._canvas, self._state = canvas, state
        self._pending: tuple | None = None
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.flush)
        canvas.picture_changed.connect(self._queue)

    def _queue(self, pixels: np.ndarray, exact: np.ndarray | None, source: str | None) -> None:
        self._pending = (pixels, exact, source)
        self._timer.start()

    def flush(self) -> None:
        """Give the state the newest picture now (before an attack: attack what is on the canvas)."""
        self._timer.stop()
        pending, self._pending = self._pending, None
        if pending is not None:
            self._state.set_picture(*pending)

    def show_picture(self, image: np.ndarray, source: str) -> None:
        """Put a loaded 28x28 input on the canvas (undoable) and make it the input at once."""
        self._canvas.show_picture(image, source)
        self.flush()

    def is_idle(self) -> bool:
        return self._pending is None
