"""ExploreState: the data of the "Explore this result" views, computed for the result on screen.

It follows ``SessionState.events.result`` and computes only the view the user looks at
(``set_active``; None when the views are hidden): one background lane, newest first, so a slider
drag or a new stroke never queues work for views nobody sees. The attack the user is waiting for
comes first: the views' work waits while an attack runs (an attack starting cancels it; it
starts again with the next result, after SETTLE_SECONDS without another) and its thread runs at a
lower priority than the attack's. A view's data is kept with the
result (or, for all targets, the input and model) it was made for and not computed twice.
Clicking an all-targets cell makes that attack the session's shown result (``choose_target``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from advviewer.errors import Cancelled
from advviewer.session import explore_jobs
from advviewer.session.lanes import BACKGROUND_NICENESS, Lane
from advviewer.session.tasks import Post
from advviewer.session.values import FinishedAttack, ResultView

SETTLE_SECONDS = 0.25  # the views start only once the session is this long without a new result (a slider drag)
EXPLORE_NICENESS = BACKGROUND_NICENESS + 5 if BACKGROUND_NICENESS > 0 else 0  # below the attack's thread
VIEWS = ("all_targets", "transfer", "playback", "compare", "noise_check", "models")


def _after_settling(job):
    """Wait SETTLE_SECONDS first: a new result in the meantime supersedes the job before it costs anything."""
    def settled(state):
        if state.cancel.wait(SETTLE_SECONDS):
            raise Cancelled("superseded")
        return job(state)

    return settled


class ExploreEvents(SignalGroup):
    status = Signal(str, str)  # view, what it is doing ("" when its data arrived)
    all_targets = Signal(object)  # AllTargets
    transfer = Signal(object)  # list[ModelAnswer]
    playback = Signal(object)  # Trajectory of the shown result
    frame = Signal(object)  # PlaybackFrame: the scrubber's iterate, for the result panels
    compare = Signal(object)  # explore_jobs.Comparison
    noise_check = Signal(object)  # NoiseCheck
    models = Signal(object)  # advviewer.explore.side_by_side.SideBySide: the model in use beside cnn / cnn-robust
    stale = Signal(object)  # why the shown result no longer matches the input or model (str), None: it does


@dataclass(frozen=True, eq=False)
class AllTargets:
    results: list  # AttackResult per other class, in class order
    shown_target: int | None  # the class of the result on screen, if it is one of them


@dataclass(frozen=True, eq=False)
class PlaybackFrame:
    index: int
    count: int
    original: np.ndarray
    adversarial: np.ndarray
    result: object  # the AttackResult played back (shown in full at the last frame)

    @property
    def is_result(self) -> bool:
        """The last step of the path is the result itself."""
        return self.index == self.count - 1


class ExploreState:
    def __init__(self, session, post: Post) -> None:
        self.events = ExploreEvents()
        self.active: str | None = None
        self.borrowed = False  # the result panel shows a playback step, not the session's result
        self.stale: str | None = None  # why the shown result no longer matches the input or model (None: it does)
        self._session = session
        self._shown: FinishedAttack | None = None
        self._made_for: dict[str, object] = {}  # view -> what its data was computed for
        self._all_targets: tuple[tuple, list] | None = None
        self._trajectory = None
        self._zoo: dict = {}  # zoo models loaded for the transfer view (filled on the lane's thread)
        self._noise_seed = 0
        self._lane = Lane("explore", post, niceness=EXPLORE_NICENESS)
        session.events.result.connect(self._on_result)
        session.events.attack_started.connect(lambda _request: self._lane.cancel())
        session.events.attack_stopped.connect(lambda _text, _error: self._refresh())

    @property
    def shown(self) -> FinishedAttack | None:
        """The result the views explore (the session's shown result, current or not)."""
        return self._shown

    # --- intents -----------------------------------------------------------------------------------

    def set_active(self, view: str | None) -> None:
        """The view on screen (None: none is): only it is computed. Leaving playback gives the result panel back."""
        if view is not None and view not in VIEWS:
            raise ValueError(f"unknown view {view!r}")
        self.active = view
        if view != "playback":
            self._give_back_result_panel()
        self._refresh()

    def choose_target(self, cls: int) -> None:
        """Make the all-targets attack towards ``cls`` the session's shown result."""
        if self._all_targets is None:
            return
        (version, model), results = self._all_targets
        found = next((r for r in results if r.target == cls), None)
        if found is not None:
            self._session.show_found(found, model, version)

    def set_frame(self, index: int) -> None:
        """Show step ``index`` of the shown result's path in the result panel; the last step is the result itself.

        An earlier step borrows the result panel (its images and captions say so); the last step,
        leaving the Playback tab, hiding the views or a new result give it back as the session shows it.
        """
        t, shown = self._trajectory, self._shown
        if t is None or shown is None or not len(t):
            return
        index = int(np.clip(index, 0, len(t) - 1))
        frame = PlaybackFrame(index, len(t), shown.result.original, t.frames[index], shown.result)
        self.events.frame.emit(frame)
        if frame.is_result:
            self._give_back_result_panel()
        else:
            self.borrowed = True

    def _give_back_result_panel(self) -> None:
        if self.borrowed:
            self.borrowed = False
            self._session.show_result_again()

    def draw_noise_again(self) -> None:
        self._noise_seed += 1
        self._made_for.pop("noise_check", None)
        self._refresh()

    # --- keeping up with the shown result ----------------------------------------------------------

    def _on_result(self, view: ResultView) -> None:
        self.borrowed = False  # the session has just drawn the result panel
        if view.stale != self.stale:  # the views say their result is out of date, as panel 5 does
            self.stale = view.stale
            self.events.stale.emit(view.stale)
        if view.shown is not self._shown:
            self._shown = view.shown
            self._trajectory = None  # the scrubber must not mix the last attack's iterates with this one
            self._refresh()

    def _for(self, view: str, shown: FinishedAttack) -> Any:
        if view == "all_targets":  # depends on the input and the model only
            return (shown.key.input_version, shown.model)
        return (shown, self._noise_seed) if view == "noise_check" else shown

    def _refresh(self) -> None:
        view, shown = self.active, self._shown
        lane = self._lane
        if view is None or self._session.attack_running():  # nothing to show, or the attack first
            lane.cancel()
            return
        if shown is None:
            lane.cancel()
            self.events.status.emit(view, "Run an attack (Ctrl+R): these views explore its result.")
            return
        made_for = self._for(view, shown)
        if self._made_for.get(view) == made_for:
            if view == "all_targets":  # same attacks, perhaps another one of them on screen
                self.events.all_targets.emit(self._all_targets_value())
            return
        result, module = shown.result, shown.model.module
        x = np.asarray(result.original)
        if view == "all_targets":
            job, text = explore_jobs.all_targets_job(module, x), "Attacking all nine other classes in one batch…"
        elif view == "transfer":
            job = explore_jobs.transfer_job(self._zoo, shown.model.display_name, module, x, result.adversarial)
            text = "Asking every model…"
        elif view == "playback":
            if not result.history:
                self.events.status.emit(view, "This result kept no iterates to play back.")
                return
            job, text = explore_jobs.trajectory_job(module, result), "Measuring the iterates…"
        elif view == "compare":
            job, text = explore_jobs.compare_job(module, result), f"Running FGSM and DDN towards {result.target}…"
        elif view == "models":
            job = explore_jobs.models_job(self._zoo, shown.model.display_name, module, x, result.target)
            text = f"Attacking {result.original_class} → {result.target} on both models…"
        else:
            job, text = explore_jobs.noise_check_job(module, result, self._noise_seed), "Drawing noise…"
        self.events.status.emit(view, text)
        lane.submit(_after_settling(job), lambda value: self._arrived(view, made_for, value),
                    lambda message: self.events.status.emit(view, f"Failed: {message}"),
                    lambda it: self.events.status.emit(view, f"{text} (iteration {it})"))

    def _arrived(self, view: str, made_for: Any, value) -> None:
        if value is None:
            return
        self._made_for[view] = made_for
        self.events.status.emit(view, "")
        if view == "all_targets":
            self._all_targets = (made_for, value)
            self.events.all_targets.emit(self._all_targets_value())
        elif view == "playback":
            self._trajectory = value
            self.events.playback.emit(value)
        else:
            getattr(self.events, view).emit(value)

    def _all_targets_value(self) -> AllTargets:
        assert self._all_targets is not None
        shown = self._shown.result if self._shown is not None else None
        return AllTargets(self._all_targets[1], shown.target if shown is not None and shown.success else None)

    # --- waiting and closing -------------------------------------------------------------------------

    def is_idle(self) -> bool:
        return not self._lane.is_busy()

    def shutdown(self) -> None:
        self._lane.shutdown()
