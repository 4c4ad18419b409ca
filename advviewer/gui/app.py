"""Entry point of the window: ``run(args)`` creates the QApplication and the MainWindow.

With ``--screenshot FILE`` it renders the window offscreen instead (advviewer.gui.screenshot).

Start-up order: Qt and the window first, painted and taking strokes; torch (seconds to import on a
cold start) and the model are loaded in the background after the first paint. With ``-v`` the log
says when the window was shown (painted) and when the first probabilities were shown.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from advviewer.gui.xcb_check import xcb_problem

log = logging.getLogger(__name__)

PROBE_SECONDS = 0.005
LIVE_TORCH_THREADS = 1  # one image at a time: one thread is fastest and leaves a core for the attack (advviewer.runtime.torch_import)


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

    def handler(kind, _context, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


def _log_since_launch(what: str) -> None:
    seconds = seconds_since_launch()
    if seconds is not None:
        log.info("%s %.2f s after launch", what, seconds)


def _log_start_up(window) -> None:
    """'window shown' once it has painted itself; 'first probabilities shown' once the panel got the model's first answer.

    In between (torch and the model load in the background), a 5 ms timer on the GUI thread logs
    the longest it waited: how long a stroke would have waited for the window meanwhile.
    """
    from PySide6.QtCore import QTimer

    probe, gaps = QTimer(window), {"last": 0.0, "longest": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        gaps["longest"] = max(gaps["longest"], now - gaps["last"] - PROBE_SECONDS)
        gaps["last"] = now

    def painted() -> None:
        _log_since_launch("window shown")
        if log.isEnabledFor(logging.INFO):
            gaps["last"] = time.perf_counter()
            probe.start(int(PROBE_SECONDS * 1e3))

    probe.timeout.connect(tick)
    window.painted.append(painted)
    evaluated = window.state.events.evaluated

    def first(_evaluation) -> None:
        evaluated.disconnect(first)
        _log_since_launch("first probabilities shown")
        if probe.isActive():
            probe.stop()
            log.info("longest wait of the GUI thread while the model loaded: %.0f ms", 1e3 * gaps["longest"])

    evaluated.connect(first)  # after the panels' own handlers: they have the values when this runs


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


def _echo_model_problems(window) -> None:
    """Say on stderr, too, why a model asked for on the command line was not loaded."""
    events = window.state.events

    def echo(text: str, kind: str) -> None:
        if kind == "error":
            print(f"advviewer: {text}", file=sys.stderr)

    events.message.connect(echo)
    events.model.connect(lambda _: events.message.disconnect(echo, missing_ok=True))


def _window_problem() -> str | None:
    """Why the window cannot open here (no display, missing xcb libraries, a broken PySide6), else None."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                "use --screenshot FILE to render it offscreen, or run it in a desktop session")
    if (missing := xcb_problem()) is not None:  # Qt would abort the process; say which libraries are missing
        return missing
    return qt_binding_problem()


def run(args) -> int:
    """Open the window (or take a screenshot of it, see the module docstring); returns the exit status."""
    screenshot = getattr(args, "screenshot", None) is not None
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from advviewer.errors import AdvViewerError
    from advviewer.gui.error_log import install_excepthook
    from advviewer.gui.main_window import MainWindow

    problem = _window_problem()
    if problem is not None:
        print(f"advviewer: {problem}", file=sys.stderr)
        return 1
    _route_qt_messages()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("advviewer")
    app.setOrganizationName("advviewer")
    install_excepthook(show_dialog=not screenshot and os.environ.get("QT_QPA_PLATFORM") != "offscreen")
    model = getattr(args, "gui_model", None)
    if screenshot:  # the same command gives the same figure: defaults, never the last window's remembered choices
        import tempfile

        from PySide6.QtCore import QSettings

        empty = tempfile.mkdtemp(prefix="advviewer-shot-")
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, empty)
    try:
        window = MainWindow(model=model, remember=not screenshot, paint_first=True)
    except AdvViewerError as exc:
        print(f"advviewer: {exc}", file=sys.stderr)
        return 2
    finally:
        if screenshot:  # read (nothing) at start; the screenshot never writes settings
            os.rmdir(empty)
    _log_start_up(window)
    if screenshot:
        from advviewer.gui.screenshot import take_screenshot

        window.show()
        status = take_screenshot(window, args)
        window.close()
        return status
    if model is not None:
        _echo_model_problems(window)
    if args.gui_image is not None:
        window.open_path(Path(args.gui_image))
    if getattr(args, "gui_scene", None) is not None:  # after the image, which it drops: the scene is what the window shows
        from advviewer.gui.scene_actions import open_scene_path

        open_scene_path(window, Path(args.gui_scene))
    window.show()
    _quit_on_ctrl_c(app)
    return app.exec()


def exit_now(status: int) -> None:
    """End the process once the window has closed, without the interpreter's slow teardown.

    Destroying Qt's and torch's objects one by one at exit takes seconds after the window has
    closed. Everything worth keeping is already
    written: the settings are synced in closeEvent, the log is flushed here.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _quit_on_ctrl_c(app) -> None:
    """Ctrl+C in the terminal closes the window (Qt's loop would hold the signal until the next event)."""
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: app.closeAllWindows())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)  # wakes Python every 200 ms so the handler runs
    timer.start(200)
