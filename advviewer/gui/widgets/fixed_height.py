"""Labels whose text changes often (progress, timings), sized so a new text never re-lays out the window.

A QLabel's size hint follows its text; in a layout, every change (a progress line 30 times a
second) would re-lay out the whole window and repaint every plot. A fixed-height label takes the
width the layout gives it and a fixed number of lines. The size follows the label's font: a
larger font (presentation mode) gives the same number of lines, each taller.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class _FontFollower(QObject):
    """Re-sizes its widget whenever the widget's font changes."""

    def __init__(self, widget: QWidget, resize: Callable[[QWidget], None]) -> None:
        super().__init__(widget)
        self._resize = resize

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange and isinstance(watched, QWidget):
            self._resize(watched)
        return False


def follow_font(widget: QWidget, resize: Callable[[QWidget], None]) -> None:
    """Size ``widget`` with ``resize`` now and again each time its font changes."""
    resize(widget)
    widget.installEventFilter(_FontFollower(widget, resize))


LINES = "fixed_lines"  # the Qt property holding a fixed-height label's number of lines


def _fit_lines(widget: QWidget) -> None:
    margins = widget.contentsMargins()
    lines = int(widget.property(LINES))
    widget.setFixedHeight(lines * widget.fontMetrics().lineSpacing() + margins.top() + margins.bottom() + 2)


def fixed_height(label: QLabel, lines: int = 1) -> QLabel:
    """``label`` made as wide as its layout gives and ``lines`` lines high, whatever its text."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setProperty(LINES, lines)
    follow_font(label, _fit_lines)
    return label


def set_lines(label: QLabel, lines: int) -> None:
    """A fixed-height label made ``lines`` lines high (presentation mode has room for fewer, larger ones)."""
    label.setProperty(LINES, lines)
    _fit_lines(label)


def fixed_width(label: QLabel, sample: str) -> QLabel:
    """``label`` as wide as ``sample`` in its font, whatever its text (a value that changes as a slider moves)."""
    follow_font(label, lambda widget: widget.setFixedWidth(widget.fontMetrics().horizontalAdvance(sample) + 4))
    return label
