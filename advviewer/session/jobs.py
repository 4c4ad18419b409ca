"""The window's background jobs: plain functions ``job(state) -> value`` over the core.

Each builder captures its arguments (the model object, a copy of the input) so the job is not
affected by what the user does while it runs; :class:`~advviewer.session.tasks.Lane` runs them,
and a test can run one directly with a bare :class:`~advviewer.session.tasks.TaskState`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from advviewer.reading.sandbox import start_server
from advviewer.session.tasks import TaskState
from advviewer.session.values import AttackIterate, FiniteDifferences, InputImage, ModelChoice

Job = Callable[[TaskState], object]
START_WAIT_SECONDS = 5.0  # a window never painted (minimised at start) still gets its model


def load_model_job(name_or_path: str, start: threading.Event | None = None) -> Job:
    """Load and validate a zoo model or a model file, with the hash of the weights it was built from, off the GUI thread.

    The first load also imports torch (seconds on a cold start). ``start``, when given, is waited
    for first (at most START_WAIT_SECONDS): the window sets it once it has painted itself, so the
    import does not compete with building the window.
    """
    def job(state: TaskState) -> ModelChoice:
        if start is not None:
            start.wait(START_WAIT_SECONDS)
        from advviewer.runtime.torch_import import import_torch

        import_torch()

        start_server(with_models=True)  # the fork server for files (advviewer.reading.sandbox), importing torch in the background
        from advviewer.models import ZOO, load_identified_model, model_card

        module, sha256 = load_identified_model(name_or_path, cancel=state.cancel)  # a superseded load's check is killed
        # One evaluation here, off the GUI thread: the first forward and backward pass of a process
        # sets up torch's kernels and autograd engine, which the GUI thread's first live evaluation
        # would otherwise wait for.
        from advviewer.calculus.gradients import evaluate_input

        try:
            evaluate_input(module, np.zeros((28, 28), np.float32))
        except Exception:  # noqa: BLE001 -- only a warm-up: a user's model failing on a blank image says so when it is evaluated
            pass
        if name_or_path in ZOO:
            return ModelChoice(module, name_or_path, card=model_card(name_or_path), sha256=sha256)
        return ModelChoice(module, str(name_or_path), sha256=sha256)

    return job


def load_picture_job(path: Path) -> Job:
    """Any picture or .npy file -> the (28, 28) model input (the core refuses what it cannot read safely)."""
    def job(state: TaskState) -> np.ndarray:
        from advviewer.reading.image_io import load_image

        return load_image(path, cancel=state.cancel)  # a superseded picture's reader is killed

    return job


def finite_difference_job(model, image: InputImage, cls: int, autograd: np.ndarray) -> Job:
    """Central differences for ``cls``, and how closely they agree with backprop's ``autograd``."""
    def job(state: TaskState) -> FiniteDifferences:
        from advviewer.calculus.gradients import gradient_agreement, input_gradient

        t0 = time.perf_counter()
        fd = input_gradient(model, image.pixels, cls, method="finite-difference", cancel=state.cancel)
        agreement = gradient_agreement(fd, autograd)
        return FiniteDifferences(fd, cls, image, agreement.relative_difference, agreement.correlation, time.perf_counter() - t0)

    return job


def attack_job(model, x: np.ndarray, target: int | None, c: float | None, objective: str, warm_start=None,
               confidence: float | None = None) -> Job:
    """One attack (c None: the minimal c) minimising ``objective``; progress reports carry the iterate and its perturbation.

    Its iterates are kept for the playback view (a copy of each, microseconds per iteration;
    ResultLog keeps them only for the newest results)."""
    def job(state: TaskState):
        import advviewer.attack

        def progress(p) -> None:
            r = None if p.adversarial is None else p.adversarial - x
            state.report(AttackIterate(p, x, r))

        return advviewer.attack.lbfgs_attack(model, x, target=target, c=c, untargeted=target is None, warm_start=warm_start,
                                             callback=progress, cancel=state.cancel, record_history=True, objective=objective,
                                             confidence=confidence)

    return job


def sweep_job(model, found) -> Job:
    """Fixed-c runs around a found c: the c-vs-||r|| curve (advviewer.attack.c_sweep)."""
    def job(state: TaskState):
        from advviewer.attack.c_sweep import c_sweep

        return c_sweep(model, found, cancel=state.cancel)

    return job
