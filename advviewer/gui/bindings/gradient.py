"""The gradient panel and the state: the class and method chosen, backprop's gradient, finite differences."""

from __future__ import annotations

from pathlib import Path

from advviewer.gui.bindings.live_panels import LOADING_MODEL
from advviewer.gui.widgets.gradient_view import GradientView
from advviewer.reading.files import shown
from advviewer.session import SessionState
from advviewer.session.choices import AUTOGRAD
from advviewer.session.values import FiniteDifferences, GradientChoice, LiveEvaluation

PENDING = "Finite differences: computing in the background…"


def bind_gradient_view(state: SessionState, view: GradientView) -> None:
    view.class_chosen.connect(state.set_gradient_class)
    view.method_chosen.connect(state.set_gradient_method)

    def show_choice(choice: GradientChoice) -> None:
        view.show_choice(choice.cls, choice.method)

    def show_evaluation(e: LiveEvaluation) -> None:
        if e.gradient_method == AUTOGRAD:
            view.show_gradient(e.gradient, e.input.pixels, e.gradient_class)
        else:
            view.show_pending(PENDING)

    def show_finite_differences(fd: FiniteDifferences) -> None:
        note = (f"Finite differences vs backprop: relative difference {fd.relative_difference:.2%}, "
                f"correlation {fd.correlation:.5f} ({1e3 * fd.seconds:.0f} ms)")
        view.show_gradient(fd.gradient, fd.input.pixels, fd.gradient_class, note)

    def show_loading(name: str) -> None:
        if state.model is None:
            view.show_pending(f"{LOADING_MODEL} {shown(Path(name).name)}… The gradient appears as soon as it is ready; "
                              "you can draw meanwhile.")

    state.events.model_loading.connect(show_loading)
    state.events.gradient.connect(show_choice)
    state.events.evaluated.connect(show_evaluation)
    state.events.finite_differences.connect(show_finite_differences)
    state.events.finite_differences_failed.connect(lambda message: view.show_pending(f"Finite differences failed: {message}"))
    show_choice(state.gradient)
    if state.model is None and state.loading is not None:
        show_loading(state.loading)
    if state.evaluation is not None:
        show_evaluation(state.evaluation)
