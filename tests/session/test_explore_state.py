"""ExploreState headless: it computes only the view on screen, for the shown result, newest first."""

import numpy as np


def _explore_log(explore):
    log = []
    for name in explore.events.signals:
        getattr(explore.events, name).connect(lambda *args, name=name: log.append((name, args)))
    return log


def _attack_seven(h, seven) -> None:
    """The shown result: a minimal attack turning the 7 into a 3, settled."""
    h.state.set_picture(None, seven, "a 7")
    h.state.set_target(3)
    h.state.find_minimal_c()
    h.settle()


def test_only_the_view_on_screen_is_computed_for_the_shown_result(headless, seven):
    h, explore = headless, headless.state.explore
    log = _explore_log(explore)
    _attack_seven(h, seven)
    assert not [n for n, _ in log if n != "status"]  # nothing open: nothing computed
    explore.set_active("noise_check")
    h.settle()
    (check,) = [a[0] for n, a in log if n == "noise_check"]
    assert check.l2 == h.state.current_result().result.l2 and check.original_class == 7
    explore.set_active("noise_check")  # the same result: not computed again
    h.settle()
    assert len([n for n, _ in log if n == "noise_check"]) == 1


def test_a_new_result_supersedes_the_views_work(headless, seven):
    h, explore = headless, headless.state.explore
    log = _explore_log(explore)
    _attack_seven(h, seven)
    explore.set_active("all_targets")  # several seconds of work...
    h.state.set_target(5)
    h.state.find_minimal_c()  # ...the input and model did not change: the same nine attacks serve
    h.settle()
    batches = [a[0] for n, a in log if n == "all_targets"]
    assert len(batches) >= 1 and all(len(b.results) == 9 for b in batches)
    assert batches[-1].shown_target == 5


def test_choosing_a_target_tile_makes_it_the_current_result(headless, seven):
    h, explore = headless, headless.state.explore
    log = _explore_log(explore)
    _attack_seven(h, seven)
    explore.set_active("all_targets")
    h.settle()
    explore.choose_target(2)
    current = h.state.current_result()
    assert h.state.target == 2 and current is not None and current.result.target == 2 and current.result.success
    assert [a[0].shown_target for n, a in log if n == "all_targets"][-1] == 2
    h.state.set_picture(None, np.zeros((28, 28), np.float32), "black")  # the tiles are for the 7: refused
    explore.choose_target(4)
    assert h.state.target == 2
