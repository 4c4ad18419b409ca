"""A 28x28 picture in [0, 1] as an enlarged QPixmap (nearest neighbour), for the small tiles of the explore views."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def digit_pixmap(image: np.ndarray, size: int = 56) -> QPixmap:
    pixels = np.ascontiguousarray((np.clip(np.asarray(image, np.float32), 0, 1) * 255).round().astype(np.uint8))
    q = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(q.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
