"""SessionState: the window's state, owned once, with psygnal events (no Qt).

Every piece is an attribute here and nowhere else: ``model``, ``input`` (with its source),
``target`` (None: any other class), ``c``, ``objective`` (the loss every attack minimises), ``gradient`` (class and method), ``evaluation`` (the
live probabilities and gradient), and ``results`` (the session's results; the latest is what the
result panel shows, :meth:`current_result` says whether it still matches). Setters are the
intents widgets send; each change emits an event in ``events`` carrying the new value, so a
receiver never reads it back. The rules (staleness, the model-switch re-run, the gradient's
class) are in rules.py. Long work runs on :class:`Lane` threads; outcomes come back through
``post`` on the owner's thread, and a superseded job's outcome never arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from advviewer.errors import printable
from advviewer.reading.preprocess import preprocess
from advviewer.session import jobs, rules, scenes
from advviewer.session.choices import (
    CONFIDENCES,
    DEFAULT_C,
    DEFAULT_CONFIDENCE,
    DEFAULT_GRADIENT_CLASS,
    DEFAULT_GRADIENT_METHOD,
    DEFAULT_OBJECTIVE,
    FINITE_DIFFERENCES,
    OBJECTIVES,
)
from advviewer.session.events import SessionEvents
from advviewer.session.explore import ExploreState
from advviewer.session.export import ExportQueue
from advviewer.session.lanes import Lanes
from advviewer.session.results import ResultLog
from advviewer.session.scene_opening import SceneOpening
from advviewer.session.tasks import Post, Task
from advviewer.session.values import (
    DRAWN,
    AttackRequest,
    FinishedAttack,
    GradientChoice,
    InputImage,
    LiveEvaluation,
    ModelChoice,
    ResultKey,
    ResultView,
    Runs,
)
from advviewer.text.wording import counted

log = logging.getLogger(__name__)

MODEL_LOAD_SECONDS = 30.0  # loading and validating a model; a model that takes longer is refused


class SessionState:
    def __init__(self, post: Post, *, model_time_limit: float = MODEL_LOAD_SECONDS) -> None:
        self.events = SessionEvents()
        self.model: ModelChoice | None = None
        self.loading: str | None = None  # the model being loaded (the panels say so while there is none yet)
        self._model_start = threading.Event()  # cleared by hold_model_loading: loads wait until it is set
        self._model_start.set()
        self.input = InputImage(np.zeros((28, 28), np.float32), DRAWN, 0)
        self.target: int | None = None
        self.c = DEFAULT_C
        self.objective = DEFAULT_OBJECTIVE  # choices.OBJECTIVES: Run, Find minimal c and the slider all minimise it
        self.confidence: float | None = DEFAULT_CONFIDENCE  # choices.CONFIDENCES: how sure of the target every attack makes the model
        self.gradient = GradientChoice(DEFAULT_GRADIENT_CLASS, DEFAULT_GRADIENT_METHOD)
        self.evaluation: LiveEvaluation | None = None
        self.results = ResultLog()
        self._model_time_limit = model_time_limit
        self._last_request: AttackRequest | None = None
        self._asked_on_input: int | None = None  # the input version the last request was made on
        self._attack_task: Task | None = None
        self._scene_task: Task | None = None  # a scene's models loading on the model lane
        self._shown = ResultView(None)  # the last result view emitted (so an unchanged one is not re-sent)
        self._runs_shown: tuple = ()  # the c plot points last emitted
        self._lanes = Lanes(post, ("attack", "finite differences", "model"))
        self.explore = ExploreState(self, post)  # the "Explore this result" views' data
        self.exports = ExportQueue(post)  # writing results to files, one export at a time
        self.scene_files = SceneOpening(self, post)  # scene files read off the GUI thread, and the lecture on screen

    # --- what is current --------------------------------------------------------------------------

    def key(self) -> ResultKey:
        return rules.result_key(self.input.version, self.model.name if self.model else "", self.target, self.objective,
                                self.confidence)

    def current_result(self) -> FinishedAttack | None:
        """The latest result if it matches the input, model and target (what Export writes), else None."""
        latest = self.results.latest
        return latest if rules.is_current(latest, self.key()) else None

    @property
    def result_view(self) -> ResultView:
        """What the result panel was last told to show (the latest result, whether it is stale, why an attack stopped)."""
        return self._shown

    def attack_running(self) -> bool:
        task = self._attack_task
        return task is not None and task.attached and not task.finished

    def is_idle(self) -> bool:
        return (self._lanes.is_idle() and self.explore.is_idle() and self.exports.is_idle()
                and self.scene_files.is_idle())

    def wait_until_idle(self, timeout: float, pump=None) -> bool:
        """Block until no job runs or waits and every outcome was delivered (``pump`` delivers them)."""
        end = time.perf_counter() + timeout
        while not self.is_idle():
            if not self._lanes.wait_until_idle(max(0.0, end - time.perf_counter()), pump) or time.perf_counter() > end:
                return False
            if pump is not None:
                pump()
            time.sleep(0.001)
        return True

    def shutdown(self) -> None:
        """Stop every lane at once; jobs still inside a model call are left to finish on their own.

        The one wait: an export finishes the result it is writing (ExportQueue.shutdown), so no
        temporary file is left in the user's folder when the process then ends at once.
        """
        self.exports.shutdown()
        self._lanes.shutdown()
        self.explore.shutdown()
        self.scene_files.shutdown()

    # --- the model --------------------------------------------------------------------------------

    def hold_model_loading(self) -> None:
        """Loads submitted from now on wait for :meth:`release_model_loading` (the window: until it has painted itself).

        The first load imports torch, seconds of mostly Python code that would otherwise share the
        GIL with building and painting the window.
        """
        self._model_start.clear()

    def release_model_loading(self) -> None:
        self._model_start.set()

    def load_model(self, name: str, fallback: str | None = None) -> Task:
        """Load a zoo model or file in the background; on failure use ``fallback`` or keep the current one.

        Drawing goes on meanwhile: the input is kept, and evaluated as soon as the model is in use.
        """
        self.loading = name
        self.events.model_loading.emit(name)
        return self._lanes["model"].submit(
            jobs.load_model_job(name, self._model_start), self.use_model,
            lambda message: self._model_refused(name, message, fallback),
            time_limit=self._model_time_limit,
            timeout_message=f"it did not load within {self._model_time_limit:g} s")

    def use_model(self, choice: ModelChoice) -> None:
        """Switch to a loaded model: re-evaluate, and re-run the attack as rules.rerun_after_model_switch says."""
        rerun = rules.rerun_after_model_switch(self._last_request, self._asked_on_input, self.input.version, self.target,
                                               self.objective, self.confidence)
        self._cancel_attack_work("")
        self.loading = None
        self.model = choice
        self.events.model.emit(choice)
        self._evaluate()
        if rerun is not None:
            self._start_attack(rerun)
        self._show_views(rerun)

    def _model_refused(self, name: str, message: str, fallback: str | None) -> None:
        self.loading = None
        if fallback is not None and fallback != name:
            self.events.message.emit(f"Could not load the model {name!r} ({message}); using {fallback} instead.", "error")
            self.load_model(fallback)
            return
        still = f" Still using {self.model.display_name}." if self.model is not None else ""
        self.events.message.emit(f"Model not loaded: {message}.{still}", "error")
        self.events.model_refused.emit(message, self.model)

    # --- scenes ----------------------------------------------------------------------------------------

    def scene(self, view: str | None = None) -> scenes.Scene:
        """What the window shows, as a scene (``view``: the open Explore tab); its result only if it is current,
        with the session's other results."""
        choices = scenes.Choices(self.target, self.objective, self.c, self.gradient.cls, self.gradient.method, view,
                                 self.confidence)
        return scenes.scene_of(self.model, self.input, choices, self.current_result(), self.results.runs_for(self.key()),
                               self.results.items)

    def open_scene(self, scene: scenes.Scene, shown: Callable[[], None] | None = None,
                   refused: Callable[[], None] | None = None) -> Task | None:
        """Show ``scene`` as it was saved, its result as the current one, without running an attack.

        Its models are loaded first when they are not in use (a model file only if its sha256
        matches); if the scene's own model fails, one message says why and nothing changes (with
        no model in use yet, the default one is loaded). ``shown`` is called once the state shows
        the scene, before ``scene_opened`` is emitted; ``refused`` if its models did not load.
        Returns the loading task, None when nothing had to load. (A scene file is read with
        ``scene_files.open_path``, off the GUI thread, which ends here.)
        """
        session = [item.model for item in self.results.items]
        to_load = scenes.models_to_load(scene, self.model, session)
        self._scene_task = None
        if not to_load:
            assert self.model is not None
            models = scenes.models_in_use(scene, self.model, session)
            if self.loading is not None:  # another model was on its way: the scene's, in use, stays
                self._lanes["model"].cancel()
                self.events.model_refused.emit("the scene uses the model in use", self.model)
            self._apply_scene(scene, models, shown)
            return None
        self.loading = scene.model.name
        self.events.model_loading.emit(scene.model.name)
        self._scene_task = self._lanes["model"].submit(
            scenes.scene_models_job(scene, self.model, session, self._model_start),
            lambda models: self._apply_scene(scene, models, shown),
            lambda message: self._scene_refused(message, refused), time_limit=self._model_time_limit * len(to_load),
            timeout_message=f"its models did not load within {self._model_time_limit * len(to_load):g} s")
        return self._scene_task

    def drop_scene_loading(self) -> None:
        """A scene whose models are still loading is no longer wanted (another file was asked for): it is never shown.

        Not while no model is in use (a scene was the first thing asked for): its load is then the
        window's only one, and the scene is shown, then replaced by the one asked for later."""
        task, self._scene_task = self._scene_task, None
        if task is None or not task.attached or task.finished or self.model is None:
            return
        self._lanes["model"].cancel()
        self.loading = None
        self.events.model_refused.emit("another scene was asked for", self.model)

    def _scene_refused(self, message: str, refused: Callable[[], None] | None = None) -> None:
        self._scene_task = None
        self.loading = None
        self.events.message.emit(f"Scene not opened: {message}. The window is unchanged.", "error")
        self.events.model_refused.emit(message, self.model)
        if self.model is None:  # the scene was the first thing asked for: the window still gets a model
            from advviewer.session.catalog import default_model

            self.load_model(default_model())
        if refused is not None:
            refused()

    def _apply_scene(self, scene: scenes.Scene, models: scenes.SceneModels, shown: Callable[[], None] | None = None) -> None:
        """Every value of ``scene`` at once, then one round of events (the views are drawn once, from the end state)."""
        self._scene_task = None
        self._cancel_attack_work("")
        self.loading = None
        model = models.main
        if model is not self.model:
            self.model = model
            self.events.model.emit(model)
        self.input = InputImage(scene.input.copy(), scene.source, self.input.version + 1)
        self.events.input.emit(self.input)
        self.target, self.objective, self.confidence = scene.target, scene.objective, scene.confidence
        self.events.target.emit(self.target)
        self.events.objective.emit(self.objective)
        self.events.confidence.emit(self.confidence)
        self.gradient = GradientChoice(scene.gradient_class, scene.gradient_method)
        self.events.gradient.emit(self.gradient)
        self._last_request = self._asked_on_input = None  # a later model switch re-runs only what the user asks for
        from advviewer.attack.c_sweep import SweepPoint

        restored = scenes.kept_attacks(scene, models, self.key())  # the session's other results, never current
        missing = len(scene.kept) - len(restored)
        if scene.result is not None:
            result = scenes.attack_result_of(scene.result, self.input.pixels)
            restored.append(FinishedAttack(result, model, scene.source, self.key()))
            self._last_request = AttackRequest(None if result.mode == "minimal" else result.c, self.target, self.objective,
                                               self.confidence)
            self._asked_on_input = self.input.version
        self.results.restore(restored, Runs(self.key(), tuple(SweepPoint(run.c, run.l2, run.fooled) for run in scene.runs)))
        self.set_c(scene.c)
        self._evaluate()
        self._show_result(force=True)
        self._emit_runs(self.results.runs_for(self.key()))
        if missing:
            self.events.message.emit(f"Not restored: {counted(missing, 'other result')} of the scene, whose model did not "
                                     f"load ({'; '.join(models.refused)}).", "error")
        if shown is not None:
            shown()
        self.events.scene_opened.emit(scene)

    # --- the input and the choices ----------------------------------------------------------------

    def set_picture(self, picture: np.ndarray | None, exact: np.ndarray | None = None, source: str | None = None) -> None:
        """New input: ``exact`` (28x28, loaded from ``source``) if known, else the drawn ``picture`` is framed."""
        t0 = time.perf_counter()
        x = np.asarray(exact, dtype=np.float32) if exact is not None else preprocess(np.asarray(picture))
        preprocess_ms = 1e3 * (time.perf_counter() - t0)
        changed = not np.array_equal(x, self.input.pixels)
        self.input = InputImage(x, source if exact is not None and source else DRAWN, self.input.version + int(changed))
        if changed:
            self._cancel_attack_work("Cancelled: the input changed.")
            self.events.input.emit(self.input)
        self._evaluate(preprocess_ms)
        if changed:
            self._show_views()

    def set_target(self, target: int | None) -> None:
        if target is not None and target not in range(10):
            raise ValueError(f"target must be None or a class 0..9, not {target!r}")
        if target == self.target:
            return
        self.target = target
        self.events.target.emit(target)
        self._cancel_attack_work("Cancelled: the target changed.")
        self._evaluate()
        self._show_views()

    def set_c(self, c: float) -> None:
        if not np.isfinite(c) or c <= 0:
            raise ValueError(f"c must be a positive number, not {c!r}")
        if c != self.c:
            self.c = float(c)
            self.events.c.emit(self.c)

    def set_objective(self, objective: str) -> None:
        """The loss the attack minimises (choices.OBJECTIVES); a result of the other one is no longer current."""
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
        if objective == self.objective:
            return
        self.objective = objective
        self.events.objective.emit(objective)
        self._cancel_attack_work("Cancelled: the objective changed.")
        self._show_views()

    def set_confidence(self, confidence: float | None) -> None:
        """How sure of the target every attack makes the model (choices.CONFIDENCES); a result made for another
        confidence is no longer current."""
        if confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {CONFIDENCES}, not {confidence!r}")
        if confidence == self.confidence:
            return
        self.confidence = confidence
        self.events.confidence.emit(confidence)
        self._cancel_attack_work("Cancelled: the confidence asked for changed.")
        self._show_views()

    def set_gradient_class(self, cls: int | str) -> None:
        self._set_gradient(GradientChoice(cls, self.gradient.method))

    def set_gradient_method(self, method: str) -> None:
        self._set_gradient(GradientChoice(self.gradient.cls, method))

    def _set_gradient(self, choice: GradientChoice) -> None:
        if choice != self.gradient:
            self.gradient = choice
            self.events.gradient.emit(choice)
            self._evaluate()

    def _evaluate(self, preprocess_ms: float = 0.0) -> None:
        if self.model is None:  # still loading: use_model evaluates the input then
            return
        from advviewer.calculus.gradients import evaluate_input

        t0 = time.perf_counter()
        try:
            # evaluate_input checks the logits (models.checked.check_logits): NaN or inf raise ModelOutputError
            e = evaluate_input(self.model.module, self.input.pixels, rules.gradient_class_rule(self.gradient.cls, self.target))
        except Exception as exc:  # a user's model can fail on some inputs: say so, keep the window
            log.warning("evaluation failed", exc_info=True)
            self.events.message.emit(f"The model failed on this input: {printable(str(exc))}", "error")
            return
        self.evaluation = LiveEvaluation(self.input, e.probs, e.predicted, e.gradient, e.gradient_class, self.gradient.method,
                                         self.target, preprocess_ms, 1e3 * (time.perf_counter() - t0),
                                         blank=rules.is_blank(self.input.pixels))
        self.events.evaluated.emit(self.evaluation)
        lane = self._lanes["finite differences"]
        if self.gradient.method == FINITE_DIFFERENCES:
            job = jobs.finite_difference_job(self.model.module, self.input, e.gradient_class, e.gradient)
            lane.submit(job, self.events.finite_differences.emit, self.events.finite_differences_failed.emit)
        else:
            lane.cancel()

    # --- the attack -------------------------------------------------------------------------------

    def run_attack(self) -> None:
        """Attack the input at the chosen c."""
        self._start_attack(AttackRequest(self.c, self.target, self.objective, self.confidence))

    def find_minimal_c(self) -> None:
        self._start_attack(AttackRequest(None, self.target, self.objective, self.confidence))

    def drag_c(self, c: float) -> None:
        """c moved on the slider: attack at it at once, warm-started from the result on screen."""
        self.set_c(c)
        current = self.current_result()
        self._start_attack(AttackRequest(self.c, self.target, self.objective, self.confidence),
                           warm_start=current.result if current is not None else None)

    def cancel_attack(self) -> None:
        self._cancel_attack_work("Cancelled.")

    def _start_attack(self, request: AttackRequest, warm_start=None) -> None:
        if self.model is None:  # still loading: use_model runs the request (rules.rerun_after_model_switch)
            if self.loading is not None:
                self._last_request, self._asked_on_input = request, self.input.version
                self.events.message.emit(f"The model {self.loading} is still loading; the attack starts as soon as "
                                         "it is in use.", "info")
            return
        self._last_request, self._asked_on_input = request, self.input.version
        model, image, key = self.model, self.input, self.key()
        job = jobs.attack_job(model.module, image.pixels.copy(), request.target, request.c, request.objective, warm_start,
                              request.confidence)
        self._attack_task = self._lanes["attack"].submit(
            job, lambda result: self._attack_done(result, model, image.source, key),
            lambda message: self._attack_ended(f"The attack failed: {message}", error=True), self.events.attack_progress.emit)
        self._show_result(rerun=request)
        self.events.attack_started.emit(request)

    def _attack_done(self, result, model: ModelChoice, source: str, key: ResultKey) -> None:
        self._attack_task = None
        self._add_result(FinishedAttack(result, model, source, key))
        if result.mode == "minimal" and result.success:  # how ||r|| and success change with c around it
            self._lanes["attack"].submit(jobs.sweep_job(model.module, result), lambda points: self._swept(key, points))

    def show_found(self, result, model: ModelChoice, input_version: int) -> None:
        """A result found elsewhere (the all-targets view) becomes the shown one; its class and objective become the state's."""
        if input_version != self.input.version or model is not self.model:
            self.events.message.emit("That attack was made for another input or model: it is not shown.", "info")
            return
        self.set_target(result.target)
        self.set_objective(result.objective)
        self.set_confidence(result.confidence)
        self._last_request = AttackRequest(None, result.target, result.objective, result.confidence)
        self._add_result(FinishedAttack(result, model, self.input.source, self.key()))

    def _add_result(self, item: FinishedAttack) -> None:
        """A finished attack joins the session's results and becomes the one shown, its c the slider's."""
        runs = self.results.add(item)
        self.set_c(item.result.c)
        self._show_result()
        self._emit_runs(runs)
        self.events.attack_finished.emit(item)

    def _swept(self, key: ResultKey, points) -> None:
        self._emit_runs(self.results.add_runs(key, points))

    def _attack_ended(self, text: str, error: bool = False) -> None:
        """An attack stopped without a result (cancelled, or failed): every view stops waiting for it.

        The result panel drew the attack's iterates as they formed and said whether it was
        attacking again: it shows the shown result again, and says why nothing new came.
        """
        self._attack_task = None
        self.events.attack_stopped.emit(text, error)
        self._show_result(stopped=text, force=True)

    def show_result_again(self) -> None:
        """Emit the result view again: a transient view (playback) that borrowed the result panel gives it back."""
        self._show_result(force=True)

    def _cancel_attack_work(self, text: str) -> None:
        """Cancel the attack (and any c sweep); say ``text`` if an attack was running."""
        running = self.attack_running()
        self._lanes["attack"].cancel()
        if running and text:
            self._attack_ended(text)
        self._attack_task = None

    # --- what the result panel and the c plot show -------------------------------------------------

    def _show_views(self, rerun: AttackRequest | None = None) -> None:
        self._show_result(rerun)
        runs = self.results.runs_for(self.key())
        if runs.points != self._runs_shown:
            self._emit_runs(runs)

    def _show_result(self, rerun: AttackRequest | None = None, stopped: str | None = None, force: bool = False) -> None:
        latest = self.results.latest
        stale = rules.stale_message(latest.key, self.key(), rerun, stopped) if latest is not None else None
        view = ResultView(latest, stale, stopped=stopped if latest is None or stale is None else None)
        if force or view != self._shown:
            self._shown = view
            self.events.result.emit(view)

    def _emit_runs(self, runs: Runs) -> None:
        self._runs_shown = runs.points
        self.events.runs.emit(runs)
