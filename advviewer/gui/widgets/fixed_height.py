"""Labels whose text changes often (progress, timings), sized so a new text never re-lays out the window.

A QLabel's size hint follows its text; in a layout, every change (a progress line 30 times a
second) would re-lay out the whole window and repaint every plot. A fixed-height label takes the
width the layout gives it and a fixed number of lines.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


def fixed_height(label: QLabel, lines: int = 1) -> QLabel:
    """``label`` made as wide as its layout gives and ``lines`` lines high, whatever its text."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    margins = label.contentsMargins()
    label.setFixedHeight(lines * label.fontMetrics().lineSpacing() + margins.top() + margins.bottom() + 2)
    return label
