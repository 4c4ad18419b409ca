"""Responsiveness of the window (issue 4, section 2), offscreen, driven by mouse events.

    python benchmarks/bench_gui.py [--repeats N] [--json FILE] [--model cnn]

Measures, each as median, 10th-90th percentile and max (this machine is shared, so spreads matter):
  - stroke: a mouse-move event on the canvas to the probabilities and heatmap updated (data) and
    repainted (paint); target <= 16 ms at the 95th percentile. Also the live path's parts.
  - blocking: a 5 ms QTimer probe on the GUI thread while attacks run in the background (minimal
    c, every target, then a slider drag); the longest gap minus 5 ms; target <= 50 ms.
  - slider: one slider step to the result panels showing that c's attack; target <= 100 ms median.
  - startup: `advviewer --screenshot` as a fresh process, seconds from launch to the window shown
    (logged by the app from /proc); target <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402  (before Qt)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from PySide6.QtCore import QEvent, QEventLoop, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

PROBE_MS = 5


def stats(values_ms) -> dict:
    ms = np.asarray(values_ms, dtype=float)
    return {"median_ms": float(np.median(ms)), "p10_ms": float(np.percentile(ms, 10)), "p90_ms": float(np.percentile(ms, 90)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max()), "n": int(ms.size)}


def show(name: str, s: dict, target: str) -> None:
    print(f"{name:34s} median {s['median_ms']:7.2f} ms  p10-p90 {s['p10_ms']:6.2f}-{s['p90_ms']:6.2f}  "
          f"p95 {s['p95_ms']:7.2f}  max {s['max_ms']:7.2f}  (n={s['n']})   target: {target}")


def mouse(widget, kind, x, y, buttons):
    pos = QPointF(x, y)
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def wait(app, condition, timeout=60.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not respond in time")
        app.processEvents()


def bench_strokes(app, window, repeats: int) -> dict:
    """Per stroke segment: mouse event -> the state's evaluation replaced (data) -> repainted (paint)."""
    from strokes import DIGITS

    canvas, state = window.canvas, window.state
    data, paint, pre, model = [], [], [], []
    for _r in range(repeats):
        for _digit, strokes in DIGITS.items():
            canvas.clear()
            wait(app, window.is_idle)
            for polyline in strokes:
                pts = [(x * canvas.width(), y * canvas.height()) for x, y in polyline]
                mouse(canvas, QEvent.Type.MouseButtonPress, *pts[0], Qt.MouseButton.LeftButton)
                app.processEvents()
                for x, y in pts[1:]:
                    before = state.evaluation
                    t0 = time.perf_counter()
                    mouse(canvas, QEvent.Type.MouseMove, x, y, Qt.MouseButton.LeftButton)
                    wait(app, lambda: state.evaluation is not before)
                    t1 = time.perf_counter()
                    app.processEvents()  # the repaint of the canvas, preview, bars and heatmap
                    t2 = time.perf_counter()
                    data.append(1e3 * (t1 - t0))
                    paint.append(1e3 * (t2 - t0))
                    pre.append(state.evaluation.preprocess_ms)
                    model.append(state.evaluation.model_ms)
                mouse(canvas, QEvent.Type.MouseButtonRelease, *pts[-1], Qt.MouseButton.NoButton)
                app.processEvents()
    return {"data": stats(data), "paint": stats(paint), "preprocess": stats(pre), "model": stats(model)}


