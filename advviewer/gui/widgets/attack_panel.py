"""Attack controls: target, objective, a logarithmic c slider, Run / Find minimal c / Cancel, progress."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QProgressBar, QPushButton, QSlider, QWidget

from advviewer.gui.widgets.c_plot import CPlot
from advviewer.gui.widgets.fixed_height import fixed_height, fixed_width, follow_font
from advviewer.session.choices import CONFIDENCES, OBJECTIVES, describe_confidence, describe_objective, describe_target

STEPS_PER_DECADE = 20
TARGETS: tuple[int | None, ...] = (None, *range(10))  # None: any class but the original (untargeted)

# c weighs the perturbation's size against the classification loss (see advviewer.attack)
C_MIN, C_MAX = 1e-3, 1e3
C_HELP = ("c sets how hard the attack pushes towards the target: it weighs the classification loss\n"
          "against the size of the perturbation. Larger c: stronger push, bigger perturbation, more\n"
          "likely to fool the model. Smaller c: smaller perturbation, may not fool it.\n"
          "Dragging the slider re-runs the attack at each value.")
CONFIDENCE_HELP = ("How sure of the target the attack makes the model.\n"
                   "Just across the boundary: the smallest change of all (the paper's), the target just ahead (about 50%).\n"
                   "At least 90% / 99% sure: the smallest change that makes the model answer the target that surely\n"
                   "(a convincing slide); the change is larger.")
OBJECTIVE_HELP = ("Objective: paper's loss (cross-entropy) / rival loss (target against its strongest rival).\n"
                  "What Run, Find minimal c and the slider minimise: ||r||^2 + c * loss.\n"
                  "Paper's loss: the cross-entropy of the softmax against the target, Szegedy et al.'s definition.\n"
                  "Rival loss: the target against its strongest rival only; its minimal perturbations are smaller.\n"
                  "Results and the c plot show one objective at a time.")


def c_to_position(c: float) -> int:
    c = min(max(c, C_MIN), C_MAX)
    return round(math.log10(c / C_MIN) * STEPS_PER_DECADE)


def position_to_c(position: int) -> float:
    return float(C_MIN * 10 ** (position / STEPS_PER_DECADE))


def format_c(c: float) -> str:
    return f"{c:.3g}" if 1e-3 <= c < 1e4 else f"{c:.2e}"


class AttackPanel(QWidget):
    run_requested = Signal()
    minimal_requested = Signal()
    cancel_requested = Signal()
    c_dragged = Signal(float)  # the slider moved (by the user): re-run live at this c
    target_chosen = Signal(object)  # None (any other class) or 0..9
    objective_chosen = Signal(str)  # choices.OBJECTIVES
    confidence_chosen = Signal(object)  # choices.CONFIDENCES: None or a probability

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target_box = QComboBox(objectName="target")
        self.target_box.setAccessibleName("Attack target class")
        self.target_box.setToolTip("The class the attack should make the model see.\n"
                                   "'any other class': whichever wrong class is easiest.")
        for target in TARGETS:
            self.target_box.addItem(describe_target(target))
        self.target_box.currentIndexChanged.connect(lambda index: self.target_chosen.emit(TARGETS[index]))

        self.objective_box = QComboBox(objectName="objective")
        self.objective_box.setAccessibleName("Attack objective: the loss the attack minimises")
        self.objective_box.setToolTip(OBJECTIVE_HELP)
        for objective in OBJECTIVES:
            self.objective_box.addItem(describe_objective(objective, long=True), objective)
        self.objective_box.currentIndexChanged.connect(lambda index: self.objective_chosen.emit(OBJECTIVES[index]))

        self.confidence_box = QComboBox(objectName="confidence")
        self.confidence_box.setAccessibleName("How sure of the target the attack makes the model")
        self.confidence_box.setToolTip(CONFIDENCE_HELP)
        for confidence in CONFIDENCES:  # short: the box shares the bar's row (its tooltip and list say more)
            self.confidence_box.addItem("just across" if confidence is None else f"≥ {100 * confidence:g}% sure", confidence)
            self.confidence_box.setItemData(self.confidence_box.count() - 1, describe_confidence(confidence),
                                            Qt.ItemDataRole.ToolTipRole)

        self.confidence_box.currentIndexChanged.connect(lambda index: self.confidence_chosen.emit(CONFIDENCES[index]))

        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="c_slider")
        self.slider.setAccessibleName("Attack constant c (logarithmic)")
        self.slider.setToolTip(C_HELP)
        self.slider.setRange(0, c_to_position(C_MAX))
        self.slider.setPageStep(STEPS_PER_DECADE // 2)
        self.slider.setTickInterval(STEPS_PER_DECADE)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.c_label = QLabel(objectName="c_value")
        self.c_label.setAccessibleName("Value of c")
        fixed_width(self.c_label, "c = 0.000000")
        self.c_label.setToolTip(C_HELP)
        self.slider.valueChanged.connect(self._slider_moved)

        self.run_button = QPushButton("Run", objectName="run")
        self.run_button.setAccessibleName("Run the attack at this c")
        self.run_button.setToolTip("Run the L-BFGS attack at the c on the slider (Ctrl+R)")
        self.minimal_button = QPushButton("Find minimal c", objectName="find_minimal_c")
        self.minimal_button.setAccessibleName("Find the smallest perturbation")
        self.minimal_button.setToolTip("Search c for the smallest perturbation that still fools the model,\n"
                                       "as in the paper (Ctrl+M)")
        self.cancel_button = QPushButton("Cancel", objectName="cancel")
        self.cancel_button.setAccessibleName("Cancel the attack")
        self.cancel_button.setToolTip("Stop the running attack (Esc)")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_requested)
        self.minimal_button.clicked.connect(self.minimal_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

        self.progress = QProgressBar(objectName="attack_progress")
        self.progress.setAccessibleName("Attack progress: the model's probability of the target")
        self.progress.setToolTip("While the attack runs: how sure the model is of the target class at the attack's\n"
                                 "current image. The model is fooled once the target is its most likely class.")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("p(target) %p%")
        follow_font(self.progress, lambda bar: bar.setMaximumHeight(max(16, bar.fontMetrics().height() + 2)))
        self.status = fixed_height(QLabel("Ready.", objectName="attack_status"), lines=2)
        self.status.setWordWrap(True)  # a refusal ("... choose another target") is read in full
        self.status.setAccessibleName("Attack status")

        self._grid = layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("target:"), 0, 0)
        layout.addWidget(self.target_box, 0, 1)
        layout.addWidget(self.run_button, 0, 2)
        layout.addWidget(self.minimal_button, 0, 3)
        layout.addWidget(self.cancel_button, 0, 4)
        c_title = QLabel("c:")
        c_title.setToolTip(C_HELP)
        layout.addWidget(c_title, 1, 0)
        layout.addWidget(self.slider, 1, 1, 1, 3)
        layout.addWidget(self.c_label, 1, 4)
        objective_title = QLabel("objective:")
        objective_title.setToolTip(OBJECTIVE_HELP)
        layout.addWidget(objective_title, 2, 0)
        # hidden in presentation mode: Space, Up/Down and T do the talk; changing the target stops an attack
        # (and the status line's solver details: panel 5 gives the verdict, the bar p(target) while it runs)
        self.details: list[QWidget] = [objective_title, self.objective_box, self.confidence_box, self.cancel_button,
                                       self.status]
        layout.addWidget(self.objective_box, 2, 1, 1, 4)
        layout.addWidget(self.progress, 3, 0, 1, 4)
        layout.addWidget(self.confidence_box, 3, 4)  # how sure, beside the bar of p(target) (the panel keeps its height)
        layout.addWidget(self.status, 4, 0, 1, 5)
        self.c_plot = CPlot()
        layout.addWidget(self.c_plot, 5, 0, 1, 5)
        layout.setRowStretch(5, 1)

    def set_presentation_scale(self, scale: float) -> None:
        """The c plot at ``scale`` (1: as built); the controls follow the window's font.

        In presentation mode Run and Find minimal c move to the objective's row (hidden then): beside the
        target box, large text would make the panel wider than a third of a 1280-pixel screen.
        """
        self.c_plot.set_presentation_scale(scale)
        presenting = scale != 1
        places = {self.target_box: (0, 1, 1, 4) if presenting else (0, 1, 1, 1),  # (row, column, rows, columns)
                  self.run_button: (2, 1, 1, 1) if presenting else (0, 2, 1, 1),
                  self.minimal_button: (2, 2, 1, 3) if presenting else (0, 3, 1, 1)}
        for widget, place in places.items():
            self._grid.removeWidget(widget)
            self._grid.addWidget(widget, *place)

    def show_confidence(self, confidence: float | None) -> None:
        """Show the state's confidence (no signal: only the user's picks are intents)."""
        self.confidence_box.blockSignals(True)
        self.confidence_box.setCurrentIndex(CONFIDENCES.index(confidence))
        self.confidence_box.blockSignals(False)

    def show_target(self, target: int | None) -> None:
        """Show the state's target (no signal: only the user's picks are intents)."""
        self.target_box.blockSignals(True)
        self.target_box.setCurrentIndex(TARGETS.index(target))
        self.target_box.blockSignals(False)

    def show_objective(self, objective: str) -> None:
        """Show the state's objective in the box and the c plot's legend (no signal: only the user's picks are intents)."""
        self.objective_box.blockSignals(True)
        self.objective_box.setCurrentIndex(OBJECTIVES.index(objective))
        self.objective_box.blockSignals(False)
        self.c_plot.set_objective(objective)

    def show_c(self, c: float) -> None:
        """Show the state's c on the slider, its label and the plot's cursor, without re-running."""
        self.slider.blockSignals(True)
        self.slider.setValue(c_to_position(c))
        self.slider.blockSignals(False)
        self.c_label.setText(f"c = {format_c(c)}")
        self.c_plot.set_cursor(c)

    def step_c(self, steps: int) -> None:
        """Move the slider by ``steps`` as a drag would (Ctrl+Up/Down)."""
        self.slider.setValue(self.slider.value() + steps)

    def _slider_moved(self, position: int) -> None:
        self.c_dragged.emit(position_to_c(position))

    def set_running(self, running: bool, text: str | None = None, target_prob: float | None = None) -> None:
        """Cancel is enabled while an attack runs; the status line says what happens (None: keeps its text)."""
        self.cancel_button.setEnabled(running)
        if target_prob is not None:
            self.show_target_prob(target_prob)
        if text is not None:
            self.status.setText(text)

    def show_target_prob(self, p: float) -> None:
        self.progress.setValue(round(100 * min(max(p, 0.0), 1.0)))

    def show_status(self, text: str) -> None:
        self.status.setText(text)
