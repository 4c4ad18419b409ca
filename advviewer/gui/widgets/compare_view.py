"""L-BFGS beside FGSM and DDN on the same digit and target: the numbers and the three perturbations."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from advviewer.gui import palette
from advviewer.gui.palette import diverging_colormap
from advviewer.gui.widgets.map_view import MapView, nice_limit

HINT = ("The same digit and target, three attacks: FGSM (one signed gradient step, Goodfellow et al. 2015), "
        "DDN (a modern minimal-L2 attack, Rony et al. 2019) and L-BFGS.")
ROWS = ("fooled", "‖r‖₂", "‖r‖∞", "model evaluations", "time")


class CompareView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="compare_status", wordWrap=True)
        layout.addWidget(self.status)
        grid = QGridLayout()
        self.titles: list[QLabel] = []
        self.maps: list[MapView] = []
        self.cells: list[list[QLabel]] = []
        for col in range(3):
            title = QLabel("", alignment=Qt.AlignmentFlag.AlignCenter)
            # one scale for all three, stated above them: three colour bars would take the width the maps need
            view = MapView(f"compare_perturbation_{col}", "perturbation")
            view.image.setLookupTable(diverging_colormap().getLookupTable(nPts=256))
            view.setMinimumSize(90, 90)
            view.setMaximumHeight(180)
            grid.addWidget(title, 0, col + 1)
            grid.addWidget(view, 1, col + 1)
            self.titles.append(title)
            self.maps.append(view)
        for row, name in enumerate(ROWS):
            grid.addWidget(QLabel(name), row + 2, 0)
            labels = [QLabel("", alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(3)]
            for col, label in enumerate(labels):
                grid.addWidget(label, row + 2, col + 1)
            self.cells.append(labels)
        layout.addLayout(grid)
        layout.addStretch(1)

    def show_status(self, text: str) -> None:
        self.status.setText(text or HINT)

    def show_attacks(self, attacks: list[tuple[str, np.ndarray, bool, float, float, int, float]], target: int) -> None:
        """(name, perturbation, fooled, L2, Linf, evaluations, seconds) per attack; one colour scale for all three."""
        limit = nice_limit(max(float(np.abs(a[1]).max()) for a in attacks))
        for col, (name, r, ok, l2, linf, evals, seconds) in enumerate(attacks):
            self.titles[col].setText(f"<b>{name}</b>")
            self.maps[col].set_signed(r, limit)
            verdict = (f"{palette.FOOLED_GLYPH} yes", palette.FOOLED) if ok else (f"{palette.NOT_FOOLED_GLYPH} no", palette.NOT_FOOLED)
            values = (palette.coloured(*verdict), f"{l2:.3f}", f"{linf:.3f}",
                      f"{evals:,}", f"{seconds * 1e3:.0f} ms")
            for row, text in enumerate(values):
                self.cells[row][col].setText(text)
        self.status.setText(f"Towards <b>{target}</b>. Perturbations on one scale: "
                            f"{palette.coloured(f'blue −{limit:g}', palette.SIGNED_NEGATIVE)} (darker), white 0, "
                            f"{palette.coloured(f'red +{limit:g}', palette.SIGNED_POSITIVE)} (brighter). Evaluations: forward passes of one image.")
