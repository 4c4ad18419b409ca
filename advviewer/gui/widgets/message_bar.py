"""A one-line banner above the panels for errors and notices, closed with its button.

Bad input (a file that is not an image, a model of the wrong shape, an unwritable folder) is
reported here rather than in a modal dialog: the message stays readable, the window keeps working.
A message may say what it is about (``topic``): an error about a file goes once a picture has been
opened, and an attack's error once an attack succeeds (:meth:`MessageBar.dismiss`), so a banner
never speaks of a file or an attack the window has moved past.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

FILE = "file"  # a picture that could not be opened
ATTACK = "attack"  # an attack that ended in an error

STYLES = {
    "error": "background:#fde8e8; border:1px solid #d93025; border-radius:4px;",
    "info": "background:#e8f0fe; border:1px solid #4a7bd0; border-radius:4px;",
}


class MessageBar(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("message")
        self.setAccessibleName("Message")
        self.label = QLabel(objectName="message_text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setStyleSheet("border:none; background:transparent;")
        close = QToolButton(objectName="message_close")
        close.setText("✕")
        close.setAccessibleName("Close the message")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 3, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.kind = ""
        self.topic = ""  # what the message is about (FILE, ATTACK), "" for anything else
        self.hide()

    def show_message(self, text: str, kind: str = "error", topic: str = "") -> None:
        self.kind, self.topic = kind, topic
        self.setStyleSheet(f"QFrame#message {{{STYLES[kind]}}}")
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.show()

    def dismiss(self, *topics: str) -> None:
        """Hide the message if it is about one of ``topics`` (the window has moved past it)."""
        if self.isVisible() and self.topic in topics:
            self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
