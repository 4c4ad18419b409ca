"""The attack in the window: runs in the background, fills the three panels, cancels, follows the slider."""

import threading
import time

import numpy as np
import pytest
import torch
from helpers import ATTACK_TIMEOUT, choose_target, run_minimal, wait_idle


@pytest.fixture
def calls(monkeypatch):
    """Record every call of the attack (arguments and outcome) while still running the real one."""
    import advviewer.attack

    real = advviewer.attack.lbfgs_attack
    log = []

    def recording(model, image, *args, **kwargs):
        entry = {"c": kwargs.get("c"), "warm_start": kwargs.get("warm_start"), "target": kwargs.get("target")}
        log.append(entry)
        try:
            entry["result"] = real(model, image, *args, **kwargs)
        except Exception as exc:
            entry["error"] = type(exc).__name__
            raise
        cancel = kwargs.get("cancel")
        entry["cancelled_before_it_returned"] = cancel is not None and cancel.is_set()  # it ran to the end regardless
        return entry["result"]

    monkeypatch.setattr(advviewer.attack, "lbfgs_attack", recording)
    return log


def test_minimal_attack_fills_the_three_panels(window, qtbot):
    original = window.state.input.pixels.copy()
    assert window.state.evaluation.predicted == 7
    result = run_minimal(window, qtbot, target=3)
    assert result.success and result.adversarial_class == 3 and result.original_class == 7
    views = window.results.views
    np.testing.assert_array_equal(views["original"].image.image, original)
    np.testing.assert_allclose(views["adversarial"].image.image, result.adversarial)
    np.testing.assert_allclose(views["perturbation"].image.image, result.perturbation)
    assert "<b>7</b>" in window.results.class_labels["original"].text()
    assert "<b>" in window.results.class_labels["adversarial"].text() and ">3<" in window.results.class_labels["adversarial"].text()
    summary = window.results.summary.text()
    assert "Fooled" in summary and f"{result.l2:.3f}" in summary and f"{result.distortion:.4f}" in summary
    assert window.results.export_button.isEnabled()
    assert not window.attack.cancel_button.isEnabled()
    assert "Done" in window.attack.status.text()
    assert window.attack.c_plot.points[-1][0] == pytest.approx(result.c)
    # the slider now shows the c the search found (without re-running)
    assert f"{result.c:.3g}" in window.attack.c_label.text() and window.state.c == pytest.approx(result.c)
    # perturbation scale: magnified to its largest pixel, or the true ±1
    assert window.results.views["perturbation"].bar.levels()[1] >= result.linf
    window.results.magnify.setChecked(False)
    assert window.results.views["perturbation"].bar.levels() == (-1.0, 1.0)


def test_untargeted_attack_reaches_another_class(window, qtbot):
    result = run_minimal(window, qtbot, target=None)
    assert result.success and result.untargeted and result.adversarial_class != 7


def test_fixed_c_run_uses_the_slider(window, qtbot, calls):
    choose_target(window, 3)
    window.state.set_c(10.0)
    assert window.attack.c_label.text() == "c = 10"
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.actions["run"].trigger()
    assert calls[-1]["c"] == pytest.approx(10.0)
    assert blocker.args[0].result.c == pytest.approx(10.0)


def test_cancel_mid_attack(window, qtbot, calls):
    s = window.state
    finished, stopped = [], []
    s.events.attack_finished.connect(finished.append)
    s.events.attack_stopped.connect(lambda text, error: stopped.append(text))
    s.events.attack_progress.connect(lambda p: window.attack.cancel_button.click())  # cancel on the first progress report
    choose_target(window, 3)
    window.attack.minimal_button.click()
    assert window.attack.cancel_button.isEnabled() and s.attack_running()  # at once, before any result
    qtbot.waitUntil(lambda: bool(stopped), timeout=ATTACK_TIMEOUT)
    wait_idle(qtbot, window)
    assert calls and calls[-1].get("error") == "AttackCancelled"  # the attack itself stopped, not only the buttons
    assert not finished and stopped == ["Cancelled."]
    assert window.attack.status.text() == "Cancelled."
    assert not window.attack.cancel_button.isEnabled()
    assert s.current_result() is None and not window.results.export_button.isEnabled()


@pytest.fixture
def first_drag_held(monkeypatch, calls):
    """The first attack started by the drag stops at its first progress report until it is superseded
    (its cancel event set), at most 20 s: then a newer request surely meets a run that is running."""
    import advviewer.attack

    recording = advviewer.attack.lbfgs_attack
    held = threading.Event()

    def holding(model, image, *args, **kwargs):
        if kwargs.get("c") is not None and not held.is_set() and kwargs.get("warm_start") is not None:
            cancel, callback = kwargs["cancel"], kwargs["callback"]

            def hold_once(progress):
                if not held.is_set():
                    held.set()
                    cancel.wait(20)
                callback(progress)

            kwargs["callback"] = hold_once
        return recording(model, image, *args, **kwargs)

    monkeypatch.setattr(advviewer.attack, "lbfgs_attack", holding)
    return held


