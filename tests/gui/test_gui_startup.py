"""Start-up (issue 12): the window paints and takes strokes before torch is imported; the model follows.

Each case is a fresh process: whether torch is imported yet is a property of the process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

STARTUP = r'''
import sys, tempfile
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
app = QApplication([])
from advviewer.gui.main_window import MainWindow

w = MainWindow(remember=False, paint_first=True)
seen = {}

def mouse(kind, x, y, buttons):
    pos = QPointF(x, y)
    QApplication.sendEvent(w.canvas, QMouseEvent(kind, pos, w.canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                                                   buttons, Qt.KeyboardModifier.NoModifier))

def painted():
    seen["torch at paint"] = "torch" in sys.modules
    seen["note"] = w.probabilities.note_text
    seen["gradient note"] = w.gradient.info.text()
    w.canvas.clear()  # a stroke straight away, while torch loads: a vertical bar (a one)
    side = w.canvas.width()
    mouse(QEvent.Type.MouseButtonPress, side * 0.5, side * 0.15, Qt.MouseButton.LeftButton)
    for i in range(1, 30):
        mouse(QEvent.Type.MouseMove, side * 0.5, side * (0.15 + 0.7 * i / 29), Qt.MouseButton.LeftButton)
    mouse(QEvent.Type.MouseButtonRelease, side * 0.5, side * 0.85, Qt.MouseButton.NoButton)
    seen["model after stroke"] = w.state.model
    seen["preview after stroke"] = float(w.inputs.preview.image.image.mean())  # what the model will see, already
    seen["answer after stroke"] = w.inputs.prediction.text()

w.painted.append(painted)
w.show()
assert w.wait_until_idle(60) and "note" in seen, "never painted, or the model never loaded"
print("torch at paint:", seen["torch at paint"])
print("note:", seen["note"])
print("gradient note:", seen["gradient note"])
print("model after stroke:", seen["model after stroke"])
print("preview after stroke:", seen["preview after stroke"])
print("answer after stroke:", seen["answer after stroke"])
e = w.state.evaluation
print("evaluated the stroke:", e is not None and e.input is w.state.input and w.state.input.source == "drawn on the canvas")
print("predicted:", e.predicted)
print("note now:", repr(w.probabilities.note_text))
print("bars:", round(float(w.probabilities.probabilities.sum()), 3))
'''


def test_the_window_paints_before_torch_and_evaluates_a_stroke_made_while_it_loads(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", STARTUP], capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    assert lines["torch at paint"] == "False"
    assert lines["note"] == "Loading the model cnn…"
    assert lines["gradient note"].startswith("Loading the model cnn…")
    assert lines["model after stroke"] == "None"  # the stroke really was made before the model was there
    assert float(lines["preview after stroke"]) > 0.01 and "waiting for the model" in lines["answer after stroke"]
    assert lines["evaluated the stroke"] == "True" and lines["predicted"] == "1"
    assert lines["note now"] == "''" and lines["bars"] == "1.0"


def test_the_program_logs_window_shown_before_the_first_probabilities(tmp_path):
    """What packaging/measure.py and benchmarks/bench_gui.py read (-v): painted first, answered after."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    out = subprocess.run([sys.executable, "-m", "advviewer", "-v", "--screenshot", tmp_path / "shot.png"],
                         capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    shown = re.search(r"window shown ([0-9.]+) s after launch", out.stderr)
    answered = re.search(r"first probabilities shown ([0-9.]+) s after launch", out.stderr)
    assert shown and answered, out.stderr
    assert float(shown.group(1)) <= float(answered.group(1))
    assert out.stderr.index("window shown") < out.stderr.index("first probabilities shown")
