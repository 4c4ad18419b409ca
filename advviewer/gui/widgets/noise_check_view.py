"""The paper's control: random noise of the same L2 as the shown perturbation, and what the model says."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from advviewer.gui import palette
from advviewer.gui.widgets.digit_pixmap import digit_pixmap

HINT = ("Is it just any small change that fools the model? Random noise of the same size (L2), inside the pixel range. "
        f"{palette.CHANGED_GLYPH}: the noise changed the model's answer.")


class NoiseCheckView(QWidget):
    redraw_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noise_check")
        layout = QVBoxLayout(self)
        self.status = QLabel(HINT, objectName="noise_check_status", wordWrap=True)
        self.summary = QLabel("", objectName="noise_check_summary", wordWrap=True)
        self.redraw = QPushButton("Draw again", objectName="noise_check_redraw")
        self.redraw.clicked.connect(self.redraw_requested)
        grid = QGridLayout()
        self.tiles: list[tuple[QLabel, QLabel]] = []
        for k in range(8):
            image, answer = QLabel(alignment=Qt.AlignmentFlag.AlignCenter), QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(image, 2 * (k // 4), k % 4)
            grid.addWidget(answer, 2 * (k // 4) + 1, k % 4)
            self.tiles.append((image, answer))
        for w in (self.status, self.summary):
            layout.addWidget(w)
        layout.addLayout(grid)
        layout.addWidget(self.redraw, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_status(self, text: str) -> None:
        self.status.setText(text or HINT)

    def show_draws(self, images, classes, confidences, original_class: int, l2: float, adversarial_class: int) -> None:
        kept = 0
        for (image, answer), x, cls, p in zip(self.tiles, images, classes, confidences):
            image.setPixmap(digit_pixmap(x, 56))
            same = int(cls) == original_class
            kept += same
            # a changed answer has an arrow before it, not only another colour
            said = f"<b>{int(cls)}</b>" if same else palette.coloured(f"{palette.CHANGED_GLYPH}{int(cls)}", palette.FOOLED, bold=True)
            answer.setText(f"{said} {float(p):.0%}")
        self.summary.setText(f"Noise with ‖r‖₂ = {l2:.3f}, the attack's size: the model still sees <b>{original_class}</b> "
                             f"in <b>{kept} of {len(classes)}</b> draws. The attack's change of the same size: "
                             f"<b>{adversarial_class}</b>.")
