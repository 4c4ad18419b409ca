"""The user's choices remembered between runs, in one place (QSettings, INI format).

Everything the window remembers goes through :class:`Settings`, so keys and defaults are
listed once. Tests point QSettings at a temporary folder with ``QSettings.setPath``.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from advviewer.models import DEFAULT_MODEL

ORGANISATION = "advviewer"
APPLICATION = "advviewer"

# key -> (type, default)
_DEFAULTS: dict[str, tuple[type, object]] = {
    "model": (str, DEFAULT_MODEL),
    "brush_size": (int, 22),
    "c": (float, 1.0),
    "target": (int, -1),  # -1: any other class (untargeted)
    "gradient_class": (int, -1),  # -1: predicted class, -2: attack target, 0..9: that class
    "gradient_method": (str, "autograd"),
    "gradient_overlay": (bool, True),
    "magnify": (bool, True),
    "open_folder": (str, ""),
    "export_folder": (str, ""),
    "model_folder": (str, ""),
}


class Settings:
    """Typed access to the remembered choices; unknown or corrupt values fall back to defaults."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)

    def get(self, key: str):
        kind, default = _DEFAULTS[key]
        value = self._q.value(key, default)
        if kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value) -> None:
        if key not in _DEFAULTS:
            raise KeyError(key)
        self._q.setValue(key, value)

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self._q.value("window/geometry"), self._q.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def set_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.setValue("window/state", state)

    def sync(self) -> None:
        self._q.sync()
