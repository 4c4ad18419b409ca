"""The application icon, read from the package's resources (an SVG drawn by hand)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from advviewer.runtime.resources_access import resource_path


def app_icon() -> QIcon:
    path = resource_path("icons", "advviewer.svg")
    return QIcon(str(path)) if path.exists() else QIcon()
