"""The Qt adapter of background work on its own: outcomes reach the GUI thread, superseded ones never do."""

import threading
import time

from advviewer.gui.background import GuiThreadDelivery
from advviewer.session.lanes import Lane


def test_a_post_from_a_worker_runs_on_the_gui_thread(qtbot):
    delivery = GuiThreadDelivery()
    ran = []
    worker = threading.Thread(target=lambda: delivery.post(lambda: ran.append(threading.get_ident())))
    worker.start()
    worker.join()
    assert not ran  # queued, not run on the worker
    qtbot.waitUntil(lambda: bool(ran), timeout=2000)
    assert ran == [threading.get_ident()]


def test_a_lane_driven_by_the_event_loop_delivers_only_the_newest(qtbot):
    delivery = GuiThreadDelivery()
    lane = Lane("test", delivery.post, niceness=0)
    done = []

    def job(value, seconds):
        def run(state):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end and not state.cancel.is_set():
                time.sleep(0.001)
            return value
        return run

    for value in range(5):
        lane.submit(job(value, 0.05), done.append)
    qtbot.waitUntil(lambda: not lane.is_busy(), timeout=5000)
    assert done == [4]
    lane.shutdown()
