"""The window (PySide6 + pyqtgraph) on top of the Qt-free core.

``MainWindow()`` builds the whole window once a QApplication exists; ``app.run(args)`` is the
entry point the ``advviewer`` command calls with no sub-command. Qt is imported lazily (on first
use of ``MainWindow``); torch is imported here, first, so it is always loaded before any
QApplication exists (pytorch issue 11326).
"""

import torch  # noqa: F401

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from advviewer.gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'advviewer.gui' has no attribute {name!r}")
