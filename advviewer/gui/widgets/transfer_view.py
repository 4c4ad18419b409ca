"""Does the adversarial fool the other models? Each model's answer on the original and on the adversarial."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from advviewer.gui import palette
from advviewer.text.wording import counted

HINT = "Every model's answer on the original and on the adversarial made for the model in use (forward passes only)."
HEAD = ("model", "original", "adversarial", "fooled?")


class TransferView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transfer")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="transfer_status", wordWrap=True)
        self.table = QTableWidget(0, len(HEAD), objectName="transfer_table")
        self.table.setHorizontalHeaderLabels(HEAD)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

    def show_status(self, text: str) -> None:
        self.status.setText(text or HINT)

    def show_answers(self, rows: list[tuple[str, int, float, int, float, bool]], own: str, target: int) -> None:
        """(model, original class, confidence, adversarial class, confidence, made for it) per model."""
        self.table.setRowCount(len(rows))
        fooled = 0
        for i, (name, a, pa, b, pb, mine) in enumerate(rows):
            changed = a != b
            fooled += changed and not mine
            cells = (name + ("  (attacked)" if mine else ""), f"{a}  ({pa:.0%})", f"{b}  ({pb:.0%})",
                     ("yes, sees the target" if b == target else "yes") if changed else "no")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 3 and changed:
                    item.setForeground(QColor(palette.FOOLED))  # the words say it too: "yes"
                self.table.setItem(i, j, item)
        others = len(rows) - 1
        self.status.setText(f"Made for <b>{own}</b>: it changes the answer of {fooled} of the {counted(others, 'other model')}.")
