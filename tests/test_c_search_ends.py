"""The c search's last round when c is known but its two ends' answers disagree (c_rounds.finished).

The search's solves stop at a loose tolerance. Where the two ends' c differ by 0.1% but their L2
by more than 0.1%, a solve stopped short: a "failure" that is no failure (its solve had not reached
the boundary yet), or a "success" off the path. Seen on fc10-1e-2 in a 900-pair batch: 1% above
the exact minimum until both ends were solved on. These tests drive the bracket with the answers
such solves give.
"""

import numpy as np
import pytest
import torch

from advviewer.attack.c_bracket import Bracket, SearchOptions, next_candidates
from advviewer.attack.c_rounds import RoundAnswer, finished, two_strongest_rivals, update

TARGET = 3


def bracket(lo, hi) -> Bracket:
    """One problem whose bracket ends are ``lo`` and ``hi``: (c, margin, L2) each."""
    z0 = np.zeros((1, 10))
    z0[0, 0] = 1.0  # the original answer 0, one logit ahead of the target
    b = Bracket(torch.zeros((1, 784), dtype=torch.float64), np.array([TARGET]), z0, np.ones(1), SearchOptions())
    for end, (c, m, l2), row in (("lo", lo, 1), ("hi", hi, 2)):
        getattr(b, f"{end}_c")[0], getattr(b, f"{end}_m")[0], getattr(b, f"{end}_l2")[0] = c, m, l2
        getattr(b, f"{end}_parent")[0] = row
    b.best_c[0], b.best_l2[0], b.best_parent[0] = hi[0], hi[2], 2
    return b


def solved(row, c, m, l2):
    """A finished solve as the search hands it to ``update`` (one rival clearly ahead of the others): its x a
    float64 tensor, as the solver's rows are."""
    z = np.zeros(10)
    z[0] = 1.0
    return RoundAnswer(row=row, c=c, x=torch.full((784,), l2 / 28.0, dtype=torch.float64), z=z, margin=m, l2=l2)


def test_ends_that_agree_end_the_search_at_once():
    b = bracket((10.0, -0.001, 3.9530), (10.005, 0.002, 3.9534))
    assert finished(b, 0, SearchOptions())
    assert not b.polishing[0]


def test_a_failure_that_succeeds_when_solved_on_reopens_the_search_below_it():
    b = bracket((14.286, 1e-5, 4.541), (14.295, 0.056, 4.584))
    assert not finished(b, 0, SearchOptions())  # c known to 0.06%, L2 apart by 1%: one more round
    assert next_candidates(b, 0, 3) == [14.286, 14.295]  # both ends, whatever k
    update(b, 0, [solved(7, 14.286, 0.0557, 4.5834), solved(8, 14.295, 0.0566, 4.5841)], SearchOptions())
    assert b.hi_c[0] == 14.286 and b.hi_l2[0] == pytest.approx(4.5834)
    assert b.lo_c[0] == 0.0  # no failure known any more
    assert not b.done[0] and not b.polishing[0]
    assert b.best_l2[0] == pytest.approx(4.5834)  # the smallest success so far
    assert max(next_candidates(b, 0, 1)) < 14.286  # the search steps down again


def test_a_success_that_fails_when_solved_on_lets_c_grow_again():
    b = bracket((9.7714, -0.0336, 3.9331), (9.7793, 0.0138, 3.9633))
    assert not finished(b, 0, SearchOptions())
    update(b, 0, [solved(7, 9.7714, -0.0260, 3.9379), solved(8, 9.7793, -0.0248, 3.9386)], SearchOptions())
    assert b.lo_c[0] == 9.7793 and b.lo_m[0] == pytest.approx(-0.0248)
    assert not b.found[0] and not b.done[0]
    assert b.best_l2[0] == pytest.approx(3.9633)  # the loose success is still an adversarial image: kept
    assert min(next_candidates(b, 0, 1)) > 9.7793


