"""Run long work (the attack, finite differences) off the GUI thread, newest request first.

:class:`JobWorker` is a QObject living on its own QThread. ``submit(fn)`` cancels whatever is
running (through the job's ``threading.Event``: a queued slot would never reach a worker busy in
its loop) and replaces whatever is waiting: a slider dragged across fifty values runs at most the
current job and the newest one, never a queue of stale ones. ``fn(cancel, report)`` is a plain
function (the core's API with a cancel event and a progress callback), so it is testable without
threads. Results carry the job id; the GUI drops results of jobs it no longer wants.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal, Slot

from advviewer.errors import AdvViewerError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.05  # seconds between progress signals: 20 repaints a second show the attack well enough

JobFunction = Callable[[threading.Event, Callable[[object], None]], object]


@dataclass
class Job:
    id: int
    fn: JobFunction
    cancel: threading.Event = field(default_factory=threading.Event)


BACKGROUND_NICENESS = int(os.environ.get("ADVVIEWER_WORKER_NICE", "10"))


def lower_this_thread_priority() -> None:
    """Make the calling (worker) thread yield the CPU to the GUI thread when both want it.

    On a loaded 2-core machine the GUI thread otherwise waits behind the attack for whole
    scheduler slices. Linux applies nice values per thread; elsewhere this does nothing.
    """
    if BACKGROUND_NICENESS <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), BACKGROUND_NICENESS))
    except OSError:
        log.debug("could not lower the worker thread's priority", exc_info=True)


class JobWorker(QObject):
    """One background thread that runs the newest submitted job; see the module docstring."""

    started = Signal(int)
    progress = Signal(int, object)  # job id, whatever fn reported
    finished = Signal(int, object, float)  # job id, fn's return value, seconds
    failed = Signal(int, str)  # job id, one-line message
    cancelled = Signal(int)
    _wake = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._next: Job | None = None
        self._current: Job | None = None
        self._last_id = 0
        self._niced = False
        self._thread = QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._wake.connect(self._drain)  # queued: the receiver lives in the worker thread
        self._thread.start()

    # --- called from the GUI thread ---------------------------------------------------------

    def submit(self, fn: JobFunction) -> int:
        """Cancel the running job, drop the waiting one, and run ``fn`` next. Returns its id."""
        with self._lock:
            self._last_id += 1
            job = Job(self._last_id, fn)
            self._cancel_locked()
            self._next = job
        self._wake.emit()
        return job.id

    def cancel(self) -> None:
        with self._lock:
            self._cancel_locked()

    def is_busy(self) -> bool:
        with self._lock:
            return self._current is not None or self._next is not None

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and stop the thread; True if it stopped within the timeout."""
        self.cancel()
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if not stopped:
            log.warning("worker thread %s did not stop within %d ms", self._thread.objectName(), timeout_ms)
        return stopped

    def _cancel_locked(self) -> None:
        if self._current is not None:
            self._current.cancel.set()
        if self._next is not None:
            self._next.cancel.set()
            dropped, self._next = self._next.id, None
            self.cancelled.emit(dropped)

    # --- the worker thread ------------------------------------------------------------------

    @Slot()
    def _drain(self) -> None:
        if not self._niced:
            self._niced = True
            lower_this_thread_priority()
        while True:
            with self._lock:
                job, self._next = self._next, None
                self._current = job
            if job is None:
                return
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._current = None

    def _run(self, job: Job) -> None:
        last = 0.0

        def report(payload: object) -> None:
            nonlocal last
            now = time.perf_counter()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                self.progress.emit(job.id, payload)

        self.started.emit(job.id)
        t0 = time.perf_counter()
        try:
            result = job.fn(job.cancel, report)
        except Exception as exc:  # every failure goes to the GUI as a message, never kills the thread
            if job.cancel.is_set():
                self.cancelled.emit(job.id)
            elif isinstance(exc, AdvViewerError):
                self.failed.emit(job.id, str(exc))
            else:
                log.exception("background job failed")
                self.failed.emit(job.id, f"{type(exc).__name__}: {exc}")
            return
        self.finished.emit(job.id, result, time.perf_counter() - t0)
