"""Tasks and lanes on their own: newest first, superseded outcomes never arrive, time limits, shutdown that never waits."""

import threading
import time

import pytest

from advviewer.errors import AdvViewerError
from advviewer.reading import sandbox
from advviewer.session.lanes import Lane
from advviewer.session.tasks import DeliveryQueue, TaskState


@pytest.fixture
def lane():
    queue = DeliveryQueue()
    lane = Lane("test", queue.post, niceness=0)
    lane.pump = queue.run_pending
    yield lane
    lane.shutdown()


def test_a_job_is_a_plain_function_of_its_state():
    reports = []
    state = TaskState(reports.append, interval=0.0)

    def job(state):
        for i in range(3):
            state.report(i)
        return "done"

    assert job(state) == "done" and reports == [0, 1, 2]
    state.cancel.set()
    assert state.is_interruption_requested()


def test_outcomes_arrive_on_the_owners_thread(lane):
    seen = []
    lane.submit(lambda state: threading.get_ident(), lambda worker: seen.append((worker, threading.get_ident())))
    assert lane.wait_until_idle(5, lane.pump)
    (worker, owner), = seen
    assert worker != owner == threading.get_ident()


def test_a_newer_job_supersedes_the_running_one_whose_outcome_never_arrives(lane):
    started, done = threading.Event(), []

    def slow(state):
        started.set()
        while not state.cancel.is_set():  # the core checks its cancel event like this
            time.sleep(0.001)
        return "slow"

    first = lane.submit(slow, done.append)
    assert started.wait(5)
    waiting = lane.submit(lambda state: "dropped", done.append)
    newest = lane.submit(lambda state: "newest", done.append)
    assert first.state.cancel.is_set() and waiting.state.cancel.is_set()
    assert lane.wait_until_idle(5, lane.pump)
    assert done == ["newest"] and newest.succeeded and not first.finished and not waiting.finished


def test_a_finished_but_undelivered_outcome_of_a_superseded_job_is_dropped(lane):
    done = []
    lane.submit(lambda state: "old", done.append)
    time.sleep(0.2)  # it has finished and posted its outcome, which waits in the queue
    lane.submit(lambda state: "new", done.append)
    assert lane.wait_until_idle(5, lane.pump)
    assert done == ["new"]


def test_failures_become_one_line_messages(lane):
    failed = []

    def bad(state):
        raise AdvViewerError("a clear reason")

    def buggy(state):
        raise KeyError("x")

    lane.submit(bad, failed.append, failed.append)
    assert lane.wait_until_idle(5, lane.pump)
    lane.submit(buggy, failed.append, failed.append)
    assert lane.wait_until_idle(5, lane.pump)
    assert failed == ["a clear reason", "KeyError: 'x'"]


def test_a_job_past_its_time_limit_is_abandoned_and_the_lane_goes_on(lane):
    release, outcome = threading.Event(), []
    stuck = lane.submit(lambda state: release.wait(30), outcome.append, lambda m: outcome.append(("failed", m)),
                        time_limit=0.2, timeout_message="too slow")
    assert lane.wait_until_idle(5, lane.pump)
    assert outcome == [("failed", "too slow")] and stuck.finished and not stuck.succeeded
    lane.submit(lambda state: "next", outcome.append)  # a fresh thread: the stuck one still waits
    assert lane.wait_until_idle(5, lane.pump)
    assert outcome[-1] == "next"
    release.set()


def test_shutdown_returns_at_once_even_inside_an_uninterruptible_call(lane):
    inside, release = threading.Event(), threading.Event()
    done = []
    lane.submit(lambda state: (inside.set(), release.wait(30)), done.append)
    assert inside.wait(5)
    t0 = time.perf_counter()
    lane.shutdown()
    assert time.perf_counter() - t0 < 0.1 and not lane.is_busy()
    release.set()
    time.sleep(0.1)
    lane.pump()
    assert not done  # the abandoned job's outcome is never delivered


@pytest.mark.skipif(not sandbox.mechanism().isolated, reason="needs the sandbox's child process (fork: Linux, macOS)")
def test_a_picture_superseded_while_its_reader_is_busy_gives_way_at_once(lane, tmp_path, monkeypatch):
    """A picture job passes its cancel flag to the sandbox: a picture that keeps its reader busy (up to PICTURE_LIMITS'
    30 s) is dropped at once when another is asked for, and the other one arrives within a moment."""
    import numpy as np
    import sandbox_cases

    from advviewer.reading import image_io
    from advviewer.session.jobs import load_picture_job

    slow, good = tmp_path / "slow.npy", tmp_path / "good.npy"
    np.save(slow, np.zeros((28, 28), np.float32))
    digit = np.zeros((28, 28), np.float32)
    digit[6:22, 12:16] = 1.0  # a one
    np.save(good, digit)
    expected = image_io._load_image_here(good)
    monkeypatch.setattr(image_io, "_load_image_here", sandbox_cases.picture_slowly_for_slow_names)
    arrived = []
    lane.submit(load_picture_job(slow), arrived.append)
    time.sleep(0.5)  # its reader is asleep
    lane.submit(load_picture_job(good), arrived.append)
    assert lane.wait_until_idle(3.0, lane.pump), "the picture asked for waited for the superseded read"
    (picture,) = arrived  # the superseded picture never arrives
    np.testing.assert_array_equal(picture, expected)
