"""The one Qt piece of background work: bringing a worker thread's outcome to the GUI thread.

Jobs run on :class:`advviewer.session.tasks.Lane` daemon threads, which hand every outcome and
progress report to ``post``. :class:`GuiThreadDelivery` is that ``post`` for the window: a
signal emitted on the worker's thread and connected to a slot of a QObject that lives on the
GUI thread is queued, so the callable runs there, in order. It has no parent, so it lives as long
as a lane holds it, even after the window is gone; a call posted after the QApplication quit is
dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class GuiThreadDelivery(QObject):
    _call = Signal(object)

    def __init__(self) -> None:
        super().__init__()  # created on the GUI thread, so it lives there
        self._call.connect(self._run)

    def post(self, call: Callable[[], None]) -> None:
        """Run ``call`` on the GUI thread, soon (safe from any thread)."""
        try:
            self._call.emit(call)
        except RuntimeError:  # the Qt object is gone: the application has quit
            log.debug("a background outcome arrived after the window closed; dropped")

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()
