"""A combo box whose closed face shows an entry's short text (FACE_ROLE), the drop-down its whole text.

The model picker's entries are a name and a plain description ("cnn: small smooth convnet: 2x
(conv 5x5, ...); 1.8% test error"); in a toolbar at 1366 px the closed box cut that off
mid-word ("cnn: small smooth convnet: 2x (c"), and an elided "cnn: small smooth convnet: 2x ..."
still read as a fault. So an entry may carry a short face ("cnn: small smooth convnet") that the
closed box shows whole; the list and the tooltip keep the whole description. A face that still
does not fit (a narrow window, an entry without one) ends in "…" (Qt's recipe: paint the face
elided to the room the style leaves for it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter

FACE_ROLE = Qt.ItemDataRole.UserRole + 1  # an entry's short text for the closed box


class ElidedComboBox(QComboBox):
    def face_text(self) -> str:
        """What the closed box means to show: the current entry's short face, else its text."""
        face = self.currentData(FACE_ROLE)
        return face if isinstance(face, str) and face else self.currentText()

    def elided_text(self) -> str:
        """The face as the closed box shows it (ending in "…" where it does not fit)."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        room = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, self).width()
        return self.fontMetrics().elidedText(self.face_text(), Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self.elided_text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
        painter.end()
