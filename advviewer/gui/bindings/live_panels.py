"""The live evaluation to the panels that show it: the 28x28 preview, the probabilities (and the adversarial's), the timing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from advviewer.gui.widgets.input_panel import InputPanel
from advviewer.gui.widgets.probability_plot import ProbabilityPlot
from advviewer.reading.files import shown
from advviewer.session import SessionState
from advviewer.session.values import InputImage, LiveEvaluation, ResultView

LOADING_MODEL = "Loading the model"  # shown until the first model is in use (what is drawn meanwhile is evaluated then)
NO_MODEL = "No model loaded: pick one above or open a model file (Ctrl+Shift+O)"


def bind_live_panels(state: SessionState, inputs: InputPanel, probabilities: ProbabilityPlot, timing: QLabel) -> None:
    def show_framed(image: InputImage) -> None:
        """While the first model loads, the preview still shows what it will see (its answer comes with it)."""
        if state.model is None:
            inputs.show_framed(image.pixels, "waiting for the model…")

    def show_input(e: LiveEvaluation) -> None:
        inputs.show_input(e.input.pixels, e.predicted, float(e.probs[e.predicted]), e.blank)

    def show_probabilities(e: LiveEvaluation) -> None:
        probabilities.set_probabilities(e.probs, e.target)

    def show_timing(e: LiveEvaluation) -> None:
        timing.setText(f"live update {e.preprocess_ms + e.model_ms:.1f} ms (framing {e.preprocess_ms:.1f} + model {e.model_ms:.1f})")

    def show_adversarial(view: ResultView) -> None:
        """The adversarial's probabilities beside the original's, only while its result is current."""
        result = view.current
        if result is None:
            probabilities.set_adversarial(None)
        else:
            probabilities.set_adversarial(result.adversarial_probs, result.adversarial_class, fooled=bool(result.success))

    def show_loading(name: str) -> None:
        """Before the first model is in use (torch loads with it, a few seconds on a cold start)."""
        if state.model is None:
            probabilities.show_note(f"{LOADING_MODEL} {shown(Path(name).name)}…")

    def show_refused(message: str, kept: object) -> None:
        if kept is None and state.loading is None:
            probabilities.show_note(NO_MODEL)

    for show in (show_input, show_probabilities, show_timing):
        state.events.evaluated.connect(show)
    state.events.input.connect(show_framed)
    state.events.result.connect(show_adversarial)
    state.events.model_loading.connect(show_loading)
    state.events.model_refused.connect(show_refused)
    if state.model is None and state.loading is not None:
        show_loading(state.loading)
    if state.evaluation is not None:
        for show in (show_input, show_probabilities, show_timing):
            show(state.evaluation)
