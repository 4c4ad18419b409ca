"""Entry point of the window: ``run(args)`` creates the QApplication and the MainWindow.

With ``--screenshot FILE`` it builds the window offscreen, opens ``--image``, selects
``--model``, runs the attack when ``--target`` is given (at ``--c``, else the minimal c), saves a
PNG of the whole window and exits. Exit status 2 for bad input, as on the command line.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import torch  # noqa: F401  (before Qt: pytorch issue 11326)

from advviewer import threads
from advviewer.gui.xcb_check import xcb_problem

log = logging.getLogger(__name__)

ATTACK_TIMEOUT_MS = 180_000
LIVE_TORCH_THREADS = 1  # one image at a time: one thread is fastest and leaves a core for the attack


def seconds_since_launch() -> float | None:
    """Seconds since this process started (Linux), for the 'window shown within 3 s' check."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _route_qt_messages() -> None:
    """Qt's own warnings go to logging (shown with -v), not straight to stderr."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO, QtMsgType.QtWarningMsg: logging.INFO,
              QtMsgType.QtCriticalMsg: logging.ERROR, QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(kind, context, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def _log_shown() -> None:
    shown = seconds_since_launch()
    if shown is not None:
        log.info("window shown %.2f s after launch", shown)


def qt_binding_problem() -> str | None:
    """A message if this PySide6 build corrupts reference counts (6.12.0 on Python 3.11), else None.

    Such a build drops a reference to None on every void Qt call, and the window would abort a
    few seconds into drawing; better to refuse to start with a clear message.
    """
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    if sys.getrefcount(None) < before - 25:
        return (f"PySide6 {pyside_version} corrupts Python {sys.version.split()[0]}'s reference counts and would crash; "
                "install another version: pip install 'pyside6-essentials<6.12'")
    return None


def _wait_for_attack(window) -> str:
    """Block (running the event loop) until the attack finishes; returns '' or an error message."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, outcome = QEventLoop(), {"error": "the attack did not finish in time"}
    s = window.session

    def done(error: str = "") -> None:
        outcome["error"] = error
        loop.quit()

    s.attack_finished.connect(lambda _: done())
    s.attack_failed.connect(lambda msg: done(f"the attack failed: {msg}"))
    s.attack_cancelled.connect(lambda: done("the attack was cancelled"))
    QTimer.singleShot(ATTACK_TIMEOUT_MS, loop.quit)
    loop.exec()
    if not outcome["error"]:  # let the follow-up runs (the c-vs-|r| curve) finish too
        poll = QTimer(interval=20)
        poll.timeout.connect(lambda: s.attack_running() or loop.quit())
        poll.start()
        loop.exec()
        poll.stop()
    return outcome["error"]


def _open_and_wait(window, path: Path) -> bool:
    """Open a picture, waiting for a big one to be decoded in the background."""
    from PySide6.QtCore import QEventLoop

    opened = window.open_path(path)
    if opened is None:
        loop, outcome = QEventLoop(), {}
        window.loader.loaded.connect(lambda *_: (outcome.setdefault("ok", True), loop.quit()))
        window.loader.failed.connect(lambda *_: (outcome.setdefault("ok", False), loop.quit()))
        loop.exec()
        opened = outcome["ok"]
    return opened


def _screenshot(window, args) -> int:
    from PySide6.QtWidgets import QApplication

    if args.gui_image is not None and not _open_and_wait(window, Path(args.gui_image)):
        print(f"advviewer: {window.message.label.text()}", file=sys.stderr)
        return 2
    if args.gui_target is not None:
        window.attack.set_target(args.gui_target)
        if args.gui_c is not None:
            window.attack.set_c(args.gui_c)
        window.attack.minimal_button.click() if args.gui_c is None else window.attack.run_button.click()
        error = _wait_for_attack(window)
        if error:
            print(f"advviewer: {error}", file=sys.stderr)
            return 1
    window.show()
    for _ in range(3):
        QApplication.processEvents()
    _log_shown()
    path = Path(args.screenshot)
    if not window.grab().save(str(path)):
        print(f"advviewer: could not write the screenshot {path}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def run(args) -> int:
    """Open the window (or take a screenshot of it, see the module docstring); returns the exit status."""
    screenshot = getattr(args, "screenshot", None) is not None
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    threads.configure(LIVE_TORCH_THREADS)
    from PySide6.QtWidgets import QApplication

    from advviewer.errors import AdvViewerError
    from advviewer.gui.dialogs import install_excepthook
    from advviewer.gui.main_window import MainWindow

    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("advviewer: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
              "use --screenshot FILE to render it offscreen, or run it in a desktop session", file=sys.stderr)
        return 1
    if (missing := xcb_problem()) is not None:  # Qt would abort the process; say which libraries are missing
        print(f"advviewer: {missing}", file=sys.stderr)
        return 1
    problem = qt_binding_problem()
    if problem is not None:
        print(f"advviewer: {problem}", file=sys.stderr)
        return 1
    _route_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("advviewer")
    app.setOrganizationName("advviewer")
    install_excepthook(show_dialog=not screenshot and os.environ.get("QT_QPA_PLATFORM") != "offscreen")
    model = getattr(args, "gui_model", None)
    try:
        window = MainWindow(model=model, remember=not screenshot)
    except AdvViewerError as exc:
        print(f"advviewer: {exc}", file=sys.stderr)
        return 2
    if model is not None and window.session.model_name != model:
        print(f"advviewer: {window.message.label.text()}", file=sys.stderr)
        if screenshot:
            return 2
    if screenshot:
        status = _screenshot(window, args)
        window.close()
        return status
    if args.gui_image is not None:
        window.open_path(Path(args.gui_image))
    window.show()
    _log_shown()
    return app.exec()
