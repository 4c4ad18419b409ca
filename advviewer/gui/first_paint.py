"""Run something once a widget has really been painted: the window's start-up waits for this, not for show()."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstPaint(QObject):
    """Calls ``done()`` once, from the event loop, right after ``widget``'s first paint event was handled.

    A paint event reaches the filter before the widget paints; the zero timer it starts fires only
    after the paint (and the rest of that round of events) is through.
    """

    def __init__(self, widget: QWidget, done: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget, self._done = widget, done
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._done)
        return False