def test_ends_confirmed_when_solved_on_end_the_search_with_the_tight_answers():
    b = bracket((8.9287, -0.0004, 0.2810), (8.9354, 0.0003, 0.2842))
    assert not finished(b, 0, SearchOptions())
    update(b, 0, [solved(7, 8.9287, -0.0001, 0.2826), solved(8, 8.9354, 0.0002, 0.2830)], SearchOptions())
    assert b.done[0]
    assert b.hi_l2[0] == pytest.approx(0.2830) and b.best_l2[0] == pytest.approx(0.2830)
    assert b.lo_l2[0] == pytest.approx(0.2826)


# The sharpening test (c_rounds.update): the two strongest classes other than the target, on numpy
# arrays and on torch tensors (the engine's answers are to become tensors on the model's device).
NUMPY_AND_TORCH = [np.asarray, torch.tensor, lambda z: torch.tensor(z, dtype=torch.float32)]


@pytest.mark.parametrize("array", NUMPY_AND_TORCH)
def test_the_two_strongest_rivals_leave_out_the_target(array):
    z = array([0.5, 4.0, -1.0, 3.0, 2.5])
    strongest, runner_up = two_strongest_rivals(z, target=1)  # the target is the largest: not a rival
    assert (float(strongest), float(runner_up)) == (3.0, 2.5)
    strongest, runner_up = two_strongest_rivals(z, target=3)
    assert (float(strongest), float(runner_up)) == (4.0, 2.5)
    assert float(strongest - runner_up) == 1.5


@pytest.mark.parametrize("array", NUMPY_AND_TORCH)
def test_tied_rivals_have_no_gap(array):
    strongest, runner_up = two_strongest_rivals(array([1.0, 7.0, 0.0, 7.0]), target=2)
    assert float(strongest - runner_up) == 0.0


def test_torch_logits_stay_tensors_in_their_precision():
    z = torch.tensor([5.0, 3.0, 1e-8], dtype=torch.float32)
    strongest, runner_up = two_strongest_rivals(z, target=0)
    assert isinstance(strongest, torch.Tensor) and isinstance(runner_up, torch.Tensor)
    assert strongest.dtype == runner_up.dtype == torch.float32
    # the gap in the logits' precision, as numpy takes it on float32 logits: 3 - 1e-8 is 3 in float32
    assert float(strongest - runner_up) == 3.0 == float(np.float32(3.0) - np.float32(1e-8))
    assert 3.0 - float(np.float32(1e-8)) != 3.0  # (in float64 it is not)


@pytest.mark.parametrize("array", NUMPY_AND_TORCH)
def test_two_classes_have_one_rival_and_nothing_to_blur(array):
    strongest, runner_up = two_strongest_rivals(array([2.0, -1.0]), target=0)
    assert float(strongest) == -1.0 and float(strongest - runner_up) == float("inf")


def first_success_with_rivals(gap: float) -> Bracket:
    """A new search (original gap 1: temperature 0.01) whose first round succeeds with its two strongest rivals ``gap`` apart."""
    z0 = np.zeros((1, 10))
    z0[0, 0] = 1.0
    b = Bracket(torch.zeros((1, 784), dtype=torch.float64), np.array([TARGET]), z0, np.ones(1), SearchOptions())
    z = np.zeros(10)
    z[TARGET], z[0], z[5] = 2.0, 1.0, 1.0 - gap
    update(b, 0, [RoundAnswer(row=4, c=2.0, x=torch.full((784,), 0.01, dtype=torch.float64), z=z, margin=1.0, l2=0.28)], SearchOptions())
    return b


def test_a_first_success_with_tied_rivals_sharpens_the_loss_and_searches_again():
    b = first_success_with_rivals(gap=0.01)  # within 7 temperatures
    assert b.sharpened[0] == 1 and b.tau[0] == pytest.approx(0.001)
    assert b.new_path[0] and not b.found[0]  # a new search on the sharper path ...
    assert b.best_l2[0] == 0.28 and b.best_c[0] == 2.0  # ... that keeps the success found


def test_a_first_success_with_one_rival_ahead_refines_c_on_its_path():
    b = first_success_with_rivals(gap=0.5)  # 50 temperatures: the soft maximum blurs nothing
    assert b.sharpened[0] == 0 and b.tau[0] == pytest.approx(0.01)
    assert b.hi_c[0] == 2.0 and b.hi_parent[0] == 4 and not b.new_path[0]
