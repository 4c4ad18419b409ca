"""The first-run guide: a short banner above the panels, closed for good with its button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class GuideBar(QFrame):
    dismissed = Signal()  # the user closed it: not shown again (the window remembers that)

    def __init__(self, text: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("guide")
        self.setAccessibleName("First-run guide")
        self.setStyleSheet("QFrame#guide {background:#fff8e1; border:1px solid #e0b040; border-radius:4px;}")
        self.label = QLabel(text, objectName="guide_text")
        self.label.setWordWrap(True)
        self.label.setStyleSheet("border:none; background:transparent;")
        button = QPushButton("Got it", objectName="guide_dismiss")
        button.setAccessibleName("Close the guide for good")
        button.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 3, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(button)

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
