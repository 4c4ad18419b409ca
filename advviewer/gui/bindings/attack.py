"""The attack controls and the state: target, objective, c, run / minimal c / cancel, progress, the c plot."""

from __future__ import annotations

from collections.abc import Callable

from advviewer.gui.widgets.attack_panel import AttackPanel
from advviewer.session import SessionState
from advviewer.session.choices import describe_objective
from advviewer.session.values import AttackIterate, AttackRequest, ResultView, Runs
from advviewer.text.wording import effort


def status_of(view: ResultView) -> str:
    """Panel 4's status line when no attack runs: why the shown result is stale, why the last attack stopped, or its verdict."""
    r = view.current
    if view.stale is not None or r is None:
        return view.stale or view.stopped or ""
    if view.stopped is not None:
        return f"{view.stopped} The result shown is the earlier one."
    verdict = "fooled the model" if r.success else "did not fool the model"
    return f"Done: {verdict} ({describe_objective(r.objective)}; {effort(r.iterations, r.evaluations, r.seconds)})."


def bind_attack_panel(state: SessionState, panel: AttackPanel, before_attack: Callable[[], None]) -> None:
    """``before_attack`` runs before every attack request (the window gives the pending stroke to the state)."""
    def attack(request: Callable[[], None]) -> Callable[..., None]:
        def run(*_) -> None:
            before_attack()
            request()
        return run

    panel.run_requested.connect(attack(state.run_attack))
    panel.minimal_requested.connect(attack(state.find_minimal_c))
    panel.c_dragged.connect(lambda c: (before_attack(), state.drag_c(c)))
    panel.cancel_requested.connect(state.cancel_attack)
    panel.target_chosen.connect(state.set_target)
    panel.objective_chosen.connect(state.set_objective)
    panel.confidence_chosen.connect(state.set_confidence)

    def started(request: AttackRequest) -> None:
        panel.set_running(True, request.description, target_prob=0.0)

    def progressed(iterate: AttackIterate) -> None:
        p = iterate.progress
        panel.show_status(f"iteration {p.iteration} · c = {p.c:.3g} · ‖r‖₂ = {p.l2:.3f}")
        panel.show_target_prob(p.target_prob)

    def result_changed(view: ResultView) -> None:
        # the status line and the bar speak of the shown result: once the input or the model no
        # longer matches it (or nothing is shown), they must not keep the old verdict beside the new digit
        if not state.attack_running():
            r = view.current
            panel.set_running(False, status_of(view), target_prob=0.0 if r is None else float(r.adversarial_probs[r.target]))

    def show_runs(runs: Runs) -> None:
        panel.c_plot.show_runs(runs.points)

    ev = state.events
    ev.target.connect(panel.show_target)
    ev.objective.connect(panel.show_objective)
    ev.confidence.connect(panel.show_confidence)
    ev.c.connect(panel.show_c)
    ev.attack_started.connect(started)
    ev.attack_progress.connect(progressed)
    ev.attack_stopped.connect(lambda text, error: panel.set_running(False, text))
    ev.result.connect(result_changed)
    ev.runs.connect(show_runs)
    panel.show_target(state.target)
    panel.show_objective(state.objective)
    panel.show_confidence(state.confidence)
    panel.show_c(state.c)
