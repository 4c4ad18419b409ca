"""A combo box whose closed face ends in "…" when its text does not fit (the drop-down shows it whole).

The model picker's entries are a name and a plain description ("cnn: small smooth convnet: 2x
(conv 5x5, ...); 1.1% test error"); in a toolbar at 1366 px the closed box cut that off
mid-word ("cnn: small smooth convnet: 2x (c"), which read as a fault. Qt's own recipe: paint the
face with the current text elided to the room the style leaves for it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter


class ElidedComboBox(QComboBox):
    def elided_text(self) -> str:
        """The current text as the closed box shows it."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        room = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                           QStyle.SubControl.SC_ComboBoxEditField, self).width()
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self.elided_text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
        painter.end()
