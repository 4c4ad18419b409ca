"""The window's state without Qt: what is current, what is stale, what a model switch re-runs, what never arrives."""

import subprocess
import sys

import numpy as np
import pytest

from advviewer.session.choices import FINITE_DIFFERENCES, PREDICTED, TARGET


def test_a_new_input_is_evaluated_once_with_the_predicted_class_gradient(headless, seven):
    s = headless.state
    forwards = []
    s.model.module.register_forward_hook(lambda *_: forwards.append(1))
    s.set_picture(None, seven, "a seven")
    (e,), = headless.named("evaluated")[-1:]
    assert e is s.evaluation and e.input is s.input and s.input.source == "a seven"
    assert e.predicted == 7 and e.gradient_class == 7 and s.gradient.cls == PREDICTED
    assert len(forwards) == 1  # one forward (and one backward) pass, no guess and second pass
    drawn = (np.random.default_rng(0).random((280, 280)) > 0.99).astype(np.uint8) * 255
    s.set_picture(drawn)
    assert s.input.source == "drawn on the canvas" and s.input.version == 2


def test_the_gradient_of_the_target_class_follows_the_target(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_gradient_class(TARGET)
    runner_up = int(np.argsort(s.evaluation.probs)[-2])
    assert s.target is None and s.evaluation.gradient_class == runner_up  # any other class: the likeliest other one
    s.set_target(2)
    assert s.evaluation.gradient_class == 2 and s.evaluation.target == 2
    assert headless.named("target")[-1] == (2,)


def test_a_result_is_current_until_the_input_changes_and_stays_in_the_session(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.find_minimal_c()
    assert s.attack_running()
    headless.settle()
    item = s.current_result()
    assert item is not None and item.result.success and item.result.target == 3 and item.source == "a seven"
    assert s.c == pytest.approx(item.result.c)  # the c found is now the chosen c
    shown = headless.named("result")[-1][0]
    assert shown.shown is item and shown.stale is None  # the result panel was told
    runs = headless.named("runs")[-1][0]
    assert len(runs.points) == 11 and runs.points[0].c == pytest.approx(item.result.c)  # the run and its c sweep
    s.set_picture(None, np.roll(seven, 2, axis=1), "moved")
    assert s.current_result() is None and s.results.items == (item,)  # stale, but kept for Export all
    view = headless.named("result")[-1][0]
    assert view.shown is item and view.stale == "The input changed: run the attack again (Ctrl+R)."
    assert headless.named("runs")[-1][0].points == ()


def test_any_other_class_is_none(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.find_minimal_c()
    headless.settle()
    result = s.current_result().result
    assert result.untargeted and result.adversarial_class != 7
    with pytest.raises(ValueError):
        s.set_target(-1)


def test_a_model_switch_re_runs_the_attack_on_screen_and_says_so(headless, seven_to_three):
    from advviewer.models import load_model
    from advviewer.session.values import AttackRequest, ModelChoice

    s = headless.state
    s.use_model(ModelChoice(load_model("fc10-1e-2"), "fc10-1e-2"))
    assert headless.named("attack_started")[-1] == (AttackRequest(None, 3),)
    assert headless.named("result")[-1][0].stale == "The model changed to fc10-1e-2: attacking again…"
    headless.settle()
    assert s.current_result().model.name == "fc10-1e-2" and s.current_result().result.target == 3


def test_a_superseded_attack_never_arrives(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.drag_c(0.5)
    s.drag_c(0.8)  # before anything was delivered: the first run is superseded
    headless.settle()
    finished = headless.named("attack_finished")
    assert len(finished) == 1 and finished[0][0].result.c == pytest.approx(0.8)
    assert s.c == pytest.approx(0.8)


def test_cancel_stops_the_attack_and_nothing_arrives(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.find_minimal_c()
    s.cancel_attack()
    assert not s.attack_running() and headless.named("attack_stopped") == [("Cancelled.", False)]
    headless.settle()
    assert not headless.named("attack_finished") and s.current_result() is None


def test_finite_differences_arrive_for_the_newest_input_only(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_gradient_method(FINITE_DIFFERENCES)
    s.set_picture(None, np.roll(seven, 1, axis=0), "moved")
    headless.settle()
    (fd,), = headless.named("finite_differences")
    assert fd.input is s.input and fd.relative_difference < 0.05 and fd.correlation > 0.99


def test_a_model_that_cannot_be_loaded_falls_back_with_a_message(headless, tmp_path):
    s = headless.state
    s.load_model(str(tmp_path / "gone.pt"), fallback="fc10-1")
    headless.settle()
    assert s.model.name == "fc10-1"
    text, kind = headless.named("message")[-1]
    assert text.startswith(f"Could not load the model '{tmp_path / 'gone.pt'}'") and "using fc10-1 instead" in text
    s.load_model(str(tmp_path / "gone.pt"))
    headless.settle()
    assert s.model.name == "fc10-1" and "Still using fc10-1." in headless.named("message")[-1][0]


def test_the_state_runs_without_qt():
    script = ("import sys, numpy as np\n"
              "from advviewer.session.state import SessionState\n"
              "from advviewer.session.tasks import DeliveryQueue\n"
              "q = DeliveryQueue(); s = SessionState(q.post); s.load_model('fc10-1e-2')\n"
              "assert s.wait_until_idle(60, q.run_pending)\n"
              "s.set_picture(np.zeros((280, 280), np.uint8)); s.set_target(3); s.find_minimal_c()\n"
              "assert s.wait_until_idle(60, q.run_pending) and s.current_result() is not None\n"
              "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'advviewer.gui'))]\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_what_is_drawn_while_the_model_loads_is_evaluated_once_it_is_in_use(seven):
    """The window paints before torch is imported: loads wait for release_model_loading, the input waits for the model."""
    import time

    from advviewer.session.state import SessionState
    from advviewer.session.tasks import DeliveryQueue

    queue = DeliveryQueue()
    state = SessionState(queue.post)
    evaluated = []
    state.events.evaluated.connect(evaluated.append)
    try:
        state.hold_model_loading()
        state.load_model("cnn")
        assert state.loading == "cnn" and state.model is None
        state.set_picture(None, exact=seven, source="a seven")
        time.sleep(0.3)
        queue.run_pending()
        assert state.model is None and not evaluated  # held: nothing loaded, nothing evaluated, nothing lost
        assert state.input.source == "a seven"
        state.release_model_loading()
        assert state.wait_until_idle(60, queue.run_pending)
        assert state.model is not None and state.model.name == "cnn" and state.loading is None
        assert len(evaluated) == 1 and evaluated[0].input is state.input and evaluated[0].predicted == 7
    finally:
        state.shutdown()


def test_building_the_window_state_imports_no_torch():
    """`import torch` takes 2-3 s on a cold start: the state, its rules and values must not need it until a model loads."""
    script = ("import sys, numpy as np\n"
              "from advviewer.session.state import SessionState\n"
              "from advviewer.session import catalog, explore, export, model_cards\n"
              "from advviewer.session.tasks import DeliveryQueue\n"
              "q = DeliveryQueue(); s = SessionState(q.post); s.hold_model_loading(); s.load_model('cnn')\n"
              "s.set_picture(np.zeros((280, 280), np.uint8)); s.set_target(3); s.set_gradient_class(5)\n"
              "model_cards.one_line('cnn'); catalog.zoo_models()\n"
              "print('torch' in sys.modules); s.shutdown()\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_an_attack_asked_for_while_the_model_loads_starts_once_it_is_in_use(seven):
    """Find minimal c pressed in the second before the first model is in use is not lost (nor silently dropped)."""
    from advviewer.session.state import SessionState
    from advviewer.session.tasks import DeliveryQueue

    queue = DeliveryQueue()
    state = SessionState(queue.post)
    messages, finished = [], []
    state.events.message.connect(lambda text, kind: messages.append(text))
    state.events.attack_finished.connect(finished.append)
    try:
        state.hold_model_loading()
        state.load_model("cnn")
        state.set_picture(None, exact=seven, source="a seven")
        state.set_target(3)
        state.find_minimal_c()
        assert not state.attack_running() and "still loading" in messages[-1] and "starts as soon" in messages[-1]
        state.release_model_loading()
        assert state.wait_until_idle(120, queue.run_pending)
        (item,) = finished
        assert item.result.success and item.result.target == 3 and item.result.mode == "minimal"
        assert state.current_result() is item
    finally:
        state.shutdown()
