"""The attack in the window: runs in the background, fills the three panels, cancels, follows the slider."""

import time

import numpy as np
import pytest

ATTACK_TIMEOUT = 90_000  # ms; generous for a shared 2-core machine


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
        return entry["result"]

    monkeypatch.setattr(advviewer.attack, "lbfgs_attack", recording)
    return log


def run_minimal(window, qtbot, target=3):
    window.attack.set_target(target)
    with qtbot.waitSignal(window.session.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.attack.minimal_button.click()
    return blocker.args[0]


def test_minimal_attack_fills_the_three_panels(window, qtbot):
    original = window.session.input.copy()
    assert window.session.live.predicted == 7
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
    assert f"{result.c:.3g}" in window.attack.c_label.text()
    # perturbation scale: magnified to its largest pixel, or the true ±1
    assert window.results.views["perturbation"].bar.levels()[1] >= result.linf
    window.results.magnify.setChecked(False)
    assert window.results.views["perturbation"].bar.levels() == (-1.0, 1.0)


def test_untargeted_attack_reaches_another_class(window, qtbot):
    result = run_minimal(window, qtbot, target=-1)
    assert result.success and result.untargeted and result.adversarial_class != 7


def test_fixed_c_run_uses_the_slider(window, qtbot, calls):
    window.attack.set_target(3)
    window.attack.set_c(10.0)
    with qtbot.waitSignal(window.session.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.actions["run"].trigger()
    assert calls[-1]["c"] == pytest.approx(10.0)
    assert blocker.args[0].c == pytest.approx(10.0)


def test_cancel_mid_attack(window, qtbot):
    s = window.session
    finished = []
    s.attack_finished.connect(finished.append)
    s.attack_progress.connect(lambda p: window.attack.cancel_button.click())  # cancel on the first progress report
    window.attack.set_target(3)
    with qtbot.waitSignal(s.attack_cancelled, timeout=ATTACK_TIMEOUT):
        window.attack.minimal_button.click()
        assert window.attack.cancel_button.isEnabled() or s.attack_running()
    assert not finished
    assert window.attack.status.text() == "Cancelled."
    assert not window.attack.cancel_button.isEnabled()
    assert window.results.result is None
    qtbot.waitUntil(lambda: not s.attack_running(), timeout=5000)


def test_dragging_the_slider_re_runs_warm_started(window, qtbot, calls):
    first = run_minimal(window, qtbot, target=3)
    slider = window.attack.slider
    slider.setSliderDown(True)
    start = slider.value()
    for step in range(1, 9):  # eight steps in quick succession, as a drag sends them
        slider.setValue(start + step)
    slider.setSliderDown(False)
    wanted = window.attack.c
    qtbot.waitUntil(lambda: window.results.result is not None and window.results.result.c == pytest.approx(wanted), timeout=ATTACK_TIMEOUT)
    drags = calls[1:]
    assert drags and all(call["c"] is not None for call in drags)
    assert drags[0]["warm_start"] is first  # warm-started from the last solution
    # a newer request cancelled (or replaced) the older ones: never a queue of stale runs
    assert len(drags) < 8 or sum("error" in call for call in drags) > 0
    assert drags[-1]["c"] == pytest.approx(wanted)
    assert len(window.attack.c_plot.points) >= 2


def test_model_switch_re_runs_the_shown_attack(window, qtbot):
    run_minimal(window, qtbot, target=3)
    with qtbot.waitSignal(window.session.attack_finished, timeout=ATTACK_TIMEOUT) as blocker:
        window.model_picker.setCurrentIndex(window.model_picker.findData("fc10-1e-2"))
    assert window.session.model_name == "fc10-1e-2"
    assert blocker.args[0].target == 3
    assert window.results.result is blocker.args[0]


def test_drawing_cancels_the_attack_and_marks_results_stale(window, qtbot, draw, gui):
    run_minimal(window, qtbot, target=3)
    window.canvas.clear()
    draw(window.canvas, [(0.5, 0.2), (0.5, 0.8)])
    gui.wait_live(window)
    assert "input changed" in window.results.summary.text()
    assert not window.results.export_button.isEnabled()


def test_close_while_an_attack_runs(make_window, qtbot):
    window = make_window()
    s = window.session
    window.attack.set_target(3)
    with qtbot.waitSignal(s.attack_started, timeout=ATTACK_TIMEOUT):
        window.attack.minimal_button.click()
    t0 = time.perf_counter()
    window.close()
    assert time.perf_counter() - t0 < 10
    assert s._attacks._thread.isFinished() and s._side._thread.isFinished()
