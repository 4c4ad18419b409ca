"""A job is a plain function of a TaskState: ``fn(state) -> value``, testable without threads.

The job passes ``state.cancel`` (a ``threading.Event``, what the core's long functions take) and
``state.report`` (a progress callback) to the core (Orange3's ``run_mds(..., state)``). A
:class:`Task` is one submitted job with its handlers; :class:`~advviewer.session.lanes.Lane` runs
tasks on a daemon thread and delivers their outcomes through ``post``, a function that runs a
callable on the owner's thread: the window passes a queued Qt signal (advviewer.gui.background),
headless code a :class:`DeliveryQueue`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Post = Callable[[Callable[[], None]], None]
PROGRESS_INTERVAL = 0.05  # seconds between progress reports: 20 repaints a second show the attack well enough


class TaskState:
    """What a job receives: a cancel flag to pass on or check, and a throttled progress report."""

    def __init__(self, report: Callable[[Any], None] | None = None, interval: float = PROGRESS_INTERVAL) -> None:
        self.cancel = threading.Event()
        self._report, self._interval, self._last = report, interval, 0.0

    def is_interruption_requested(self) -> bool:
        return self.cancel.is_set()

    def report(self, payload: Any) -> None:
        """Pass on progress, at most once per interval (the newest report wins the slot)."""
        now = time.perf_counter()
        if self._report is not None and now - self._last >= self._interval:
            self._last = now
            self._report(payload)


@dataclass
class Handlers:
    done: Callable[[Any], None]
    failed: Callable[[str], None] | None = None
    progress: Callable[[Any], None] | None = None


class Task:
    """One submitted job. ``finished``/``succeeded`` tell its fate once its outcome was delivered."""

    def __init__(self, job: Callable[[TaskState], Any], handlers: Handlers | None, post: Post) -> None:
        self.job = job
        self._handlers = handlers
        self.state = TaskState(lambda payload: post(lambda: self.deliver("progress", payload)))
        self.finished = False
        self.succeeded: bool | None = None

    @property
    def attached(self) -> bool:
        return self._handlers is not None

    def detach(self) -> None:
        """Cancel the job and forget its handlers: nothing it produces will be delivered (owner's thread)."""
        self._handlers = None
        self.state.cancel.set()

    def deliver(self, kind: str, payload: Any) -> None:
        """On the owner's thread: hand "progress", "done" or "failed" to the handlers, unless detached."""
        handlers = self._handlers
        if handlers is None:
            return
        if kind == "progress":
            if handlers.progress is not None:
                handlers.progress(payload)
            return
        self._handlers, self.finished, self.succeeded = None, True, kind == "done"
        if kind == "done":
            handlers.done(payload)
        elif handlers.failed is not None:
            handlers.failed(payload)


class DeliveryQueue:
    """``post`` for code without an event loop: outcomes wait here until :meth:`run_pending`."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def post(self, call: Callable[[], None]) -> None:
        self._calls.put(call)

    def run_pending(self) -> int:
        """Run every waiting call on this (the owner's) thread; returns how many ran."""
        n = 0
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                return n
            call()
            n += 1
