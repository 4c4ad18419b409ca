"""The window (PySide6 + pyqtgraph) on top of the Qt-free core."""
