"""Scenes and lectures for the window: what the state shows, to a scene file and back (no Qt).

A scene (``advviewer.reading.scene_file.Scene``, the format in docs/scenes.md) is built from the
state's current values (:func:`scene_of`), with the session's other results (:func:`kept_results_of`);
opening one gives the state the same values and the same results, rebuilt as
:class:`~advviewer.attack.AttackResult` objects (:func:`attack_result_of`), without running an
attack (``SessionState.open_scene``). A kept result is never current (:func:`kept_attacks`). A scene's models are loaded by :func:`scene_models_job`
(each by :func:`scene_model_job`): a zoo name as usual; a model file only if its bytes still
have the sha256 the scene names (checked before it is loaded, and again on the bytes that were
loaded). The scene's own model must load; a kept result whose model does not is left out, and
the window says so.
A :class:`Lecture` is the scene files of one folder in name order, stepped through with
Next / Previous scene.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advviewer.errors import AdvViewerError, ExportError, SceneFileError
from advviewer.reading.files import read_regular_file, shown
from advviewer.reading.scene_file import (
    LOSSES,
    MAX_KEPT,
    MAX_MODELS,
    SCENE_SUFFIX,
    KeptResult,
    Scene,
    SceneModel,
    SceneResult,
    SceneRun,
    lecture_paths,
    read_scene,
)
from advviewer.session import jobs, rules
from advviewer.session.tasks import TaskState
from advviewer.session.values import FinishedAttack, InputImage, ModelChoice, ResultKey, Runs

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


def scene_result_of(r: AttackResult, with_history: bool = True) -> SceneResult:
    history = None if not r.history or not with_history else np.stack([np.asarray(frame, np.float32) for frame in r.history])
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
             runs: Runs, results: Sequence[FinishedAttack] = ()) -> Scene:
    """The scene the window shows: its choices, its current result (``current``: None if stale), the c plot's points
    and the session's other ``results`` (every one but ``current``, oldest first)."""
    if model is None:
        raise ExportError("no model is in use yet; wait until it has loaded")
    return Scene(image.pixels.copy(), image.source, scene_model_of(model), choices.target, choices.objective,
                 float(choices.c), choices.gradient_class, choices.gradient_method, choices.view,
                 None if current is None else scene_result_of(current.result),
                 tuple(SceneRun(float(p.c), float(p.l2), bool(p.fooled)) for p in runs.points), choices.confidence,
                 kept_results_of([item for item in results if item is not current]))


def kept_results_of(items: Sequence[FinishedAttack]) -> tuple[KeptResult, ...]:
    """The results a scene keeps beside the current one, oldest first: the newest MAX_KEPT, of at most MAX_MODELS models.

    Left out: a result of a model the scene cannot name (a file with no known sha256), or without
    its input image. Iterates are not kept (only the current result's).
    """
    kept: list[KeptResult] = []
    models: set[SceneModel] = set()
    for item in reversed(items):
        if len(kept) == MAX_KEPT:
            break
        try:
            model = scene_model_of(item.model)
        except ExportError:
            continue
        if item.result.original is None or (model not in models and len(models) == MAX_MODELS):
            continue
        models.add(model)
        original = np.asarray(item.result.original, np.float32).reshape(28, 28).copy()
        kept.append(KeptResult(original, item.source, model, scene_result_of(item.result, with_history=False)))
    return tuple(reversed(kept))


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


NEVER_CURRENT = -1  # an input version no input of the session has: a key holding it is never current


