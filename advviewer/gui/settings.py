"""The user's choices remembered between runs, in one place (QSettings, INI format).

Everything the window remembers goes through :class:`Settings`, so keys, defaults and how a
value is written are listed once. Tests point QSettings at a temporary folder with
``QSettings.setPath``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings

from advviewer.gui.widgets.canvas import DEFAULT_BRUSH_SIZE
from advviewer.session.catalog import default_model
from advviewer.session.choices import (
    DEFAULT_C,
    DEFAULT_GRADIENT_CLASS,
    DEFAULT_GRADIENT_METHOD,
    DEFAULT_OBJECTIVE,
    GRADIENT_CLASSES,
    GRADIENT_METHODS,
    OBJECTIVES,
)

ORGANISATION = "advviewer"
APPLICATION = "advviewer"
ANY_CLASS = "any"  # how a target of None (any other class) is written


def _bool(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1")


def _target(value: object) -> int | None:
    if value is None or str(value) == ANY_CLASS:
        return None
    target = int(str(value))
    if target not in range(10):
        raise ValueError(value)
    return target


def _gradient_class(value: object) -> int | str:
    text = str(value)
    choice = int(text) if text.isdigit() else text
    if choice not in GRADIENT_CLASSES:
        raise ValueError(value)
    return choice


def _gradient_method(value: object) -> str:
    if value not in GRADIENT_METHODS:
        raise ValueError(value)
    return str(value)


def _objective(value: object) -> str:
    if value not in OBJECTIVES:
        raise ValueError(value)
    return str(value)


def _positive(value: object) -> float:
    c = float(str(value))
    if not c > 0 or c == float("inf"):
        raise ValueError(value)
    return c


# key -> (read a stored value, default)
_KEYS: dict[str, tuple[Callable[[object], object], object]] = {
    "model": (str, default_model()),
    "brush_size": (int, DEFAULT_BRUSH_SIZE),
    "c": (_positive, DEFAULT_C),
    "target": (_target, None),
    "objective": (_objective, DEFAULT_OBJECTIVE),
    "gradient_class": (_gradient_class, DEFAULT_GRADIENT_CLASS),
    "gradient_method": (_gradient_method, DEFAULT_GRADIENT_METHOD),
    "gradient_overlay": (_bool, True),
    "magnify": (_bool, True),
    "guide_dismissed": (_bool, False),
    "open_folder": (str, ""),
    "export_folder": (str, ""),
    "model_folder": (str, ""),
    "scene_folder": (str, ""),
}


class Settings:
    """Typed access to the remembered choices; unknown or corrupt values fall back to defaults."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)

    def get(self, key: str):
        read, default = _KEYS[key]
        value = self._q.value(key)
        if value is None:
            return default
        try:
            return read(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value) -> None:
        if key not in _KEYS:
            raise KeyError(key)
        self._q.setValue(key, ANY_CLASS if key == "target" and value is None else value)

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self._q.value("window/geometry"), self._q.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def set_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self._q.setValue("window/geometry", geometry)
        self._q.setValue("window/state", state)

    def sync(self) -> None:
        self._q.sync()
