"""Original | perturbation | adversarial, side by side, with classes, norms and success."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QPushButton, QWidget

from advviewer.gui import palette
from advviewer.gui.widgets.fixed_height import fixed_height, set_lines
from advviewer.gui.widgets.map_view import MapView
from advviewer.session.choices import describe_objective

CAPTIONS = (
    ("original", "Original", "The model's input before the attack (what you drew, framed to 28x28)."),
    ("perturbation", "Perturbation r", "What the attack adds to each pixel. Blue: darker, red: brighter.\n"
                                        "The colour bar gives the scale in pixel units (a pixel is 0..1)."),
    ("adversarial", "Adversarial = original + r", "The image that fools the model. To a person it still looks\n"
                                                  "like the original; the model sees another class."),
)
PLACEHOLDER = ("<b>No attack yet.</b> Pick a target in panel 4 and press <b>Find minimal c</b> (Ctrl+M) or "
               "<b>Run</b> (Ctrl+R): the smallest change that makes the model see another class appears here.")
EMPTY = {"original": "your digit<br>goes here", "perturbation": "the change r<br>the attack adds",
         "adversarial": "the image that<br>fools the model"}


class ResultsPanel(QWidget):
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.views: dict[str, MapView] = {}
        self.class_labels: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for col, (name, caption, tip) in enumerate(CAPTIONS):
            title = QLabel(f"<b>{caption}</b>")
            self.captions[name] = title
            title.setToolTip(tip)
            view = MapView(name, caption, signed=name == "perturbation")
            view.setToolTip(tip)
            label = fixed_height(QLabel(objectName=f"{name}_class", wordWrap=True))
            label.setAccessibleName(f"{caption}: predicted class")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(title, 0, col, alignment=Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(view, 1, col)
            layout.addWidget(label, 2, col)
            self.views[name], self.class_labels[name] = view, label
            layout.setColumnStretch(col, 6 if name == "perturbation" else 5)  # room for the colour bar: images of one size
        self.magnify = QCheckBox("magnify r (scale to its largest pixel)", objectName="magnify")
        self.magnify.setAccessibleName("Magnify the perturbation")
        self.magnify.setToolTip("On: colours span ±max|r|, so even a faint perturbation is visible.\n"
                                "Off: colours span ±1, the true scale of a pixel.")
        self.magnify.setChecked(True)
        self.magnify.toggled.connect(self._rescale)
        self.summary = QLabel(PLACEHOLDER, objectName="result_summary")
        self.summary.setWordWrap(True)
        fixed_height(self.summary, lines=3)
        self.summary.setAccessibleName("Attack result summary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.export_button = QPushButton("Export…", objectName="export")
        self.export_button.setAccessibleName("Export the adversarial image and its record")
        self.export_button.setToolTip("Save the adversarial image (28x28 and enlarged PNG), the perturbation,\n"
                                      "a float .npy and a JSON record into a folder (Ctrl+E)")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_requested)
        layout.addWidget(self.magnify, 3, 0, 1, 2)
        layout.addWidget(self.export_button, 3, 2, alignment=Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.summary, 4, 0, 1, 3)
        self.details: list[QWidget] = [self.magnify, self.export_button]  # hidden in presentation mode
        layout.setRowStretch(1, 1)
        self.brief = False  # presentation mode: the summary without the distortion, how c was found and the objective
        self._result = None  # the result the summary speaks of, if it does
        self.clear()

    def set_presentation_scale(self, scale: float) -> None:
        """The three pictures' text at ``scale`` (1: as built); the labels follow the window's font.

        In large text each picture's answer takes two lines, and the summary only the verdict and the sizes.
        """
        for view in self.views.values():
            view.set_presentation_scale(scale)
        for label in self.class_labels.values():
            set_lines(label, 1 if scale == 1 else 2)
        for name, caption, _ in CAPTIONS:  # in large text the panel's title says "original + perturbation = adversarial"
            self.captions[name].setText(f"<b>{caption if scale == 1 else caption.split(' =')[0]}</b>")
        self.brief = scale != 1
        if self._result is not None:
            self.show_result(self._result)

    def _limit(self) -> float | None:
        return None if self.magnify.isChecked() else 1.0

    def _rescale(self) -> None:
        self.views["perturbation"].relevel(self._limit())

    def clear(self, message: str = PLACEHOLDER) -> None:
        self._result = None
        for name, view in self.views.items():
            view.clear_image(EMPTY[name])
            self.class_labels[name].setText("")
        self.summary.setText(message)
        self.export_button.setEnabled(False)

    def mark_stale(self, message: str) -> None:
        """Keep the pictures but say they no longer match the input, model or target."""
        self._result = None
        self.summary.setText(f"<i>{message}</i>")
        self.export_button.setEnabled(False)

    def show_iterate(self, original: np.ndarray, adversarial: np.ndarray, perturbation: np.ndarray) -> None:
        """The attack's current image while it runs, so the user sees the perturbation form."""
        self.views["original"].set_gray(original)
        self.views["adversarial"].set_gray(adversarial)
        self.views["perturbation"].set_signed(perturbation, self._limit())

    def show_playback_step(self, original: np.ndarray, adversarial: np.ndarray, step: int, last: int) -> None:
        """Step ``step`` of the attack's path (0: where it started, ``last``: the result), borrowed by playback."""
        perturbation = adversarial - original
        self._result = None
        self.show_iterate(original, adversarial, perturbation)
        self.class_labels["perturbation"].setText(f"largest change ±{float(np.abs(perturbation).max()):.3f}")
        self.class_labels["adversarial"].setText(f"playback: step {step} of {last}")
        self.summary.setText(
            f"<i>Playback: the attack's image at step {step} of {last} of its path (step 0: where it started), "
            f"‖r‖₂ = {float(np.linalg.norm(perturbation)):.3f}. Scrub to the end, or leave the Playback tab, "
            "to see the result again.</i>")
        self.export_button.setEnabled(False)

    def show_result(self, result) -> None:
        """An AttackResult: its original, perturbation and adversarial image, classes, norms, verdict."""
        self.views["original"].set_gray(result.original)
        self.views["adversarial"].set_gray(result.adversarial)
        self.views["perturbation"].set_signed(result.perturbation, self._limit())
        p0, p1 = np.asarray(result.original_probs), np.asarray(result.adversarial_probs)
        self.class_labels["original"].setText(f"model sees <b>{result.original_class}</b> ({p0[result.original_class]:.1%})")
        self.class_labels["perturbation"].setText(f"largest change ±{result.linf:.3f}")
        # the c plot's shapes and colours: a blue dot if it fooled the model, a vermillion cross if not
        colour, glyph = (palette.FOOLED, palette.FOOLED_GLYPH) if result.success else (palette.NOT_FOOLED, palette.NOT_FOOLED_GLYPH)
        said = palette.coloured(f"{glyph} <b>{result.adversarial_class}</b>", colour)
        self.class_labels["adversarial"].setText(f"model sees {said} ({p1[result.adversarial_class]:.1%})")
        goal = "any other class" if getattr(result, "untargeted", False) else f"class {result.target}"
        if getattr(result, "confidence", None) is not None:
            goal += f" at least {100 * result.confidence:g}% sure"
        verdict = (f"<b style='color:{colour}'>{'Fooled' if result.success else 'Not fooled'}</b> "
                   f"({result.original_class} → {result.adversarial_class}, goal: {goal}).")
        if getattr(result, "mode", "") == "minimal" and result.success:
            how = f"c = {result.c:.3g}: the smallest c that fools it, just across the boundary (larger: a surer mistake)"
        else:
            how = f"c = {result.c:.3g}" + ("" if result.success else ": too weak a pull, drag c up")
        self._result = result
        sizes = f"‖r‖₂ = {result.l2:.3f}, ‖r‖∞ = {result.linf:.3f}"
        # three lines at the narrowest panel 5 (657 px beside the docked Explore dock): one flowing paragraph; the
        # solver's effort is in panel 4's status line and the status bar
        self.summary.setText(f"{verdict} &nbsp; {sizes}, c = {result.c:.3g}." if self.brief else
                             f"{verdict} &nbsp; {sizes}, distortion = {result.distortion:.4f} (the paper's ‖r‖₂/28). "
                             f"{how}. Objective: {describe_objective(result.objective, long=True)}.")
        self.export_button.setEnabled(True)