def test_dragging_the_slider_re_runs_warm_started(window, qtbot, calls, first_drag_held):
    """Eight slider steps: each asks for an attack at its c; a run still going when a newer c is asked
    for is cancelled, and no result for an older c ever reaches the screen once a newer c was asked for."""
    state = window.state
    first = run_minimal(window, qtbot, target=3, settle=True)
    asked: list[float] = []  # the c of every attack started, in order
    appeared: list[tuple] = []  # (c of the result put on screen, c asked last, summary, image right, the result)
    finished: list[tuple[float, float]] = []  # (c of the attack_finished result, c asked last)
    state.events.attack_started.connect(lambda request: asked.append(request.c))
    state.events.attack_finished.connect(lambda item: finished.append((item.result.c, asked[-1])))

    def shown(view):  # connected after the panel's own handler: the panel is already repainted
        result = view.current
        if result is not None and (not appeared or result is not appeared[-1][-1]):
            image_right = np.allclose(window.results.views["adversarial"].image.image, result.adversarial)
            appeared.append((result.c, asked[-1] if asked else None, window.results.summary.text(), image_right, result))

    state.events.result.connect(shown)
    slider = window.attack.slider
    before = len(calls)
    slider.setSliderDown(True)
    start = slider.value()
    slider.setValue(start + 1)
    qtbot.waitUntil(first_drag_held.is_set, timeout=ATTACK_TIMEOUT)  # the first step's run is running now
    for step in range(2, 9):  # seven more steps in quick succession, as a drag sends them
        slider.setValue(start + step)
    slider.setSliderDown(False)
    wanted = state.c
    qtbot.waitUntil(lambda: state.current_result() is not None and state.current_result().result.c == pytest.approx(wanted),
                    timeout=ATTACK_TIMEOUT)
    wait_idle(qtbot, window, ATTACK_TIMEOUT)

    assert len(asked) == 8 and len(set(asked)) == 8 and asked[-1] == wanted  # every step asked for its own c
    # on screen: each result that appeared was for the newest c asked for at that moment, drawn in full
    assert appeared and all(c == pytest.approx(newest) for c, newest, *_ in appeared), [a[:2] for a in appeared]
    assert all(f"c = {c:.3g}" in summary and image_right for c, _, summary, image_right, _ in appeared)
    assert finished and all(c == pytest.approx(newest) for c, newest in finished), finished
    assert appeared[-1][0] == pytest.approx(wanted) and f"c = {wanted:.3g}" in window.results.summary.text()
    drags = calls[before:]
    assert drags[0]["c"] == asked[0] and drags[0]["warm_start"] is first  # warm-started from the last solution
    assert drags[0].get("error") == "AttackCancelled"  # superseded while it ran: it stopped
    for call in drags[:-1]:  # every other superseded run stopped too, or had already run to its end
        assert call.get("error") == "AttackCancelled" or not call["cancelled_before_it_returned"], call
    assert drags[-1]["c"] == pytest.approx(wanted) and "error" not in drags[-1]
    assert len(window.attack.c_plot.points) >= 2


