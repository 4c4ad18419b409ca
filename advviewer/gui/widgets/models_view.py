"""Compare models: the shown digit attacked towards the same target on a standard and a robust model, side by side.

Each side shows its model's minimal adversarial, its perturbation, ‖r‖₂, the model's answer and how
the *other* model reads this adversarial. The two perturbations share one colour scale (stated
above them, as in the Compare tab), so the larger change looks larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from advviewer.gui import palette
from advviewer.gui.palette import diverging_colormap
from advviewer.gui.widgets.map_view import MapView, nice_limit

HINT = ("The same digit and target attacked on a standard model and an adversarially trained (robust) one: "
        "the robust model needs a larger change, and its adversarial starts to look like the target.")
ROWS = ("‖r‖₂", "model sees", "the other model sees")


@dataclass(frozen=True)
class ModelPanel:
    """One model's column: its minimal attack and how the other model reads its adversarial."""

    name: str
    in_use: bool  # the model of the result on screen
    adversarial: np.ndarray  # (28, 28) in [0, 1]
    perturbation: np.ndarray  # (28, 28) signed
    l2: float
    answer: int  # the model's class on its own adversarial
    probability: float  # the model's probability of that class
    read_by_other_as: int  # the other model's class on this adversarial


class ModelsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("models")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="models_status", wordWrap=True)
        self.stale = QLabel("", objectName="models_stale", wordWrap=True)
        self.stale.hide()
        layout.addWidget(self.status)
        layout.addWidget(self.stale)
        grid = QGridLayout()
        self.titles: list[QLabel] = []
        self.adversarials: list[MapView] = []
        self.maps: list[MapView] = []
        self.cells: list[list[QLabel]] = [[] for _ in ROWS]
        for col in range(2):
            title = QLabel("", alignment=Qt.AlignmentFlag.AlignCenter)
            adversarial = MapView(f"models_adversarial_{col}", "adversarial image")
            # no colour bar: one scale for both, stated above them (two bars would take the maps' width)
            perturbation = MapView(f"models_perturbation_{col}", "perturbation")
            perturbation.image.setLookupTable(diverging_colormap().getLookupTable(nPts=256))
            for view in (adversarial, perturbation):
                view.setMinimumSize(90, 90)
                view.setMaximumHeight(180)
            grid.addWidget(title, 0, col + 1)
            grid.addWidget(adversarial, 1, col + 1)
            grid.addWidget(perturbation, 2, col + 1)
            self.titles.append(title)
            self.adversarials.append(adversarial)
            self.maps.append(perturbation)
        grid.addWidget(QLabel("adversarial"), 1, 0)
        grid.addWidget(QLabel("change r"), 2, 0)
        for row, name in enumerate(ROWS):
            grid.addWidget(QLabel(name), row + 3, 0)
            for col in range(2):
                label = QLabel("", alignment=Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(label, row + 3, col + 1)
                self.cells[row].append(label)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.clear()

    def clear(self) -> None:
        """Nothing shown: the panels are empty until the comparison for the result on screen arrives."""
        for col in range(2):
            self.titles[col].setText("")
            self.adversarials[col].clear_image()
            self.maps[col].clear_image()  # its light grey fill would be a red tint under the diverging map: white 0
            self.maps[col].image.setImage(np.zeros((28, 28), np.float32), autoLevels=False, levels=(-1.0, 1.0))
            for row in self.cells:
                row[col].setText("")
        self.shown = False

    def show_status(self, text: str) -> None:
        """What the tab is doing ("" when its data arrived); while it works, nothing of an earlier result stays."""
        if text:
            self.clear()
        self.status.setText(text or HINT)

    def show_stale(self, reason: str | None) -> None:
        """Mark the panels out of date (``reason``: why, as panel 5 says it), or current again (None)."""
        self.stale.setText(f"<b>Out of date</b> (this is the digit of panel 5): {escape(reason)}" if reason else "")
        self.stale.setVisible(bool(reason))
        for col in range(2):
            for view in (self.adversarials[col], self.maps[col]):
                view.setEnabled(not reason)

    def show_models(self, panels: tuple[ModelPanel, ModelPanel], target: int) -> None:
        """Both columns; the two perturbations on one colour scale: the larger max |r| of the two, rounded up."""
        limit = nice_limit(max(float(np.abs(p.perturbation).max()) for p in panels))
        for col, panel in enumerate(panels):
            self.titles[col].setText(f"<b>{panel.name}</b>" + (" (in use)" if panel.in_use else ""))
            self.adversarials[col].set_gray(panel.adversarial)
            self.maps[col].set_signed(panel.perturbation, limit)
            values = (f"{panel.l2:.3f}", f"{panel.answer} ({panel.probability:.1%})", self._reading(panel, target))
            for row, text in enumerate(values):
                self.cells[row][col].setText(text)
        ratio = panels[1].l2 / panels[0].l2 if panels[0].l2 > 0 else float("inf")
        self.status.setText(
            f"Towards <b>{target}</b>: {panels[1].name} needs {ratio:.1f}× the change of {panels[0].name}. "
            f"Changes on one scale: {palette.coloured(f'blue −{limit:g}', palette.SIGNED_NEGATIVE)} (darker), white 0, "
            f"{palette.coloured(f'red +{limit:g}', palette.SIGNED_POSITIVE)} (brighter).")
        self.shown = True

    @staticmethod
    def _reading(panel: ModelPanel, target: int) -> str:
        seen = str(panel.read_by_other_as)
        return f"{seen} (the target)" if panel.read_by_other_as == target else seen
