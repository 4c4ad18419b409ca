"""Fixtures for the window's tests: a fresh MainWindow with its own settings folder, and mouse strokes.

The helpers themselves are in tests/helpers.py (shared with the core's tests).
"""

from __future__ import annotations

from types import SimpleNamespace

import helpers
import pytest
from PySide6.QtCore import QSettings


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
    """make(**kwargs): a shown MainWindow that has loaded its model and evaluated its first digit."""
    from advviewer.gui import MainWindow

    def make(**kwargs):
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)  # closed (lanes stopped) at teardown
        window.show()
        qtbot.waitExposed(window)
        helpers.wait_idle(qtbot, window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def draw():
    """draw(canvas, [(x0, y0), (x1, y1), ...] fractions) strokes through the points."""
    return helpers.draw


@pytest.fixture
def gui(qtbot):
    """Mouse helpers, and wait_live(window): until what is on the canvas now has been evaluated and shown."""
    return SimpleNamespace(send_mouse=helpers.send_mouse, stroke=helpers.stroke, line=helpers.line,
                           wait_live=lambda window: qtbot.waitUntil(window.drawing.is_idle, timeout=5000))


@pytest.fixture(autouse=True)
def automatic_garbage_collection():
    """Overrides tests/conftest.py's: here garbage is collected on the GUI thread, as in the program
    (advviewer.gui.background starts that with the first GuiThreadDelivery)."""
    yield
