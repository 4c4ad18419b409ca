"""Scenes and lectures for the window: what the state shows, to a scene file and back (no Qt).

A scene (``advviewer.reading.scene_file.Scene``, the format in docs/scenes.md) is built from the
state's current values (:func:`scene_of`); opening one gives the state the same values and the
same result, rebuilt as an :class:`~advviewer.attack.AttackResult` (:func:`attack_result_of`),
without running an attack (``SessionState.open_scene``). A scene's model is loaded by
:func:`scene_model_job`: a zoo name as usual; a model file only if its bytes still have the
sha256 the scene names (checked before it is loaded, and again on the bytes that were loaded).
A :class:`Lecture` is the scene files of one folder in name order, stepped through with
Next / Previous scene.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advviewer.errors import ExportError, SceneFileError
from advviewer.reading.files import read_regular_file, shown
from advviewer.reading.scene_file import (
    SCENE_SUFFIX,
    Scene,
    SceneModel,
    SceneResult,
    SceneRun,
    lecture_paths,
    read_scene,
)
from advviewer.session import jobs
from advviewer.session.tasks import TaskState
from advviewer.session.values import FinishedAttack, InputImage, ModelChoice, Runs

if TYPE_CHECKING:
    from advviewer.attack import AttackResult

__all__ = ["SCENE_SUFFIX", "Lecture", "Scene", "read_scene", "save_scene", "scene_of"]

MAX_MODEL_BYTES = 256 * 2**20  # as advviewer.models.loading: a bigger file is refused there too


# --- from the state to a file ---------------------------------------------------------------------


def scene_model_of(model: ModelChoice) -> SceneModel:
    """A zoo model by name; a model file by its absolute path and the sha256 of the bytes that were loaded."""
    from advviewer.session.catalog import zoo_models

    if model.name in zoo_models():
        return SceneModel(model.name, "zoo", model.sha256)
    if model.sha256 is None:
        raise ExportError(f"the model file {model.display_name} has no known sha256; the scene cannot name it")
    return SceneModel(os.path.abspath(model.name), "file", model.sha256)


def scene_result_of(r: AttackResult) -> SceneResult:
    history = None if not r.history else np.stack([np.asarray(frame, np.float32) for frame in r.history])
    return SceneResult(
        np.asarray(r.adversarial, np.float32), np.asarray(r.perturbation, np.float32),
        np.asarray(r.original_probs, np.float64), np.asarray(r.adversarial_probs, np.float64), history,
        success=bool(r.success), c=float(r.c), l2=float(r.l2), linf=float(r.linf), distortion=float(r.distortion),
        target=int(r.target), original_class=int(r.original_class), adversarial_class=int(r.adversarial_class),
        evaluations=int(r.evaluations), iterations=int(r.iterations), seconds=float(r.seconds), message=r.message,
        mode=r.mode, untargeted=bool(r.untargeted), loss=r.loss, tau=None if r.tau is None else float(r.tau),
        already_fooled=bool(r.already_fooled), confidence=None if r.confidence is None else float(r.confidence))


@dataclass(frozen=True)
class Choices:
    """The state's choices a scene keeps beside its input, model and result."""

    target: int | None
    objective: str
    c: float
    gradient_class: int | str
    gradient_method: str
    view: str | None  # the Explore tab on screen (None: the dock is closed)
    confidence: float | None = None  # choices.CONFIDENCES


def scene_of(model: ModelChoice | None, image: InputImage, choices: Choices, current: FinishedAttack | None,
             runs: Runs) -> Scene:
    """The scene the window shows: its choices, its current result (``current``: None if stale) and the c plot's points."""
    if model is None:
        raise ExportError("no model is in use yet; wait until it has loaded")
    return Scene(image.pixels.copy(), image.source, scene_model_of(model), choices.target, choices.objective,
                 float(choices.c), choices.gradient_class, choices.gradient_method, choices.view,
                 None if current is None else scene_result_of(current.result),
                 tuple(SceneRun(float(p.c), float(p.l2), bool(p.fooled)) for p in runs.points), choices.confidence)


def save_scene(path: str | Path, scene: Scene) -> Path:
    """Write ``scene`` to ``path`` (advviewer.writing.scene_file); returns the path written."""
    from advviewer.writing.scene_file import write_scene

    return write_scene(path, scene)


