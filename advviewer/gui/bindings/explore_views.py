"""The "Explore this result" views and the state's ExploreState: values in, intents out."""

from __future__ import annotations

from advviewer.gui.widgets.explore_views import ExploreViews
from advviewer.gui.widgets.models_view import ModelPanel
from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.session import SessionState
from advviewer.session.explore import AllTargets, PlaybackFrame


def bind_explore_views(state: SessionState, dock: ExploreViews, results: ResultsPanel) -> None:
    explore = state.explore

    def show_all_targets(value: AllTargets) -> None:
        dock.all_targets.show_targets([(r.target, r.adversarial, r.l2, r.success) for r in value.results], value.shown_target)

    def show_transfer(answers) -> None:
        shown = explore.shown
        own = shown.model.display_name if shown is not None else ""
        dock.transfer.show_answers([(a.model, a.original_class, a.original_confidence, a.adversarial_class,
                                     a.adversarial_confidence, a.model == own) for a in answers], own,
                                   shown.result.target if shown is not None else -1)

    def show_compare(comparison) -> None:
        r = comparison.lbfgs
        rows = [(b.name, b.perturbation, b.success, b.l2, b.linf, b.evaluations, b.seconds) for b in comparison.others]
        rows.append(("L-BFGS", r.perturbation, r.success, r.l2, r.linf, r.evaluations, r.seconds))
        dock.compare.show_attacks(rows, r.target)

    def show_noise(check) -> None:
        shown = explore.shown
        dock.noise_check.show_draws(check.images, check.classes, check.confidences, check.original_class, check.l2,
                                    shown.result.adversarial_class if shown is not None else -1)

    def show_models(compared) -> None:
        shown = explore.shown
        own = shown.model.display_name if shown is not None else ""
        panels = tuple(ModelPanel(side.name, side.name == own, side.result.adversarial, side.result.perturbation,
                                  side.result.l2, side.result.adversarial_class,
                                  float(side.result.adversarial_probs[side.result.adversarial_class]), side.read_by_other_as)
                       for side in compared.sides)
        dock.models.show_models(panels, compared.target)

    def show_frame(frame: PlaybackFrame) -> None:
        dock.playback.show_frame(frame.index)
        if not frame.is_result:  # the last step: the session shows its result again (ExploreState.set_frame)
            results.show_playback_step(frame.original, frame.adversarial, frame.index, frame.count - 1)

    def show_status(view: str, text: str) -> None:
        getattr(dock, view).show_status(text)

    explore.events.status.connect(show_status)
    explore.events.all_targets.connect(show_all_targets)
    explore.events.transfer.connect(show_transfer)
    explore.events.playback.connect(lambda t: dock.playback.show_curves(t.l2, t.margin))
    explore.events.frame.connect(show_frame)
    explore.events.compare.connect(show_compare)
    explore.events.noise_check.connect(show_noise)
    explore.events.models.connect(show_models)
    explore.events.stale.connect(dock.show_stale)
    dock.all_targets.target_clicked.connect(explore.choose_target)
    dock.playback.frame_requested.connect(explore.set_frame)
    dock.noise_check.redraw_requested.connect(explore.draw_noise_again)
    dock.view_shown.connect(explore.set_active)
