"""Screenshots of the real window in the states a tester looks at, for a person to open and read.

Run it under a real X server (Xvfb) to see window-manager-free placement as a desktop would, or
offscreen; it grabs the whole screen, floating docks included::

    Xvfb :99 -screen 0 1280x720x24 & DISPLAY=:99 .venv/bin/python tools/window_shots.py OUT_DIR
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/window_shots.py OUT_DIR --size 1366x768

Each state is one PNG in OUT_DIR named ``<size>-<state>.png``: the window after a minimal attack,
the Explore dock open on each of its tabs, after scrubbing playback back to an early iterate
and then leaving the tab, and after Cancel on a slow model. The settings live in a temporary
folder, never the user's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _pump(app, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def _wait(app, window, seconds: float = 120.0) -> None:
    end = time.perf_counter() + seconds
    while not window.is_idle() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)
    _pump(app)


def _grab(app, window, out: Path, name: str) -> None:
    _pump(app, 0.4)
    screen = window.screen()
    # offscreen has no screen contents, and its 800x800 screen would crop a larger --size: the window
    # alone (a floating dock is not in it)
    offscreen = app.platformName() == "offscreen"
    picture = screen.grabWindow(0) if screen is not None and not offscreen else window.grab()
    if picture.isNull():
        picture = window.grab()
    path = out / f"{name}.png"
    picture.save(str(path))
    print(path)
    dock = window.explore_views
    if offscreen and dock.isVisible() and dock.isFloating():  # not in the window's picture: a picture of its own
        path = out / f"{name}-floating-dock.png"
        dock.grab().save(str(path))
        print(path)


def _tabs(app, window, out: Path, size: str) -> None:
    dock = window.explore_views
    if not dock.isVisible():
        dock.toggleViewAction().trigger()
    _pump(app)
    for index in range(dock.tabs.count()):
        dock.tabs.setCurrentIndex(index)
        _wait(app, window)
        _grab(app, window, out, f"{size}-dock-{dock.tabs.widget(index).objectName()}")


def _playback_then_leave(app, window, out: Path, size: str) -> None:
    dock = window.explore_views
    dock.tabs.setCurrentWidget(dock.playback)
    _wait(app, window)
    dock.playback.slider.setValue(1)
    _pump(app)
    _grab(app, window, out, f"{size}-playback-scrubbed")
    dock.tabs.setCurrentWidget(dock.all_targets)
    _wait(app, window)
    _grab(app, window, out, f"{size}-playback-left")
    dock.close()
    _pump(app)
    _grab(app, window, out, f"{size}-dock-closed")


def _cancel_on_slow_model(app, window, out: Path, size: str) -> None:
    import torch

    from advviewer.session.values import ModelChoice

    module = window.state.model.module

    class Slow(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, x):
            time.sleep(0.05)
            return self.inner(x)

    window.state.use_model(ModelChoice(Slow().eval(), "slow_cnn.pt2"))
    _pump(app, 1.0)
    window.attack.cancel_button.click()
    _pump(app)
    _grab(app, window, out, f"{size}-cancel-slow-model")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default=None, help="WxH of the window (default: the screen's)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    from advviewer.gui import MainWindow

    window = MainWindow()
    if args.size:
        width, height = (int(v) for v in args.size.split("x"))
        window.resize(width, height)
        window.show()
    else:
        window.showMaximized()
    _wait(app, window)
    size = args.size or "{}x{}".format(*window.screen().size().toTuple())
    window.state.set_target(None)
    window.attack.minimal_button.click()
    _wait(app, window)
    _grab(app, window, args.out, f"{size}-minimal")
    _tabs(app, window, args.out, size)
    _playback_then_leave(app, window, args.out, size)
    _cancel_on_slow_model(app, window, args.out, size)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
