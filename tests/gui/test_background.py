"""The Qt adapter of background work on its own: outcomes reach the GUI thread, superseded ones never do."""

import gc
import threading
import time
import weakref

from PySide6.QtWidgets import QCheckBox

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


class _Binding:
    """A plain object whose method a widget's signal calls, in a reference cycle (as pyqtgraph's and our bindings are)."""

    def __init__(self, box: QCheckBox) -> None:
        self.itself = self
        self.box = box
        box.toggled.connect(self.on_toggled)

    def on_toggled(self, checked: bool) -> None:
        pass


def test_a_lanes_job_never_collects_the_windows_garbage(qtbot):
    """Garbage bound to Qt signals is collected on the GUI thread, however much a lane's job allocates.

    Collected on the lane, PySide disconnects the signal there, and that thread waits for the GIL
    while holding Qt's signal-slot lock that the GUI thread, holding the GIL, waits for: the window
    hangs (tests/gui/test_explore_views.py did, about one run in eight).
    """
    delivery = GuiThreadDelivery()
    lane = Lane("test", delivery.post, niceness=0)
    box = QCheckBox()
    qtbot.addWidget(box)
    gc.collect()
    binding = _Binding(box)
    collected_on = []
    weakref.finalize(binding, lambda: collected_on.append(threading.get_ident()))
    del binding  # garbage now, freed only by a collection
    kept = []
    lane.submit(lambda state: [[] for _ in range(100_000)], kept.append)  # far past the collector's threshold
    qtbot.waitUntil(lambda: bool(kept), timeout=5000)
    qtbot.waitUntil(lambda: bool(collected_on), timeout=5000)  # collected all the same: by the GUI thread's timer
    assert collected_on == [threading.get_ident()]
    box.toggle()  # the dead receiver was disconnected: nothing is called
    lane.shutdown()
