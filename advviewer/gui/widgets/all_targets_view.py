"""The smallest adversarial for each of the nine other classes, as a grid of clickable tiles with their L2."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from advviewer.gui.widgets.digit_pixmap import digit_pixmap

HINT = "Which classes are close, which far: the smallest change towards each. Click one to show it as the result."


class AllTargetsView(QWidget):
    target_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("all_targets")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="all_targets_status", wordWrap=True)
        layout.addWidget(self.status)
        grid = QGridLayout()
        self.cells: list[QToolButton] = []
        for k in range(9):
            cell = QToolButton(objectName=f"all_targets_cell_{k}")
            cell.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            cell.setIconSize(QSize(56, 56))
            cell.setCheckable(True)
            cell.setAutoRaise(True)
            cell.setEnabled(False)
            cell.setAccessibleName(f"Other class {k + 1} of 9")
            cell.clicked.connect(lambda _=False, c=cell: self.target_clicked.emit(int(c.property("target"))))
            grid.addWidget(cell, k // 3, k % 3)
            self.cells.append(cell)
        layout.addLayout(grid)
        layout.addStretch(1)

    def show_status(self, text: str) -> None:
        self.status.setText(text or HINT)

    def show_targets(self, tiles: list[tuple[int, object, float, bool]], shown: int | None) -> None:
        """``tiles``: (class, adversarial image, L2, fooled) per other class; ``shown``: the class on screen."""
        nearest = min((t for t in tiles if t[3]), key=lambda t: t[2], default=None)
        for cell, (cls, image, l2, ok) in zip(self.cells, tiles):
            cell.setProperty("target", cls)
            cell.setAccessibleName(f"Smallest change towards {cls}")
            cell.setIcon(QIcon(digit_pixmap(image)))
            star = " ★" if nearest is not None and cls == nearest[0] else ""
            cell.setText(f"→ {cls}{star}\nL2 {l2:.2f}" if ok else f"→ {cls}\nnot reached")
            cell.setToolTip(f"The smallest change that makes the model see {cls}: ||r|| = {l2:.3f}"
                            + (" (the nearest class)" if star else "") if ok else f"No change within the budget reached {cls}.")
            cell.setEnabled(ok)
            cell.setChecked(cls == shown)