# --- from a file to the state ---------------------------------------------------------------------


def attack_result_of(r: SceneResult, original: np.ndarray) -> AttackResult:
    """The result a scene holds, as the attack returned it (no solver state: a warm start begins from its image)."""
    from advviewer.attack import AttackResult

    return AttackResult(
        adversarial=r.adversarial.copy(), perturbation=r.perturbation.copy(), success=r.success, c=r.c, l2=r.l2,
        linf=r.linf, distortion=r.distortion, target=r.target, original_class=r.original_class,
        adversarial_class=r.adversarial_class, original_probs=r.original_probs.copy(),
        adversarial_probs=r.adversarial_probs.copy(), evaluations=r.evaluations, iterations=r.iterations,
        seconds=r.seconds, history=None if r.history is None else list(r.history.copy()), message=r.message,
        mode=r.mode, untargeted=r.untargeted, loss=r.loss, tau=r.tau, original=original.copy(),
        already_fooled=r.already_fooled, confidence=r.confidence)


def is_in_use(model: SceneModel, current: ModelChoice | None) -> bool:
    """The scene's model is the one in use (a file: the same path and the same bytes), so nothing needs loading."""
    if current is None:
        return False
    if model.kind == "zoo":
        return current.name == model.name and model.sha256 in (None, current.sha256)
    return os.path.abspath(current.name) == model.name and current.sha256 == model.sha256


def check_model_file(model: SceneModel) -> None:
    """A scene's model file must be there and hold the bytes it held when the scene was saved (one line if not)."""
    name = shown(Path(model.name).name)
    if not os.path.lexists(model.name):
        raise SceneFileError(f"the scene's model file {name} is missing (it was {shown(model.name)})")
    data = read_regular_file(model.name, MAX_MODEL_BYTES, SceneFileError, "a model file")
    if hashlib.sha256(data).hexdigest() != model.sha256:
        raise SceneFileError(f"the scene's model file {name} has changed since the scene was saved (its sha256 differs)")


def scene_model_job(model: SceneModel, start: threading.Event | None = None) -> jobs.Job:
    """Load a scene's model off the GUI thread: a zoo model by name, a file only if its sha256 matches."""
    def job(state: TaskState) -> ModelChoice:
        if model.kind == "zoo":
            from advviewer.session.catalog import zoo_models

            if model.name not in zoo_models():
                raise SceneFileError(f"the scene's model {model.name!r} is not in this advviewer's zoo")
        else:
            check_model_file(model)
        choice = jobs.load_model_job(model.name, start)(state)
        assert isinstance(choice, ModelChoice)
        if model.kind == "file" and choice.sha256 != model.sha256:  # changed between the check and the load
            raise SceneFileError(f"the scene's model file {shown(Path(model.name).name)} changed while it was loaded")
        if model.kind == "zoo" and model.sha256 not in (None, choice.sha256):
            raise SceneFileError(f"the scene was saved with other weights of the zoo model {model.name} (its sha256 differs)")
        return choice

    return job


# --- lectures -------------------------------------------------------------------------------------


@dataclass
class Lecture:
    """The scene files of one folder in name order, and the one open (Next / Previous scene step through them)."""

    paths: tuple[Path, ...]
    index: int = 0

    @classmethod
    def around(cls, path: str | Path) -> Lecture:
        """The lecture ``path`` belongs to (a scene file: its folder's scenes; a folder: its scenes, from the first)."""
        path = Path(path)
        paths = tuple(lecture_paths(path))
        if path.is_dir():
            return cls(paths, 0)
        resolved = [p.resolve() for p in paths]
        here = path.resolve()
        return cls(paths, resolved.index(here)) if here in resolved else cls((path,), 0)

    @property
    def current(self) -> Path:
        return self.paths[self.index]

    def step(self, by: int) -> Path | None:
        """Move ``by`` scenes (+1: next, -1: previous); None at either end (nothing moves)."""
        index = self.index + by
        if not 0 <= index < len(self.paths):
            return None
        self.index = index
        return self.paths[index]

    def position(self) -> str:
        return f"scene {self.index + 1} of {len(self.paths)}"
