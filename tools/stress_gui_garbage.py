"""Stress the window's background work against Python's garbage collector, in one process.

Repeats tests/gui/test_explore_views.py's fixture: a minimal attack starts on the attack lane and,
while it runs, the Explore dock and the result panel are built (pyqtgraph's menus connect hundreds
of Qt signals); the previous round's widgets are dropped as garbage. If the cyclic collector runs
on the lane (as it did before advviewer.gui.background collected on the GUI thread only), PySide
disconnects dead receivers and deletes Qt objects there: Qt warns "... from another thread", the
process can crash, or the lane and the GUI thread deadlock over the GIL and Qt's signal-slot locks.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python tools/stress_gui_garbage.py --rounds 300

Low collector thresholds (--gc-threshold, default 100,5,5) make collections, and so the race,
frequent. Exit status 1 if Qt touched an object off its thread; a round that takes over --hang-seconds
dumps every thread's stack (faulthandler) and ends the process.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import sys
import time

import numpy as np
import torch  # before PySide6 (see docs: pytorch issue 11326)
from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QLabel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--gc-threshold", default="100,5,5", help="gc.set_threshold for the whole run")
    parser.add_argument("--hang-seconds", type=float, default=60.0)
    args = parser.parse_args()
    gc.set_threshold(*map(int, args.gc_threshold.split(",")))
    faulthandler.enable()
    torch.set_num_threads(1)
    off_thread: list[str] = []

    def on_message(kind: QtMsgType, context, message: str) -> None:
        if "another thread" in message or "different thread" in message:
            off_thread.append(message)

    qInstallMessageHandler(on_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from advviewer import load_model
    from advviewer.data import bundled_split
    from advviewer.gui.background import GuiThreadDelivery
    from advviewer.gui.bindings.explore_views import bind_explore_views
    from advviewer.gui.bindings.results import bind_results_panel
    from advviewer.gui.widgets.explore_views import ExploreViews
    from advviewer.gui.widgets.results_panel import ResultsPanel
    from advviewer.session.state import SessionState
    from advviewer.session.values import ModelChoice

    cnn = ModelChoice(load_model("cnn"), "cnn")
    images, labels = bundled_split("test")
    seven = images[int(np.flatnonzero(labels == 7)[0])].astype(np.float32) / 255.0
    start = time.perf_counter()
    for round_number in range(1, args.rounds + 1):
        faulthandler.dump_traceback_later(args.hang_seconds, exit=True)
        delivery = GuiThreadDelivery()
        state = SessionState(delivery.post)
        state.use_model(cnn)
        state.set_picture(None, seven, "a 7")
        state.set_target(3)
        state.find_minimal_c()  # the lane attacks while the widgets below are built
        dock, results, timing = ExploreViews(), ResultsPanel(), QLabel()
        bind_results_panel(state, results, timing)
        bind_explore_views(state, dock, results)
        if not state.wait_until_idle(args.hang_seconds, app.processEvents):
            print(f"round {round_number}: the attack did not finish", file=sys.stderr)
            return 1
        dock.show()
        app.processEvents()
        state.shutdown()
        for widget in (dock, results, timing):
            widget.close()
        del dock, results, timing, state, delivery  # garbage for a later collection, on whichever thread runs it
        faulthandler.cancel_dump_traceback_later()
        if round_number % 50 == 0 or round_number == args.rounds:
            print(f"{round_number} rounds, {time.perf_counter() - start:.0f} s, "
                  f"{len(off_thread)} Qt messages about another thread", flush=True)
    for message in sorted(set(off_thread)):
        print(f"  {off_thread.count(message)} x {message}")
    return 1 if off_thread else 0


if __name__ == "__main__":
    sys.exit(main())
