"""The Qt pieces of background work: bringing a worker thread's outcome to the GUI thread, and
collecting Python's garbage there only.

Jobs run on :class:`advviewer.session.tasks.Lane` daemon threads, which hand every outcome and
progress report to ``post``. :class:`GuiThreadDelivery` is that ``post`` for the window: a
signal emitted on the worker's thread and connected to a slot of a QObject that lives on the
GUI thread is queued, so the callable runs there, in order. It has no parent, so it lives as long
as a lane holds it, even after the window is gone; a call posted after the QApplication quit is
dropped.

Python's cyclic garbage collector runs on whichever thread allocates when a threshold is passed,
so a lane's job would collect the window's garbage: pyqtgraph's widgets and our bindings sit in
reference cycles, and a collected receiver of a Qt signal is disconnected by PySide from the
collecting thread. That disconnect releases the GIL, takes Qt's signal-slot locks and then asks
for the GIL again (to look up a Python override of ``disconnectNotify``), while the GUI thread,
holding the GIL, waits for the same lock to connect a new widget's signals: both wait for ever
(the hang of tests/gui/test_explore_views.py, about one run in eight; a lane thread deleting Qt
objects can also crash). So while a window's background work can run, collection is automatic no
longer: :class:`GuiThreadGarbageCollection` collects from a timer on the GUI thread, as the
interpreter would (pyqtgraph's ``util.garbage_collector.GarbageCollector`` does the same).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

log = logging.getLogger(__name__)

COLLECTION_INTERVAL_MS = 500  # how often the GUI thread looks at the collector's counts
_COLLECTION_NAME = "advviewer_gui_thread_garbage_collection"


class GuiThreadGarbageCollection(QObject):
    """Python's cyclic garbage collected on the GUI thread only, from a timer, until :meth:`stop`.

    Each tick collects the oldest generation whose count passed the interpreter's threshold (its
    own rule, minus its heuristic that spaces out full collections); objects freed by reference
    counting go at once, on whichever thread, as before.
    """

    def __init__(self, parent: QObject, interval_ms: int = COLLECTION_INTERVAL_MS) -> None:
        super().__init__(parent)  # the application's child: it lives on the GUI thread
        self.setObjectName(_COLLECTION_NAME)
        self._thresholds = gc.get_threshold()
        self._was_automatic = gc.isenabled()
        gc.disable()  # the interpreter no longer collects on the thread that happens to allocate
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(interval_ms)

    def collect(self) -> int | None:
        """Collect the oldest generation over its threshold, here; returns it (None: none was due)."""
        counts = gc.get_count()
        due = [generation for generation in range(3) if counts[generation] > self._thresholds[generation]]
        if not due:
            return None
        gc.collect(due[-1])
        return due[-1]

    def stop(self) -> None:
        """Collect everything once, here, and give collection back to the interpreter (as it was before).

        For code that goes on without the window's event loop (the tests that follow the window's).
        """
        if not self._timer.isActive():  # stopped already
            return
        self._timer.stop()
        gc.collect()
        if self._was_automatic:
            gc.enable()
        self.setObjectName("")  # not found any more: a later GuiThreadDelivery starts a fresh one
        self.deleteLater()


def running_collection() -> GuiThreadGarbageCollection | None:
    """The application's running :class:`GuiThreadGarbageCollection`, if any."""
    app = QCoreApplication.instance()
    return None if app is None else app.findChild(GuiThreadGarbageCollection, _COLLECTION_NAME)


def collect_garbage_on_gui_thread() -> GuiThreadGarbageCollection | None:
    """Start collecting Python's garbage on the GUI thread (once per application; call it there).

    Returns the running collection, or None without a QApplication (nothing Qt to protect then).
    """
    app = QCoreApplication.instance()
    if app is None:
        return None
    running = running_collection()
    if running is not None:
        return running
    return GuiThreadGarbageCollection(app)  # for the application's life: the program ends with it (app.exit_now)


class GuiThreadDelivery(QObject):
    _call = Signal(object)

    def __init__(self) -> None:
        super().__init__()  # created on the GUI thread, so it lives there
        self._call.connect(self._run)
        collect_garbage_on_gui_thread()  # before any lane runs Python code beside the window

    def post(self, call: Callable[[], None]) -> None:
        """Run ``call`` on the GUI thread, soon (safe from any thread)."""
        try:
            self._call.emit(call)
        except RuntimeError:  # the Qt object is gone: the application has quit
            log.debug("a background outcome arrived after the window closed; dropped")

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()
