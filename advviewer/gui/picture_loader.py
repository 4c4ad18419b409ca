"""Open pictures without freezing the window: small ones at once, big ones on a worker thread.

Decoding a 36-megapixel PNG takes seconds; a digit photo or an MNIST PNG takes milliseconds.
The window asks :meth:`PictureLoader.is_big` and either loads at once or calls :meth:`load`,
whose answer arrives as ``loaded`` or ``failed`` (the newest request wins).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from advviewer.gui.worker import JobWorker

BIG_PIXELS = 4_000_000  # above this, decode in the background (about 0.3 s and more)
BIG_BYTES = 32_000_000  # .npy arrays and files PIL cannot size up front


def is_big(path: Path) -> bool:
    """Whether loading ``path`` may take long enough to freeze the window (a cheap header look)."""
    try:
        if path.suffix.lower() == ".npy" or not path.is_file():
            return path.is_file() and path.stat().st_size > BIG_BYTES
        from PIL import Image

        with Image.open(path) as image:  # reads the header only
            width, height = image.size
        from advviewer.image_io import MAX_PIXELS

        return BIG_PIXELS < width * height <= MAX_PIXELS  # larger ones are refused at once, undecoded
    except Exception:  # not an image, unreadable...: the quick path reports it
        return False


class PictureLoader(QObject):
    loaded = Signal(str, object)  # path, (28, 28) float32 model input
    failed = Signal(str, str)  # path, one-line message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = JobWorker("loading")
        self._worker.finished.connect(self._done)
        self._worker.failed.connect(self._error)
        self._job = 0
        self._paths: dict[int, str] = {}

    def load(self, path: Path) -> None:
        def job(cancel, report) -> np.ndarray:
            from advviewer.image_io import load_image

            return load_image(path)

        self._job = self._worker.submit(job)
        self._paths = {self._job: str(path)}

    @Slot(int, object, float)
    def _done(self, job: int, image, seconds: float) -> None:
        if job == self._job:
            self.loaded.emit(self._paths[job], image)

    @Slot(int, str)
    def _error(self, job: int, message: str) -> None:
        if job == self._job:
            self.failed.emit(self._paths[job], message)

    @Slot()
    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        return self._worker.shutdown(timeout_ms)
