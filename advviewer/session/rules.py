"""The state's rules, as plain functions: which result is current, why one is stale, what a model switch re-runs.

Each is one function with one docstring, tested headless (tests/session/test_rules.py); the
state calls them and the window shows what they say.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from advviewer.reading.files import shown
from advviewer.session.choices import DEFAULT_OBJECTIVE, PREDICTED, TARGET, describe_confidence, describe_objective
from advviewer.session.values import AttackRequest, FinishedAttack, ResultKey

if TYPE_CHECKING:  # the window is painted before torch (which advviewer.calculus.gradients imports) is imported
    from advviewer.calculus.gradients import ClassRule

BLANK_INK = 1e-3  # an input whose brightest pixel is below this has nothing drawn on it


def is_blank(pixels) -> bool:
    """Nothing drawn: the model still answers (it has no "nothing" class), which the window says."""
    return float(pixels.max()) < BLANK_INK

RUN_AGAIN = "run the attack again (Ctrl+R)"
MODEL_SWITCH_RULE = ("Switching the model re-runs your last attack on this digit (same c, or the minimal c) "
                     "on the new model; if you have not attacked this digit yet, nothing runs.")


def result_key(input_version: int, model_name: str, target: int | None, objective: str,
               confidence: float | None = None) -> ResultKey:
    """What an attack result depends on: the input, the model, the target, the objective minimised and the
    confidence asked for.

    A result of another objective or confidence is not the current one (as for another model): its c
    and ||r|| answer another question, and the c plot keeps only the points of one key.
    """
    return ResultKey(input_version, model_name, target, objective, confidence)


def is_current(item: FinishedAttack | None, key: ResultKey) -> bool:
    """A result is current while the input, model, target and objective it was made for are still the ones chosen."""
    return item is not None and item.key == key


def stale_reason(made_for: ResultKey, now: ResultKey) -> str | None:
    """Why a result made for ``made_for`` no longer matches ``now`` (the first difference), None if it does."""
    if made_for == now:
        return None
    if made_for.input_version != now.input_version:
        return "The input changed"
    if made_for.model != now.model:
        return f"The model changed to {shown(Path(str(now.model)).name)}"
    if made_for.target != now.target:
        return "The target changed"
    if made_for.objective != now.objective:
        return f"The objective changed to the {describe_objective(now.objective)}"
    return f"The confidence asked for changed to {describe_confidence(now.confidence)}"


def stale_message(made_for: ResultKey, now: ResultKey, rerun: AttackRequest | None = None,
                  stopped: str | None = None) -> str | None:
    """What the result panel says about a stale result: what changed, and what happens (or to do) next.

    ``rerun``: an attack for ``now`` is running; ``stopped``: the attack started for ``now`` ended
    without a result (why, in the attack panel's words), so the panel never waits for it.
    """
    reason = stale_reason(made_for, now)
    if reason is None:
        return None
    if stopped is not None:
        return f"{reason}; the attack on it stopped: {stopped}"
    return f"{reason}: attacking again…" if rerun is not None else f"{reason}: {RUN_AGAIN}."


def rerun_after_model_switch(last_request: AttackRequest | None, asked_on_input: int | None,
                             input_version: int, target: int | None,
                             objective: str = DEFAULT_OBJECTIVE, confidence: float | None = None) -> AttackRequest | None:
    """The attack a model switch re-runs (MODEL_SWITCH_RULE): the last one asked for on this input.

    One rule the user can predict: whenever an attack was asked for on the current input
    (``asked_on_input`` is its version), the switch runs it again with the same c (None: minimal
    c) and the current target, objective and confidence; otherwise nothing runs and the result panel says to run it.
    """
    if last_request is None or asked_on_input != input_version:
        return None
    return AttackRequest(last_request.c, target, objective, confidence)


def gradient_class_rule(choice: int | str, target: int | None) -> ClassRule:
    """The core's class for the gradient panel's choice (see advviewer.calculus.gradients.evaluate_input).

    The predicted class and "the attack target while it is any other class" (the runner-up,
    where an untargeted attack usually lands) are resolved inside the one forward pass.
    """
    from advviewer.calculus.gradients import PREDICTED_CLASS, RUNNER_UP  # a model is loaded, so torch is too

    if choice == PREDICTED:
        return PREDICTED_CLASS
    if choice == TARGET:
        return RUNNER_UP if target is None else target
    if isinstance(choice, int):
        return choice
    raise ValueError(f"unknown gradient class {choice!r}")
