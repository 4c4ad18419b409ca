"""A browsable gallery of the 5,000 bundled MNIST digits, filtered by class."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QButtonGroup, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from advviewer.text.wording import counted

ICON = 56
ALL = -1


class DigitListModel(QAbstractListModel):
    """The bundled digits of one class (or all), drawn lazily as pixmaps."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self._images, self._labels = images, labels
        self._rows = np.arange(len(labels))
        self._cache: dict[int, QPixmap] = {}

    def set_class(self, cls: int) -> None:
        self.beginResetModel()
        self._rows = np.arange(len(self._labels)) if cls == ALL else np.flatnonzero(self._labels == cls)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def dataset_index(self, row: int) -> int:
        return int(self._rows[row])

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        k = self.dataset_index(index.row())
        if role == Qt.ItemDataRole.DecorationRole:
            if k not in self._cache:
                digit = np.ascontiguousarray(self._images[k])
                image = QImage(digit.data, 28, 28, 28, QImage.Format.Format_Grayscale8)
                self._cache[k] = QPixmap.fromImage(image.scaled(
                    ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
            return self._cache[k]
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"bundled MNIST digit #{k}, labelled {int(self._labels[k])}"
        return None


class GalleryDialog(QDialog):
    """Pick a digit: double-click it, or select it and press Open. Shows uint8 (N, 28, 28) images."""

    picked = Signal(int)  # the index of the chosen digit in the bundled set

    def __init__(self, images: np.ndarray, labels: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gallery")
        self.setAccessibleName("Sample digits")
        self.setWindowTitle("Sample digits (bundled MNIST)")
        self.resize(640, 520)
        self.model = DigitListModel(images, labels, self)
        self.view = QListView(objectName="gallery_list")
        self.view.setAccessibleName("Sample digits")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setIconSize(QSize(ICON, ICON))
        self.view.setGridSize(QSize(ICON + 8, ICON + 8))
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setModel(self.model)
        self.view.activated.connect(lambda index: self._pick(index.row()))  # Enter, or a double click

        classes = QHBoxLayout()
        classes.addWidget(QLabel("class:"))
        self._class_buttons = QButtonGroup(self)
        for cls in [ALL, *range(10)]:
            button = QPushButton("all" if cls == ALL else str(cls), objectName=f"gallery_class_{'all' if cls == ALL else cls}")
            button.setAccessibleName("all classes" if cls == ALL else f"class {cls}")
            button.setCheckable(True)
            button.setMaximumWidth(44)
            self._class_buttons.addButton(button, cls + 1)  # ids from 0: -1 would mean 'assign one'
            classes.addWidget(button)
        classes.addStretch(1)
        self._class_buttons.idClicked.connect(lambda i: self.set_class(i - 1))
        self.count = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self._pick_selected)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(classes)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.set_class(ALL)

    def set_class(self, cls: int) -> None:
        self._class_buttons.button(cls + 1).setChecked(True)
        self.model.set_class(cls)
        shown = "all classes" if cls == ALL else f"class {cls}"
        self.count.setText(f"{counted(self.model.rowCount(), 'digit')} ({shown}); arrow keys and Enter, or double-click one to open it")
        self._focus_first()

    def _focus_first(self) -> None:
        """The list has the keyboard at once, on its first digit: arrows move, Enter opens."""
        if self.model.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.model.index(0, 0))
        self.view.setFocus()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._focus_first()

    def _pick_selected(self) -> None:
        rows = self.view.selectionModel().selectedIndexes()
        if rows:
            self._pick(rows[0].row())

    def _pick(self, row: int) -> None:
        k = self.model.dataset_index(row)
        self.picked.emit(k)
        self.accept()
