"""``max_evaluations``: a total budget of model evaluations per image, the best answer found within it."""

import numpy as np
import pytest

from advviewer import lbfgs_attack, lbfgs_attack_batch, predict
from advviewer.attack.lbfgs_steps import MAX_BACKTRACKS


@pytest.fixture(scope="module")
def pairs(test_digits, cnn):
    images, _ = test_digits
    idx = np.random.default_rng(17).choice(len(images), 5, replace=False)
    orig = predict(cnn, images[idx]).argmax(1)
    return images[idx], [int((o + 4) % 10) for o in orig]


def test_a_budget_bounds_the_work_and_returns_the_best_answer_found(cnn, pairs):
    images, targets = pairs
    free = lbfgs_attack_batch(cnn, images, targets)
    budget = int(np.median(free.evaluations)) // 2  # half of what the search takes on a typical pair
    capped = lbfgs_attack_batch(cnn, images, targets, max_evaluations=budget)
    # one row per problem here: an iteration under way when the budget is reached may add a line search's worth
    assert (capped.evaluations <= budget + MAX_BACKTRACKS).all()
    assert capped.evaluations.sum() < free.evaluations.sum()
    fooled = capped.success
    assert fooled.any()  # half the budget finds a fooling image on most pairs, if not the smallest
    # an answer within the budget is a fooling image the search found: never smaller than the full search's (which is
    # within 0.1% of the reference's), and what it says it is (the model's answer on the returned image)
    assert (capped.l2[fooled] >= free.l2[fooled] * (1 - 1e-3)).all()
    assert (predict(cnn, capped.adversarial).argmax(1)[fooled] == np.asarray(targets)[fooled]).all()


def test_a_budget_the_search_does_not_reach_is_spent_on_precision(cnn, pairs):
    images, targets = pairs
    free = lbfgs_attack_batch(cnn, images, targets)
    budget = 100 * int(free.evaluations.max())
    ample = lbfgs_attack_batch(cnn, images, targets, max_evaluations=budget)
    assert ample.success.all() and (ample.evaluations < budget).all()
    # the search refines the boundary further (c_bracket.BUDGET_RTOL): smaller answers in all, none larger than
    # without a budget beyond 1e-3 (after a sharpened re-search the two searches' paths may part)
    assert ample.l2.sum() < free.l2.sum()
    assert (ample.l2 <= free.l2 * (1 + 1e-3)).all()
    assert (predict(cnn, ample.adversarial).argmax(1) == np.asarray(targets)).all()


@pytest.mark.parametrize("budget", [0, -5, 2.5, True])
def test_a_budget_is_a_positive_integer(cnn, pairs, budget):
    from advviewer.errors import AttackInputError

    with pytest.raises(AttackInputError, match="max_evaluations"):
        lbfgs_attack(cnn, pairs[0][0], pairs[1][0], max_evaluations=budget)