def kept_attacks(scene: Scene, models: SceneModels, now: ResultKey) -> list[FinishedAttack]:
    """The scene's kept results as the session's results, oldest first (those whose model loaded), never current.

    ``now`` is the state's key once the scene is applied. A kept result made on the scene's own
    digit keeps that digit's input version, so that, shown out of date (the latest result, when
    the scene has no current one), it says what changed as the saving window did ("The target
    changed"); any other, or one whose key would be ``now``, gets NEVER_CURRENT.
    """
    attacks = []
    for kept in scene.kept:
        model = models.kept.get(kept.model)
        if model is None:
            continue
        r = kept.result
        version = now.input_version if np.array_equal(kept.input, scene.input) else NEVER_CURRENT
        key = rules.result_key(version, model.name, None if r.untargeted else r.target, LOSSES[r.loss], r.confidence)
        if key == now:  # made on the same digit for the same question, yet not the scene's result: never current
            key = key._replace(input_version=NEVER_CURRENT)
        attacks.append(FinishedAttack(attack_result_of(r, kept.input), model, kept.source, key))
    return attacks


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


@dataclass(frozen=True)
class SceneModels:
    """The models a scene needs, loaded: its own, and those of its kept results (a model that did not load: why, in ``refused``)."""

    main: ModelChoice
    kept: dict[SceneModel, ModelChoice] = field(default_factory=dict)
    refused: tuple[str, ...] = ()


def _loaded(model: SceneModel, available: Sequence[ModelChoice | None]) -> ModelChoice | None:
    return next((choice for choice in available if choice is not None and is_in_use(model, choice)), None)


def models_to_load(scene: Scene, in_use: ModelChoice | None, session: Sequence[ModelChoice]) -> list[SceneModel]:
    """The scene's models to load: its own unless it is ``in_use``, and its kept results' that neither ``in_use`` nor
    one of the ``session``'s results' models already is."""
    own = [] if is_in_use(scene.model, in_use) else [scene.model]
    return own + [model for model in dict.fromkeys(k.model for k in scene.kept)
                  if model != scene.model and _loaded(model, [in_use, *session]) is None]


def models_in_use(scene: Scene, in_use: ModelChoice, session: Sequence[ModelChoice]) -> SceneModels:
    """The scene's models when none has to load (models_to_load is empty): ``in_use`` is its own."""
    return SceneModels(in_use, {model: choice for model in dict.fromkeys(k.model for k in scene.kept)
                                if (choice := _loaded(model, [in_use, *session])) is not None})


def scene_models_job(scene: Scene, in_use: ModelChoice | None, session: Sequence[ModelChoice],
                     start: threading.Event | None = None) -> jobs.Job:
    """Load what the scene needs off the GUI thread: its own model unless it is ``in_use`` (or refuse the scene), then
    its kept results' models that are not loaded in this session (one that fails leaves its results out, saying why).

    A kept result's model may be one the session already holds (the same name and sha256: the
    same weights), so stepping through a lecture does not load them again; the scene's own model
    is always the one in use or loaded anew (a model file: its sha256 checked on disk)."""
    def job(state: TaskState) -> SceneModels:
        main = in_use if is_in_use(scene.model, in_use) and in_use is not None else _load(scene.model, start, state)
        loaded: list[ModelChoice | None] = [main, *session]
        kept: dict[SceneModel, ModelChoice] = {}
        refused = []
        for model in dict.fromkeys(k.model for k in scene.kept):
            choice = _loaded(model, loaded)
            if choice is None:
                try:
                    choice = _load(model, start, state)
                except AdvViewerError as exc:
                    refused.append(f"{shown(Path(model.name).name)}: {exc}")
                    continue
                loaded.append(choice)
            kept[model] = choice
        return SceneModels(main, kept, tuple(refused))

    return job


def _load(model: SceneModel, start: threading.Event | None, state: TaskState) -> ModelChoice:
    choice = scene_model_job(model, start)(state)
    assert isinstance(choice, ModelChoice)
    return choice


# --- lectures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lecture:
    """The scene files of one folder in name order, and one of them (Next / Previous scene step through them)."""

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

    def moved(self, by: int) -> Lecture | None:
        """The same lecture ``by`` scenes on (+1: next, -1: previous); None past either end."""
        index = self.index + by
        return Lecture(self.paths, index) if 0 <= index < len(self.paths) else None

    def position(self) -> str:
        return f"scene {self.index + 1} of {len(self.paths)}"
