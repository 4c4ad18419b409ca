"""Fixtures for the window's tests: a fresh MainWindow with its own settings folder, and mouse strokes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def live_torch_threads():
    """As the app runs (advviewer.gui.app.LIVE_TORCH_THREADS): one image at a time is fastest on one thread."""
    import torch

    from advviewer.gui.app import LIVE_TORCH_THREADS

    before = torch.get_num_threads()
    torch.set_num_threads(LIVE_TORCH_THREADS)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def settings_dir(tmp_path):
    """Every test remembers its choices in its own folder, never in the user's."""
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def make_window(qtbot, settings_dir):
    from advviewer.gui import MainWindow

    def make(**kwargs):
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)  # closed (threads stopped) at teardown
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


def send_mouse(widget, kind: QEvent.Type, x: float, y: float, button=Qt.MouseButton.LeftButton, buttons=None) -> None:
    pos = QPointF(x, y)
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def stroke(widget, points, button=Qt.MouseButton.LeftButton) -> None:
    """Press at the first point, move through the rest, release: what a hand on a mouse does."""
    (x0, y0), rest = points[0], points[1:]
    send_mouse(widget, QEvent.Type.MouseButtonPress, x0, y0, button)
    for x, y in rest:
        send_mouse(widget, QEvent.Type.MouseMove, x, y, Qt.MouseButton.NoButton, button)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, *points[-1], button)


def line(widget, start, end, steps: int = 20):
    """Points from start to end, given as fractions of the widget's width and height."""
    w, h = widget.width(), widget.height()
    return [(w * (start[0] + (end[0] - start[0]) * t), h * (start[1] + (end[1] - start[1]) * t)) for t in np.linspace(0, 1, steps)]


@pytest.fixture
def draw():
    """draw(canvas, [(x0, y0), (x1, y1), ...] fractions) strokes through the points."""

    def draw_polyline(canvas, fractions, button=Qt.MouseButton.LeftButton):
        points = []
        for a, b in zip(fractions[:-1], fractions[1:]):
            points.extend(line(canvas, a, b))
        stroke(canvas, points, button)

    return draw_polyline


def wait_live(qtbot, window):
    """Wait until the live update for what is on the canvas now has been shown."""
    qtbot.waitUntil(lambda: not window._live_timer.isActive(), timeout=5000)


@pytest.fixture
def gui(qtbot):
    """The helpers above, for tests (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(send_mouse=send_mouse, stroke=stroke, line=line, wait_live=lambda window: wait_live(qtbot, window))
