"""The window's controller: the model, the current input, live evaluation and background jobs.

Widgets never call the core; they show what this object emits. The live path (preprocess,
one forward/backward pass) runs on the GUI thread because it takes a few milliseconds;
finite differences and the attack run on :class:`JobWorker` threads, newest request first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from advviewer.gradients import predict_and_gradient
from advviewer.gui.jobs import FiniteDifferenceState, attack_job, finite_difference_job, sweep_job
from advviewer.gui.worker import JobWorker
from advviewer.models import load_model
from advviewer.preprocess import preprocess

log = logging.getLogger(__name__)

FINISHED_KEPT = 500  # results remembered for "Export all results"
PREDICTED, TARGET = -1, -2  # gradient class choices besides 0..9 (as in gradient_view)


@dataclass
class FinishedAttack:
    """A result with what is needed to export it later: the model it fooled and the input's source."""

    result: object
    model: object
    model_name: str
    source: str | None


@dataclass
class LiveState:
    input: np.ndarray  # (28, 28) float32, what the model sees
    probs: np.ndarray  # (10,)
    predicted: int
    gradient: np.ndarray  # (28, 28) autograd gradient of the loss for gradient_class
    gradient_class: int
    preprocess_ms: float
    model_ms: float


class Session(QObject):
    live_updated = Signal(object)  # LiveState
    fd_updated = Signal(object)  # FiniteDifferenceState
    fd_failed = Signal(str)
    attack_started = Signal(str)
    attack_progress = Signal(object)  # the attack's AttackProgress
    attack_finished = Signal(object)  # AttackResult
    attack_failed = Signal(str)
    attack_cancelled = Signal()
    sweep_finished = Signal(object, object)  # key (input version, model, target), [(c, l2, fooled), ...]

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = None
        self.model_name = ""
        self.input = np.zeros((28, 28), np.float32)
        self.input_version = 0
        self._preprocess_ms = 0.0  # the last framing's time, reported with the live update
        self.live: LiveState | None = None
        self.gradient_class = PREDICTED
        self.gradient_method = "autograd"
        self.target: int | None = None  # attack target, None: any other class
        self.last_c: float | None = None  # the c of the last attack request, None: minimal c
        self.source: str | None = None  # where the input came from (a file, a sample), for the JSON record
        self.finished: list[FinishedAttack] = []  # every result of this session, oldest first
        self.result = None  # the last AttackResult for the current input and model
        self.result_key: tuple | None = None  # (input version, model, target) it was made for
        self._attack_job = 0
        self._attack_key: tuple | None = None
        self._fd_job = 0
        self._sweep_job = 0
        self._sweep_key: tuple | None = None
        self._pending_description = ""
        self._attacks = JobWorker("attack")
        self._side = JobWorker("finite differences")
        # cross-thread connections go to @Slot methods of this GUI-thread object only: they are
        # then queued to the GUI thread (a lambda would run in the worker thread)
        self._attacks.started.connect(self._attack_began)
        self._attacks.progress.connect(self._attack_progressed)
        self._attacks.finished.connect(self._attack_done)
        self._attacks.failed.connect(self._attack_error)
        self._attacks.cancelled.connect(self._attack_stopped)
        self._side.finished.connect(self._fd_done)
        self._side.failed.connect(self._fd_error)
        app = QCoreApplication.instance()
        if app is not None:  # a window never closed must still not destroy running threads
            app.aboutToQuit.connect(self.shutdown)

    # --- model and input --------------------------------------------------------------------

    def set_model(self, name_or_path: str | Path) -> None:
        """Load a zoo model or a model file (ModelLoadError propagates) and re-evaluate."""
        model = load_model(name_or_path)
        rerun = self.result is not None or self.attack_running()
        self.cancel_attack()
        self.model, self.model_name = model, str(name_or_path)
        self.result = None
        self.evaluate()
        if rerun:  # the results shown were for the old model: attack again the same way
            self.run_attack(self.last_c)

    def set_picture(self, picture: np.ndarray, exact: np.ndarray | None = None, source: str | None = None) -> None:
        """New input from the canvas: ``exact`` (28x28) if known, else ``picture`` is framed.

        ``source`` says where an exact input came from; a drawing has none.
        """
        self.source = source if exact is not None else "drawn on the canvas"
        t0 = time.perf_counter()
        x = exact if exact is not None else preprocess(picture)
        self._preprocess_ms = 1e3 * (time.perf_counter() - t0)
        if not np.array_equal(x, self.input):
            self.input = np.asarray(x, dtype=np.float32)
            self.input_version += 1
            self.cancel_attack()
            self.result = None
        self.evaluate()

    def _gradient_class_for(self, predicted: int, probs: np.ndarray | None) -> int:
        if self.gradient_class >= 0:
            return self.gradient_class
        if self.gradient_class == TARGET:
            if self.target is not None:
                return self.target
            if probs is not None:  # 'any other class': the runner-up, the class the attack will likely reach
                return int(np.argsort(probs)[-2])
        return predicted

    def evaluate(self) -> LiveState | None:
        """Probabilities and the autograd gradient of the current input; emits live_updated."""
        if self.model is None:
            return None
        t0 = time.perf_counter()
        guess = self.live.predicted if self.live is not None else 0
        cls = self._gradient_class_for(guess, self.live.probs if self.live is not None else None)
        probs, grad = predict_and_gradient(self.model, self.input, cls)
        predicted = int(probs.argmax())
        wanted = self._gradient_class_for(predicted, probs)
        if wanted != cls:  # the prediction changed under 'predicted class' mode: one more pass
            cls = wanted
            probs, grad = predict_and_gradient(self.model, self.input, cls)
        self.live = LiveState(self.input, probs, predicted, grad, cls, self._preprocess_ms, 1e3 * (time.perf_counter() - t0))
        self.live_updated.emit(self.live)
        if self.gradient_method == "finite-difference":
            self._request_finite_differences()
        return self.live

    def set_gradient_choice(self, gradient_class: int | None = None, method: str | None = None) -> None:
        if gradient_class is not None:
            self.gradient_class = gradient_class
        if method is not None:
            self.gradient_method = method
        self.evaluate()

    def set_target(self, target: int | None) -> None:
        self.target = target
        self.evaluate()

    # --- finite differences -----------------------------------------------------------------

    def _request_finite_differences(self) -> None:
        live = self.live
        self._fd_job = self._side.submit(finite_difference_job(self.model, self.input.copy(), live.gradient_class, live.gradient))

    @Slot(int, str)
    def _fd_error(self, job: int, message: str) -> None:
        if job == self._fd_job:
            self.fd_failed.emit(message)

    @Slot(int, object, float)
    def _fd_done(self, job: int, state: FiniteDifferenceState, seconds: float) -> None:
        if job == self._fd_job and self.gradient_method == "finite-difference":
            self.fd_updated.emit(state)

    # --- the attack -------------------------------------------------------------------------

    def run_attack(self, c: float | None, *, warm: bool = False) -> None:
        """Attack the current input at ``c`` (None: search the minimal c) in the background."""
        key = self.current_key()
        self.last_c = c
        warm_start = self.result if warm and self.result is not None and self.result_key == key else None
        goal = "any other class" if self.target is None else f"class {self.target}"
        self._pending_description = (f"Searching the minimal c towards {goal}…" if c is None else f"Attacking towards {goal} at c = {c:.3g}…")
        self._attack_key = key
        self._attack_job = self._attacks.submit(attack_job(self.model, self.input.copy(), self.target, c, warm_start))

    def sweep(self, found) -> None:
        """Fixed-c runs around a found c for the c-vs-||r|| plot; any newer attack request cancels it."""
        self._sweep_key = self.current_key()
        self._sweep_job = self._attacks.submit(sweep_job(self.model, self.input.copy(), found))

    def current_key(self) -> tuple:
        """What an attack result depends on: (input version, model, target)."""
        return (self.input_version, self.model_name, self.target)

    def cancel_attack(self) -> None:
        if self._attacks.is_busy():
            self._attacks.cancel()

    def attack_running(self) -> bool:
        return self._attacks.is_busy()

    @Slot(int)
    def _attack_began(self, job: int) -> None:
        if job == self._attack_job:
            self.attack_started.emit(self._pending_description)

    @Slot(int, object)
    def _attack_progressed(self, job: int, progress) -> None:
        if job == self._attack_job:
            self.attack_progress.emit(progress)

    @Slot(int, str)
    def _attack_error(self, job: int, message: str) -> None:
        if job == self._attack_job:
            self.attack_failed.emit(message)

    @Slot(int)
    def _attack_stopped(self, job: int) -> None:
        if job == self._attack_job:
            self.attack_cancelled.emit()

    @Slot(int, object, float)
    def _attack_done(self, job: int, result, seconds: float) -> None:
        if job == self._sweep_job and self._sweep_key == self.current_key():
            self.sweep_finished.emit(self._sweep_key, result)
        if job != self._attack_job:
            return
        self.result, self.result_key = result, self._attack_key
        self.finished.append(FinishedAttack(result, self.model, self.model_name, self.source))
        del self.finished[:-FINISHED_KEPT]
        self.attack_finished.emit(result)

    def current_item(self) -> FinishedAttack | None:
        """The shown result if it still matches the input, model and target."""
        if self.result is None or self.result_key != self.current_key() or not self.finished:
            return None
        return self.finished[-1]

    @staticmethod
    def export(item: FinishedAttack, out_dir: Path, stem: str) -> dict[str, Path]:
        """Write a result's files (ExportError propagates with a one-line message)."""
        from advviewer.export import export_result

        return export_result(item.result, out_dir, model=item.model, model_name=item.model_name, stem=stem, source=item.source)

    @Slot()
    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        ok = self._attacks.shutdown(timeout_ms)
        return self._side.shutdown(timeout_ms) and ok
