"""Screenshots of the real window in the states a tester looks at, for a person to open and read.

Run it under a real X server (Xvfb) to see window-manager-free placement as a desktop would, or
offscreen; it grabs the whole screen, floating docks included::

    Xvfb :99 -screen 0 1280x720x24 & DISPLAY=:99 .venv/bin/python tools/window_shots.py OUT_DIR
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/window_shots.py OUT_DIR --size 1366x768
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/window_shots.py OUT_DIR --size 1280x720 --present
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/window_shots.py OUT_DIR --size 1920x1080 --tab models

Each state is one PNG in OUT_DIR named ``<size>-<state>.png``: the window after a minimal attack,
the Explore dock open on each of its tabs, after scrubbing playback back to an early iterate
and then leaving the tab, and after Cancel on a slow model. The settings live in a temporary
folder, never the user's.

``--scene FILE``: the window after opening that scene file (File ▸ Open scene or lecture) instead of
attacking, with the Explore dock on the tab the scene names; nothing else after it.

``--present``: presentation mode instead (View ▸ Present) on a projector of ``--size`` (offscreen, the
screen itself is made that size): after a minimal attack, after T and Space (the next target,
attacked), and the desk window after Esc.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _tabs(app, window, out: Path, size: str, only: list[str] | None = None) -> None:
    dock = window.explore_views
    if not dock.isVisible():
        dock.toggleViewAction().trigger()
    _pump(app)
    for index in range(dock.tabs.count()):
        if only and dock.tabs.widget(index).objectName() not in only:
            continue
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


def _present(app, window, out: Path, size: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.activateWindow()
    window.actions["present"].trigger()
    _wait(app, window)
    _grab(app, window, out, f"{size}-present-minimal")
    for key in (Qt.Key.Key_T, Qt.Key.Key_Space):
        QTest.keyClick(window, key)
        _wait(app, window)
    _grab(app, window, out, f"{size}-present-next-target")
    QTest.keyClick(window, Qt.Key.Key_Escape)
    _wait(app, window)
    _grab(app, window, out, f"{size}-present-left")


def _offscreen_screen(size: str) -> None:
    """Offscreen, a screen of ``size`` (a full-screen window takes the screen's size)."""
    if not os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        return
    width, height = (int(v) for v in size.split("x"))
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "projector", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default=None, help="WxH of the window (default: the screen's)")
    parser.add_argument("--present", action="store_true", help="presentation mode on a screen of --size (View ▸ Present)")
    parser.add_argument("--scene", type=Path, default=None, help="open this scene file instead of attacking; nothing after it")
    parser.add_argument("--tab", action="append", default=None, metavar="NAME",
                        help="only the Explore dock on this tab (models, compare, ...; repeatable), nothing else after it")
    args = parser.parse_args()
    if args.size and (args.present or args.tab):  # a screen of that size: the dock docks where it would
        _offscreen_screen(args.size)
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
    if args.scene is not None:
        from advviewer.gui.scene_actions import open_scene_path

        open_scene_path(window, args.scene)
        _wait(app, window)
        _grab(app, window, args.out, f"{size}-scene-{args.scene.stem}")
        window.close()
        return 0
    window.state.set_target(None)
    window.attack.minimal_button.click()
    _wait(app, window)
    _grab(app, window, args.out, f"{size}-minimal")
    if args.present:
        _present(app, window, args.out, size)
        window.close()
        return 0
    _tabs(app, window, args.out, size, args.tab)
    if args.tab:
        window.close()
        return 0
    _playback_then_leave(app, window, args.out, size)
    _cancel_on_slow_model(app, window, args.out, size)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
