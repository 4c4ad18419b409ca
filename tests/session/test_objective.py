"""The objective in the window's state, without Qt: one objective at a time, named, switchable, never mixed.

Issue 20, item 4: Run (the paper's loss) and Find minimal c (the rival loss) put points of two
different problems on one c plot, and their ||r|| at one c disagreed (0.637 against 0.630).
"""

import pytest

from advviewer.session.choices import DEFAULT_OBJECTIVE, OBJECTIVES, PAPER_OBJECTIVE, RIVAL_OBJECTIVE


def test_the_states_spelling_is_the_cores():
    from advviewer.attack.objective import OBJECTIVES as CORE_OBJECTIVES

    assert set(OBJECTIVES) == set(CORE_OBJECTIVES) and DEFAULT_OBJECTIVE == RIVAL_OBJECTIVE


def test_run_minimal_c_and_drags_all_minimise_the_chosen_objective(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.set_objective(PAPER_OBJECTIVE)
    assert headless.named("objective") == [(PAPER_OBJECTIVE,)]
    s.find_minimal_c()
    headless.settle()
    found = s.current_result().result
    assert found.objective == PAPER_OBJECTIVE and found.mode == "minimal"
    s.drag_c(found.c * 1.3)  # warm-started from the paper's minimal result: stays on the paper's loss
    headless.settle()
    assert s.current_result().result.objective == PAPER_OBJECTIVE
    s.set_objective(RIVAL_OBJECTIVE)
    s.run_attack()
    headless.settle()
    run = s.current_result().result
    assert run.objective == RIVAL_OBJECTIVE and run.mode == "fixed-c"
    assert "(rival loss)" in headless.named("attack_started")[-1][0].description
    with pytest.raises(ValueError):
        s.set_objective("hinge")


def test_a_result_of_the_other_objective_is_stale_and_leaves_the_c_plot(headless, seven_to_three):
    s = headless.state
    assert seven_to_three.result.objective == DEFAULT_OBJECTIVE == s.objective
    assert len(headless.named("runs")[-1][0].points) > 1  # the search and its c sweep
    s.set_objective(PAPER_OBJECTIVE)
    assert s.current_result() is None
    view = headless.named("result")[-1][0]
    assert view.shown is seven_to_three and view.current is None
    assert view.stale.startswith("The objective changed to the paper's loss")
    assert headless.named("runs")[-1][0].points == ()  # no point of the rival loss stays on the plot
    s.run_attack()
    headless.settle()
    runs = headless.named("runs")[-1][0]
    assert runs.key.objective == PAPER_OBJECTIVE and len(runs.points) == 1
    assert runs.points[0].l2 == pytest.approx(s.current_result().result.l2)
    s.set_objective(RIVAL_OBJECTIVE)  # back: the paper's run is stale in its turn
    assert s.current_result() is None and headless.named("runs")[-1][0].points == ()


def test_switching_the_objective_cancels_the_running_attack(headless, seven):
    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.find_minimal_c()
    s.set_objective(PAPER_OBJECTIVE)
    assert not s.attack_running()
    assert headless.named("attack_stopped")[-1] == ("Cancelled: the objective changed.", False)
    headless.settle()
    assert not headless.named("attack_finished")


def test_a_model_switch_re_runs_with_the_chosen_objective(headless, seven):
    from advviewer.models import load_model
    from advviewer.session.values import AttackRequest, ModelChoice

    s = headless.state
    s.set_picture(None, seven, "a seven")
    s.set_target(3)
    s.set_objective(PAPER_OBJECTIVE)
    s.find_minimal_c()
    headless.settle()
    s.use_model(ModelChoice(load_model("fc10-1e-2"), "fc10-1e-2"))
    assert headless.named("attack_started")[-1] == (AttackRequest(None, 3, PAPER_OBJECTIVE),)
    headless.settle()
    assert s.current_result().result.objective == PAPER_OBJECTIVE
