"""A Lane runs one kind of background work (the attack, finite differences, loading) newest first.

``submit`` cancels the running job, drops the waiting one and detaches every task whose outcome
has not been delivered yet, at once and on the owner's thread, so a superseded job's outcome can
never arrive (Orange3's ``ConcurrentMixin`` disconnects a cancelled task the same way); napari's
``_LayerSlicer.wait_until_idle`` is :meth:`Lane.wait_until_idle` here.

Daemon threads, not QThreads: a job inside a user model's ten-second forward pass cannot be
interrupted, and destroying a running QThread aborts the process. A lane abandons such a thread
(on ``shutdown``, or when a job exceeds its time limit) and, if needed, starts a fresh one; the
abandoned thread finishes on its own, its outcome discarded, or dies with the process.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from advviewer.errors import AdvViewerError, Cancelled, printable
from advviewer.session.tasks import Handlers, Post, Task, TaskState

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = int(os.environ.get("ADVVIEWER_WORKER_NICE", "10"))


def lower_this_thread_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Let the GUI thread have the CPU first when both want it (Linux applies nice values per thread)."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), niceness))
    except OSError:
        log.debug("could not lower the worker thread's priority", exc_info=True)


class Lane:
    """One kind of background work on one daemon thread, newest request first (see the module docstring).

    Call every method from the owner's thread (the GUI thread), where ``post`` delivers.
    """

    def __init__(self, name: str, post: Post, *, niceness: int = BACKGROUND_NICENESS) -> None:
        self.name, self._post, self._niceness = name, post, niceness
        self._cv = threading.Condition()
        self._next: Task | None = None
        self._current: Task | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._outstanding: set[Task] = set()  # submitted, outcome not yet delivered or discarded

    def submit(self, job: Callable[[TaskState], Any], done: Callable[[Any], None], failed: Callable[[str], None] | None = None,
               progress: Callable[[Any], None] | None = None, *, time_limit: float | None = None,
               timeout_message: str = "it did not finish in time") -> Task:
        """Run ``job`` next, superseding whatever runs or waits. ``time_limit`` (s): give up after it,
        reporting ``timeout_message`` through ``failed`` and leaving the stuck thread behind."""
        task = Task(job, Handlers(done, failed, progress), self._post)
        if self._closed:
            task.detach()
            return task
        with self._cv:
            self._supersede_locked()
            self._next = task
            self._outstanding.add(task)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=f"advviewer {self.name}", daemon=True)
                self._thread.start()
            self._cv.notify()
        if time_limit is not None:
            timer = threading.Timer(time_limit, lambda: self._post(lambda: self._expire(task, timeout_message)))
            timer.daemon = True
            timer.start()
        return task

    def cancel(self) -> None:
        """Cancel the running job and drop the waiting one; their outcomes will not be delivered."""
        with self._cv:
            self._supersede_locked()

    def is_busy(self) -> bool:
        """A job runs or waits, or an outcome is on its way (a cancelled job still running counts)."""
        return bool(self._outstanding)

    def wait_until_idle(self, timeout: float, pump: Callable[[], object] | None = None) -> bool:
        """Block until nothing is outstanding, calling ``pump`` to deliver outcomes; False on timeout."""
        end = time.perf_counter() + timeout
        while self.is_busy():
            if pump is not None:
                pump()
            if time.perf_counter() > end:
                return False
            time.sleep(0.001)
        return True

    def shutdown(self) -> None:
        """Cancel everything and let the thread go; never waits for a job to return."""
        with self._cv:
            self._closed = True
            self._supersede_locked()
            self._thread = None
            self._outstanding.clear()
            self._cv.notify_all()

    # --- inside the lane --------------------------------------------------------------------------

    def _supersede_locked(self) -> None:
        # every task not yet delivered: running, waiting, or finished with its outcome still on the way
        for task in self._outstanding:
            task.detach()
        if self._next is not None:
            self._outstanding.discard(self._next)
            self._next = None

    def _expire(self, task: Task, message: str) -> None:  # owner's thread, after the time limit
        if task.finished or not task.attached:
            return
        self._outstanding.discard(task)
        task.state.cancel.set()  # in case the job ever looks again
        with self._cv:
            if self._current is task:  # stuck: leave its thread behind, the next job gets a new one
                self._current, self._thread = None, None
                if self._next is not None:
                    self._thread = threading.Thread(target=self._work, name=f"advviewer {self.name}", daemon=True)
                    self._thread.start()
        log.warning("%s: a job exceeded its time limit and was abandoned", self.name)
        task.deliver("failed", message)

    def _work(self) -> None:
        lower_this_thread_priority(self._niceness)
        me = threading.current_thread()
        while True:
            with self._cv:
                while self._next is None and self._thread is me and not self._closed:
                    self._cv.wait()
                if self._thread is not me or self._closed:
                    return
                task, self._next = self._next, None
                self._current = task
            assert task is not None
            kind, payload = self._run(task)
            with self._cv:
                if self._thread is not me:
                    return  # abandoned while the job ran: its outcome is of no interest
                self._current = None
                self._post(functools.partial(self._finish, task, kind, payload))

    def _finish(self, task: Task, kind: str, payload: Any) -> None:  # owner's thread
        self._outstanding.discard(task)
        if kind != "cancelled":
            task.deliver(kind, payload)

    @staticmethod
    def _run(task: Task) -> tuple[str, Any]:
        try:
            return "done", task.job(task.state)
        except Exception as exc:  # every failure becomes a message; the thread lives on
            if task.state.cancel.is_set() or isinstance(exc, Cancelled):
                return "cancelled", None
            if isinstance(exc, AdvViewerError):
                return "failed", str(exc)
            log.exception("background job failed")
            return "failed", printable(f"{type(exc).__name__}: {exc}")


class Lanes:
    """Several lanes by name, waited for and shut down together."""

    def __init__(self, post: Post, names: tuple[str, ...]) -> None:
        self._lanes = {name: Lane(name, post) for name in names}

    def __getitem__(self, name: str) -> Lane:
        return self._lanes[name]

    def is_idle(self) -> bool:
        return not any(lane.is_busy() for lane in self._lanes.values())

    def wait_until_idle(self, timeout: float, pump: Callable[[], object] | None = None) -> bool:
        end = time.perf_counter() + timeout
        return all(lane.wait_until_idle(max(0.0, end - time.perf_counter()), pump) for lane in self._lanes.values())

    def shutdown(self) -> None:
        for lane in self._lanes.values():
            lane.shutdown()
