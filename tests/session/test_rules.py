"""The state's rules as plain functions: staleness, the model-switch re-run, the gradient's class."""

from types import SimpleNamespace

from advviewer.session import rules
from advviewer.session.choices import PREDICTED, TARGET
from advviewer.session.values import AttackRequest, ResultKey


def key(version, model, target, objective="rival", confidence=None):
    return ResultKey(version, model, target, objective, confidence)


def shown(version, model, target):
    return SimpleNamespace(key=key(version, model, target))


def test_stale_reason_names_the_first_difference():
    assert rules.stale_reason(key(1, "cnn", 3), key(1, "cnn", 3)) is None
    assert rules.stale_reason(key(1, "cnn", 3), key(2, "fc10-1", 5)) == "The input changed"
    assert rules.stale_reason(key(1, "cnn", 3), key(1, "/home/me/mine.pt", 3)) == "The model changed to mine.pt"
    assert rules.stale_reason(key(1, "cnn", 3), key(1, "cnn", None)) == "The target changed"


def test_stale_message_says_what_happens_next():
    assert rules.stale_message(key(1, "cnn", 3), key(2, "cnn", 3)) == "The input changed: run the attack again (Ctrl+R)."
    assert rules.stale_message(key(1, "cnn", 3), key(1, "fc10-1", 3), AttackRequest(None, 3)) == "The model changed to fc10-1: attacking again…"


def test_a_model_switch_re_runs_the_last_request_on_this_input_whatever_else_changed():
    minimal = AttackRequest(None, 3)
    at_c = AttackRequest(2.5, 3)
    assert rules.rerun_after_model_switch(None, None, 1, 3) is None  # nothing asked yet
    assert rules.rerun_after_model_switch(minimal, 1, 1, 3) == AttackRequest(None, 3)
    assert rules.rerun_after_model_switch(at_c, 1, 1, 3) == AttackRequest(2.5, 3)  # same c
    assert rules.rerun_after_model_switch(minimal, 1, 2, 3) is None  # asked on another input: the rule says nothing runs
    assert rules.rerun_after_model_switch(minimal, 1, 1, 5) == AttackRequest(None, 5)  # one rule: the target now chosen
    assert "re-runs your last attack on this digit" in rules.MODEL_SWITCH_RULE


def test_a_stale_result_whose_new_attack_stopped_says_so_instead_of_waiting():
    text = rules.stale_message(key(1, "cnn", 3), key(1, "cnn", 7), AttackRequest(None, 7), stopped="the model already answers 7")
    assert "attacking again" not in text and "stopped: the model already answers 7" in text


def test_blank_input():
    import numpy as np

    assert rules.is_blank(np.zeros((28, 28), np.float32))
    assert not rules.is_blank(np.eye(28, dtype=np.float32))


def test_gradient_class_rule():
    assert rules.gradient_class_rule(PREDICTED, 3) == "predicted"
    assert rules.gradient_class_rule(TARGET, 3) == 3
    assert rules.gradient_class_rule(TARGET, None) == "runner-up"
    assert rules.gradient_class_rule(6, None) == 6


def test_a_result_of_another_objective_is_stale():
    rival = SimpleNamespace(key=rules.result_key(1, "cnn", 3, "rival"))
    assert rules.is_current(rival, key(1, "cnn", 3, "rival")) and not rules.is_current(rival, key(1, "cnn", 3, "paper"))
    assert not rules.is_current(rival, key(1, "cnn", 3, "rival", 0.9))  # made for another confidence
    assert rules.stale_message(key(1, "cnn", 3, "rival"), key(1, "cnn", 3, "paper")) == (
        "The objective changed to the paper's loss: run the attack again (Ctrl+R).")
    assert rules.stale_message(key(1, "cnn", 3), key(1, "cnn", 3, "rival", 0.9)) == (
        "The confidence asked for changed to at least 90% sure: run the attack again (Ctrl+R).")
    assert rules.rerun_after_model_switch(AttackRequest(2.5, 3, "paper"), 1, 1, 3, "rival") == AttackRequest(2.5, 3, "rival")
