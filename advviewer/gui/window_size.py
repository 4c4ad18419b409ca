"""Where the window opens: within the screen's available area, whatever size was remembered.

A fresh window asks for PREFERRED but never more than the screen's available area (without
panels and docks); a remembered geometry from a larger monitor is shrunk and moved back onto
the screen. The layout is made to work from SMALLEST (1280x720 screens) upwards.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QWidget

PREFERRED = QSize(1360, 860)
SMALLEST = QSize(1280, 720)  # the smallest screen the layout is made for
FRAME_ALLOWANCE = QSize(8, 36)  # a window manager's title bar and borders, outside geometry()


def fitted(wanted: QRect, available: QRect) -> QRect:
    """``wanted`` shrunk to fit ``available`` (minus the frame) and moved inside it; centred if it was off it."""
    width = min(wanted.width(), available.width() - FRAME_ALLOWANCE.width())
    height = min(wanted.height(), available.height() - FRAME_ALLOWANCE.height())
    rect = QRect(wanted.topLeft(), QSize(width, height))
    if not available.contains(rect.center()) or not available.intersects(rect):
        rect.moveCenter(available.center())
    rect.moveLeft(max(available.left(), min(rect.left(), available.right() - width)))
    rect.moveTop(max(available.top() + FRAME_ALLOWANCE.height() - 8, min(rect.top(), available.bottom() - height)))
    return rect


def place_on_screen(window: QWidget, restored: bool) -> None:
    """Size a fresh window (or check a restored one) so all of it is on the screen it opens on."""
    screen = window.screen()
    if screen is None:
        if not restored:
            window.resize(PREFERRED)
        return
    available = screen.availableGeometry()
    wanted = window.geometry() if restored else QRect(available.topLeft(), PREFERRED)
    if not restored:
        wanted.moveCenter(available.center())
    window.setGeometry(fitted(wanted, available))
