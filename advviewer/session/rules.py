"""The state's rules, as plain functions: which result is current, why one is stale, what a model switch re-runs.

Each is one function with one docstring, tested headless (tests/session/test_rules.py); the
state calls them and the window shows what they say.
"""

from __future__ import annotations

from pathlib import Path

from advviewer.gradients import PREDICTED_CLASS, RUNNER_UP, ClassRule
from advviewer.session.choices import PREDICTED, TARGET
from advviewer.session.values import AttackRequest, FinishedAttack, ResultKey

RUN_AGAIN = "run the attack again (Ctrl+R)"


def result_key(input_version: int, model_name: str, target: int | None) -> ResultKey:
    """What an attack result depends on: the input, the model and the target."""
    return (input_version, model_name, target)


def is_current(item: FinishedAttack | None, key: ResultKey) -> bool:
    """A result is current while the input, model and target it was made for are still the ones chosen."""
    return item is not None and item.key == key


def stale_reason(made_for: ResultKey, now: ResultKey) -> str | None:
    """Why a result made for ``made_for`` no longer matches ``now`` (the first difference), None if it does."""
    if made_for == now:
        return None
    if made_for[0] != now[0]:
        return "The input changed"
    if made_for[1] != now[1]:
        return f"The model changed to {Path(str(now[1])).name}"
    return "The target changed"


def stale_message(made_for: ResultKey, now: ResultKey, rerun: AttackRequest | None = None) -> str | None:
    """What the result panel says about a stale result: what changed, and what happens (or to do) next."""
    reason = stale_reason(made_for, now)
    if reason is None:
        return None
    return f"{reason}: attacking again…" if rerun is not None else f"{reason}: {RUN_AGAIN}."


def rerun_after_model_switch(last_request: AttackRequest | None, shown: FinishedAttack | None, input_version: int,
                             target: int | None, attack_running: bool) -> AttackRequest | None:
    """The attack a model switch re-runs: the last one asked for, when its answer is what the user is looking at.

    That is when an attack is running, or when the shown result is for the current input and
    target (only the model differs). The re-run keeps the request's c (None: minimal c) and uses
    the current target. Otherwise (nothing asked yet, or the result is stale anyway) nothing runs.
    """
    if last_request is None:
        return None
    if attack_running or (shown is not None and shown.key[0] == input_version and shown.key[2] == target):
        return AttackRequest(last_request.c, target)
    return None


def gradient_class_rule(choice: int | str, target: int | None) -> ClassRule:
    """The core's class for the gradient panel's choice (see advviewer.gradients.evaluate_input).

    The predicted class and "the attack target while it is any other class" (the runner-up,
    where an untargeted attack usually lands) are resolved inside the one forward pass.
    """
    if choice == PREDICTED:
        return PREDICTED_CLASS
    if choice == TARGET:
        return RUNNER_UP if target is None else target
    if isinstance(choice, int):
        return choice
    raise ValueError(f"unknown gradient class {choice!r}")
