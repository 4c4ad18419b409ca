"""The "Explore this result" views' background jobs: plain functions of a TaskState over advviewer.explore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from advviewer.session.tasks import TaskState

if TYPE_CHECKING:  # annotations only: the window is painted before torch is imported
    from advviewer.attack import AttackResult
    from advviewer.explore.side_by_side import SideBySide

Job = Callable[[TaskState], object]
NOISE_DRAWS = 8


@dataclass(frozen=True, eq=False)
class Comparison:
    """L-BFGS's result beside FGSM's and DDN's on the same digit and target."""

    lbfgs: AttackResult
    others: tuple = field(default=())  # BaselineResult, in the order shown


def all_targets_job(model, x: np.ndarray) -> Job:
    def job(state: TaskState) -> list[AttackResult]:
        from advviewer.explore.targets import all_targets

        return all_targets(model, x, callback=lambda p: state.report(p.iteration), cancel=state.cancel)

    return job


def transfer_job(models: dict, own_name: str, own_model, original: np.ndarray, adversarial: np.ndarray) -> Job:
    """Every zoo model (loaded once into ``models``, on this lane's thread) and the result's own model."""
    def job(state: TaskState):
        from advviewer.explore.transfer import model_answers
        from advviewer.models import available_models, load_model

        for name in available_models():
            if state.cancel.is_set():
                return None
            if name not in models:
                models[name] = load_model(name)
        chosen = dict(models)
        chosen[own_name] = own_model  # the model it was made for answers with the very object that was attacked
        return model_answers(chosen, original, adversarial)

    return job


def trajectory_job(model, result: AttackResult) -> Job:
    def job(state: TaskState):
        from advviewer.explore.trajectory import trajectory

        return trajectory(model, np.asarray(result.original), result.history or [], result.target, cancel=state.cancel)

    return job


def compare_job(model, result: AttackResult) -> Job:
    def job(state: TaskState) -> Comparison:
        from advviewer.explore.baselines import ddn, fgsm

        x = np.asarray(result.original)
        return Comparison(result, (fgsm(model, x, result.target, cancel=state.cancel),
                                   ddn(model, x, result.target, cancel=state.cancel)))

    return job


def models_job(models: dict, own_name: str, own_model, original: np.ndarray, target: int) -> Job:
    """The minimal attack towards ``target`` on the model in use and on its partner (cnn / cnn-robust), side by side.

    The partner is loaded once into ``models`` (the transfer view's cache, on this lane's thread); the
    standard model comes first, so the robust one is always on the right.
    """
    def job(state: TaskState) -> SideBySide:
        from advviewer.explore.side_by_side import ROBUST_MODEL, compare_models, partner_model
        from advviewer.models import load_model

        partner = partner_model(own_name)
        if partner not in models:
            models[partner] = load_model(partner)
        pair = ((own_name, own_model), (partner, models[partner]))
        first, second = pair[::-1] if own_name == ROBUST_MODEL else pair
        return compare_models(first, second, np.asarray(original), target, cancel=state.cancel)

    return job


def noise_check_job(model, result: AttackResult, seed: int) -> Job:
    def job(state: TaskState):
        from advviewer.explore.noise import noise_check

        return noise_check(model, np.asarray(result.original), result.l2, draws=NOISE_DRAWS, seed=seed)

    return job
