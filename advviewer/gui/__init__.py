"""The window (PySide6 + pyqtgraph) on top of the Qt-free core.

``MainWindow()`` builds the whole window once a QApplication exists; ``app.run(args)`` is the
entry point the ``advviewer`` command calls with no sub-command. Qt is imported lazily (on first
use of ``MainWindow``). torch is not imported with the window: the model lane imports it in the
background once the window is painted (``import torch`` alone takes seconds on a cold start).
"""

__all__ = ["MainWindow"]


def __getattr__(name: str):
    if name == "MainWindow":
        from advviewer.gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'advviewer.gui' has no attribute {name!r}")
