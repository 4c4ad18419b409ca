"""Open what the user chose or dropped: a picture onto the canvas, or a model file, never on the GUI thread.

Every picture is read and decoded on the "loading" lane, so a 40-megapixel photo, a FIFO or a
device never freezes the window (the core refuses what is not a regular file); a newer request
replaces an older one, and a load that takes longer than PICTURE_SECONDS is abandoned with a
message. Model files go to the state, which loads them on its own lane with a time limit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStatusBar

from advviewer.gui.bindings.drawing import DrawingBinding
from advviewer.gui.dialogs import is_model_file
from advviewer.gui.widgets.message_bar import FILE, MessageBar
from advviewer.reading.files import shown
from advviewer.session import SessionState
from advviewer.session.jobs import load_picture_job
from advviewer.session.lanes import Lane
from advviewer.session.tasks import Post, Task

PICTURE_SECONDS = 60.0


class FileOpener(QObject):
    opened = Signal(str)  # a picture is on the canvas: its path
    refused = Signal(str, str)  # path, one-line reason

    def __init__(self, state: SessionState, drawing: DrawingBinding, message: MessageBar, status: QStatusBar, post: Post,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state, self._drawing, self._message, self._status = state, drawing, message, status
        self._lane = Lane("loading", post)

    def open_path(self, path: Path) -> Task:
        """Start opening ``path``; the returned task tells when it is done and whether it worked."""
        if is_model_file(path):
            return self._state.load_model(str(path))
        self._state.scene_files.cancel()  # a scene still being opened is dropped: the picture is what the window then shows
        self._status.showMessage(f"Opening {shown(path.name)}…")
        return self._lane.submit(load_picture_job(path), lambda image: self._loaded(path, image), lambda reason: self._failed(path, reason),
                                 time_limit=PICTURE_SECONDS, timeout_message=f"reading it took longer than {PICTURE_SECONDS:g} s")

    def _loaded(self, path: Path, image: np.ndarray) -> None:
        self._drawing.show_picture(image, str(path))
        self._message.hide()
        self._status.showMessage(f"Opened {shown(path.name)}", 8000)
        self.opened.emit(str(path))

    def _failed(self, path: Path, reason: str) -> None:
        self._status.clearMessage()
        self._message.show_message(f"Could not open the image: {reason}. Your drawing is unchanged.", topic=FILE)
        self.refused.emit(str(path), reason)

    def cancel(self) -> None:
        """Drop the picture being opened (a scene was asked for instead): it never reaches the canvas."""
        self._lane.cancel()

    def is_idle(self) -> bool:
        return not self._lane.is_busy()

    def shutdown(self) -> None:
        self._lane.shutdown()