class Probe:
    """A QTimer on the GUI thread; the longest gap between its ticks is the longest block."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = None
        self.timer = QTimer(interval=PROBE_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(1e3 * (now - self._last) - PROBE_MS)
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def run_attack_and_wait(app, window, start) -> object:
    """Start an attack and run the event loop (idle, as the app's is) until it reports back."""
    done = {}
    events = window.state.events
    loop = QEventLoop()

    def finished(item):
        done.setdefault("result", item.result)
        loop.quit()

    def stopped(text, error):
        done.setdefault("error", text)
        loop.quit()

    events.attack_finished.connect(finished)
    events.attack_stopped.connect(stopped)
    QTimer.singleShot(300_000, loop.quit)
    start()
    if not done:
        loop.exec()
    events.attack_finished.disconnect(finished)
    events.attack_stopped.disconnect(stopped)
    if not done:
        raise TimeoutError("the attack did not report back in time")
    if "error" in done:
        raise RuntimeError(done["error"])
    return done["result"]


def bench_attacks(app, window, repeats: int) -> dict:
    """GUI-thread blocking while attacks run, and slider step -> result panels updated."""
    from advviewer.gui.widgets.attack_panel import TARGETS

    def choose(target):
        window.attack.target_box.setCurrentIndex(TARGETS.index(target))

    probe = Probe()
    minimal_s = []
    probe.start()
    for _ in range(repeats):
        for target in range(10):
            if target == int(window.state.evaluation.predicted):
                continue
            choose(target)
            t0 = time.perf_counter()
            result = run_attack_and_wait(app, window, window.attack.minimal_button.click)
            minimal_s.append(time.perf_counter() - t0)
            app.processEvents()
    probe.stop()
    blocking_minimal = list(probe.gaps)

    # slider: the user drags from the found c downwards and upwards, one step at a time
    choose(3 if window.state.evaluation.predicted != 3 else 5)
    result = run_attack_and_wait(app, window, window.attack.minimal_button.click)
    slider = window.attack.slider
    start = slider.value()
    steps = []
    probe.gaps.clear()
    probe.start()
    for _ in range(repeats):
        for pos in [*range(start - 1, start - 13, -1), *range(start - 11, start + 12), start]:
            if pos == slider.value():
                continue  # no change, no signal
            t0 = time.perf_counter()
            run_attack_and_wait(app, window, lambda: slider.setValue(pos))
            app.processEvents()  # the result panels repaint
            steps.append(1e3 * (time.perf_counter() - t0))
    probe.stop()
    return {"minimal_seconds": stats(1e3 * np.asarray(minimal_s)), "blocking_minimal": stats(blocking_minimal),
            "blocking_slider": stats(probe.gaps), "slider_step": stats(steps), "found_c": float(result.c)}


def bench_startup(repeats: int) -> dict:
    shown, total = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": tmp}
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "advviewer", "-v", "--screenshot", f"{tmp}/shot.png"],
                                 capture_output=True, text=True, env=env, timeout=120)
            total.append(1e3 * (time.perf_counter() - t0))
            match = re.search(r"window shown ([0-9.]+) s after launch", out.stderr)
            if out.returncode != 0 or match is None:
                raise RuntimeError(f"advviewer --screenshot failed: {out.stderr[-500:]}")
            shown.append(1e3 * float(match.group(1)))
    return {"shown": stats(shown), "process": stats(total)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip", nargs="*", default=[], choices=["stroke", "attack", "startup"])
    parser.add_argument("--explore", choices=["all_targets", "transfer", "playback", "compare", "noise_check"],
                        help="measure with this 'Explore this result' view open (it computes for every new result)")
    args = parser.parse_args()
    from advviewer.gui.app import LIVE_TORCH_THREADS

    torch.set_num_threads(LIVE_TORCH_THREADS)
    settings = tempfile.TemporaryDirectory()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings.name)
    app = QApplication.instance() or QApplication([])
    from advviewer.gui import MainWindow

    window = MainWindow(model=args.model, remember=False)
    window.show()
    if args.explore:
        from advviewer.gui.widgets.explore_views import TABS

        window.explore_views.show()
        window.explore_views.tabs.setCurrentIndex([name for name, _ in TABS].index(args.explore))
    window.wait_until_idle()  # the model is loaded (in the background) and the first digit evaluated
    print(f"advviewer GUI benchmark: model {args.model}, torch threads {torch.get_num_threads()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} (other work on this machine shows in the spreads)")
    report: dict = {"explore": args.explore, "model": args.model, "cores": os.cpu_count(), "load_average": os.getloadavg()[0]}
    if "stroke" not in args.skip:
        r = report["stroke"] = bench_strokes(app, window, args.repeats)
        show("stroke -> data updated", r["data"], "")
        show("stroke -> repainted", r["paint"], "p95 <= 16 ms")
        show("  of which preprocess", r["preprocess"], "")
        show("  of which model (fwd+bwd)", r["model"], "")
    if "attack" not in args.skip:
        from advviewer.session.catalog import starting_sample

        window.drawing.show_picture(*starting_sample())
        r = report["attack"] = bench_attacks(app, window, args.repeats)
        show("minimal-c attack (whole search)", r["minimal_seconds"], "")
        show("GUI blocked, minimal-c attacks", r["blocking_minimal"], "max <= 50 ms")
        show("GUI blocked, slider drag", r["blocking_slider"], "max <= 50 ms")
        show("slider step -> results shown", r["slider_step"], "median <= 100 ms")
    window.close()
    if "startup" not in args.skip:
        r = report["startup"] = bench_startup(max(3, args.repeats))
        show("launch -> window shown", r["shown"], "<= 3000 ms")
        show("  whole --screenshot process", r["process"], "")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
