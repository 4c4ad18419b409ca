"""The result panel and the state: the latest result, whether it still matches, the attack as it forms."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.session import SessionState
from advviewer.session.values import AttackIterate, FinishedAttack, ResultView
from advviewer.wording import counted


def bind_results_panel(state: SessionState, panel: ResultsPanel, timing: QLabel) -> None:
    def show(view: ResultView) -> None:
        if view.shown is None:
            panel.clear()
            return
        panel.show_result(view.shown.result)
        if view.stale is not None:
            panel.mark_stale(view.stale)

    def show_iterate(iterate: AttackIterate) -> None:
        if iterate.perturbation is not None and iterate.progress.adversarial is not None:
            panel.show_iterate(iterate.original, iterate.progress.adversarial, iterate.perturbation)

    def show_timing(item: FinishedAttack) -> None:
        timing.setText(f"attack {item.result.seconds:.2f} s, {counted(item.result.iterations, 'iteration')}")

    state.events.result.connect(show)
    state.events.attack_progress.connect(show_iterate)
    state.events.attack_finished.connect(show_timing)
