"""Unexpected errors (bugs): logged, written to a file in the user's log folder, shown in a dialog that names it.

A program started from a desktop menu has no terminal, so a traceback on stderr is lost; the
file stays (Friture's ``exceptionhandler.py`` does the same). The window keeps running.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

import advviewer

log = logging.getLogger(__name__)

LOG_NAME = "advviewer.log"
MAX_LOG_BYTES = 1_000_000  # beyond this the log starts afresh, the previous one kept as advviewer.log.1


def log_folder() -> Path:
    """The user's folder for this program's logs (the XDG state folder on Linux)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "advviewer"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "advviewer" / "Logs"
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "advviewer"


def write_error_log(details: str) -> Path | None:
    """Append ``details`` with the time and version to the log file; its path, or None if it cannot be written."""
    path = log_folder() / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(LOG_NAME + ".1"))
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} advviewer {advviewer.__version__}, Python {sys.version.split()[0]}\n")
            f.write(details if details.endswith("\n") else details + "\n")
        return path
    except OSError:
        log.warning("could not write the error log %s", path, exc_info=True)
        return None


def error_message(kind: type[BaseException], value: BaseException, log_path: Path | None) -> str:
    where = (f"The details are in {log_path}; please include that file when you report this."
             if log_path is not None else "The details could not be written to a log file; they are below.")
    return f"Something went wrong: {kind.__name__}: {value}\n\nThe window keeps running. {where}"


def install_excepthook(show_dialog: bool) -> None:
    """Log, write and (with a display) show uncaught exceptions instead of dying silently."""
    showing = []  # an error inside the dialog's own event loop is logged, not stacked as a second dialog

    def hook(kind, value, tb) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        details = "".join(traceback.format_exception(kind, value, tb))
        path = write_error_log(details)
        if not show_dialog or showing:
            return

        if QApplication.instance() is None:
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "advviewer: unexpected error", error_message(kind, value, path),
                          QMessageBox.StandardButton.Ok)
        box.setObjectName("error_dialog")
        box.setDetailedText(details)
        showing.append(box)
        try:
            box.exec()
        finally:
            showing.clear()

    sys.excepthook = hook