def test_model_switch_re_runs_the_shown_attack(window, qtbot):
    said = []
    window.state.events.attack_started.connect(lambda request: said.append(window.results.summary.text()))
    run_minimal(window, qtbot, target=3)
    with qtbot.waitSignal(window.state.events.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.model_picker.setCurrentIndex(window.model_picker.findData("fc10-1e-2"))
    assert window.state.model.name == "fc10-1e-2"
    assert blocker.args[0].result.target == 3
    assert window.state.current_result() is blocker.args[0]
    assert "The model changed to fc10-1e-2: attacking again" in said[-1]  # the window says what the switch does


def test_drawing_cancels_the_attack_and_marks_results_stale(window, qtbot, draw, calls):
    s = window.state
    run_minimal(window, qtbot, target=3, settle=True)
    finished, stopped = [], []
    s.events.attack_finished.connect(finished.append)
    s.events.attack_stopped.connect(lambda text, error: stopped.append(text))

    def draw_once(_):
        if not stopped:  # on the second attack's first progress report, while it runs
            window.canvas.clear()
            draw(window.canvas, [(0.5, 0.2), (0.5, 0.8)])
            window.drawing.flush()  # what the live timer does on the next pass of the event loop

    s.events.attack_progress.connect(draw_once)
    choose_target(window, 5)
    window.attack.minimal_button.click()
    qtbot.waitUntil(lambda: bool(stopped), timeout=ATTACK_TIMEOUT)
    wait_idle(qtbot, window)
    assert stopped == ["Cancelled: the input changed."] and not finished
    assert calls[-1].get("error") == "AttackCancelled"
    assert "input changed" in window.results.summary.text()
    assert not window.results.export_button.isEnabled()
    assert s.current_result() is None


def test_close_while_an_attack_runs(make_window, qtbot):
    window = make_window()
    choose_target(window, 3)
    with qtbot.waitSignal(window.state.events.attack_started, timeout=ATTACK_TIMEOUT):
        window.attack.minimal_button.click()
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 2
    assert not window.state.attack_running() and window.state.is_idle()


class SlowInTheBackground(torch.nn.Module):
    """A user's model whose forward pass takes 12 s off the GUI thread (the live path stays quick)."""

    def __init__(self, entered: threading.Event) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(784, 10)
        self.entered = entered

    def forward(self, x):
        if threading.current_thread() is not threading.main_thread():
            self.entered.set()
            time.sleep(12)
        return self.linear(x.flatten(1))


def test_close_mid_attack_with_a_slow_model_returns_at_once(make_window, qtbot):
    """Issue 7: closing must return within 2 s and never abort, even inside a 12-second forward pass."""
    from advviewer.session.values import ModelChoice

    window = make_window()
    entered = threading.Event()
    window.state.use_model(ModelChoice(SlowInTheBackground(entered).eval(), "slow.pt"))
    choose_target(window, 3)
    window.attack.minimal_button.click()
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 2
    qtbot.wait(50)  # the event loop goes on: nothing was destroyed under the running job
    assert window.state.is_idle()


def test_the_bar_does_not_keep_an_old_attacks_target_probability_beside_a_new_digit(window, qtbot, draw):
    run_minimal(window, qtbot, target=3, settle=True)
    assert window.attack.progress.value() >= 40  # minimal c: the adversarial is just across the boundary
    draw(window.canvas, [(0.2, 0.5), (0.8, 0.5)])
    window.drawing.flush()
    assert "input changed" in window.results.summary.text()
    assert window.attack.progress.value() == 0


def test_the_c_plot_never_mixes_two_objectives(window, qtbot):
    """Issue 20 item 4: Run at c (paper's loss), then Find minimal c with the rival loss: one objective's points at a time."""
    from advviewer.session.choices import PAPER_OBJECTIVE, RIVAL_OBJECTIVE

    s, panel = window.state, window.attack
    plotted: list[tuple[str, tuple]] = []  # (the objective named on the plot, its points), at every redraw
    s.events.runs.connect(lambda runs: plotted.append((panel.c_plot.objective, tuple(panel.c_plot.points))))
    choose_target(window, 3)
    panel.objective_box.setCurrentIndex(panel.objective_box.findData(PAPER_OBJECTIVE))
    s.set_c(0.5)
    with qtbot.waitSignal(s.events.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        panel.run_button.click()
    run = blocker.args[0].result
    assert run.objective == PAPER_OBJECTIVE and "Objective: paper's loss" in window.results.summary.text()
    assert panel.c_plot.points == [(pytest.approx(0.5), pytest.approx(run.l2), run.success)]
    panel.objective_box.setCurrentIndex(panel.objective_box.findData(RIVAL_OBJECTIVE))
    assert panel.c_plot.points == [] and "The objective changed" in window.results.summary.text()
    found = run_minimal(window, qtbot, target=3, settle=True)
    assert found.objective == RIVAL_OBJECTIVE and "Objective: rival loss" in window.results.summary.text()
    assert "rival loss" in panel.status.text()
    points = panel.c_plot.points
    assert len(points) > 1 and (pytest.approx(found.c), pytest.approx(found.l2), True) in points
    assert all((c, l2) != (pytest.approx(0.5), pytest.approx(run.l2)) for c, l2, _ in points)
    # every redraw showed one objective's runs only, the one the plot names
    seen = {objective for objective, _ in plotted}
    assert seen == {PAPER_OBJECTIVE, RIVAL_OBJECTIVE}
    assert [len(p) for o, p in plotted if o == RIVAL_OBJECTIVE][0] == 0


def test_a_convincing_result_on_demand(window, qtbot):
    """Issue 24 item 4: 'sure: at least 90% sure' makes Find minimal c reach p(target) >= 0.9, the panels say so,
    and the boundary result is no longer the current one once the confidence changes (nor the other way round)."""
    s, panel = window.state, window.attack
    boundary = run_minimal(window, qtbot, target=3, settle=True)
    assert boundary.confidence is None and boundary.adversarial_probs[3] < 0.9
    panel.confidence_box.setCurrentIndex(panel.confidence_box.findData(0.9))
    assert s.confidence == 0.9 and "The confidence asked for changed" in window.results.summary.text()
    sure = run_minimal(window, qtbot, target=3, settle=True)
    assert sure.success and sure.confidence == 0.9 and sure.adversarial_probs[3] >= 0.9
    assert sure.l2 > boundary.l2
    assert "at least 90% sure" in window.results.summary.text()
    assert panel.progress.value() >= 90
    panel.confidence_box.setCurrentIndex(panel.confidence_box.findData(None))
    assert s.current_result() is None  # the 90% result answers another question
