"""The result panel and the state: the latest result, whether it still matches, the attack as it forms."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from advviewer.gui.widgets.results_panel import PLACEHOLDER, ResultsPanel
from advviewer.session import SessionState
from advviewer.session.values import AttackIterate, ResultView
from advviewer.text.wording import effort


def bind_results_panel(state: SessionState, panel: ResultsPanel, timing: QLabel) -> None:
    def show(view: ResultView) -> None:
        current = view.current
        # the status bar's figures are the shown result's, in the words panel 4 and 5 use; none while it is stale
        timing.setText("" if current is None else f"attack: {effort(current.iterations, current.evaluations, current.seconds)}")
        if view.shown is None:
            panel.clear(PLACEHOLDER if view.stopped is None else f"<i>No result: {view.stopped}</i><br>{PLACEHOLDER}")
            return
        result = view.shown.result
        panel.show_result(result)  # its summary names the loss the result minimises (the c plot's legend names the same)
        if view.stale is not None:
            panel.mark_stale(view.stale)

    def show_iterate(iterate: AttackIterate) -> None:
        if iterate.perturbation is not None and iterate.progress.adversarial is not None:
            panel.show_iterate(iterate.original, iterate.progress.adversarial, iterate.perturbation)

    state.events.result.connect(show)
    state.events.attack_progress.connect(show_iterate)
