"""The core of the "Explore this result" views: all targets, transfer, trajectory, FGSM/DDN, same-size noise."""

import numpy as np
import pytest
import torch

from advviewer.attack import lbfgs_attack
from advviewer.explore.baselines import ddn, fgsm, fgsm_direction
from advviewer.explore.noise import noise_check
from advviewer.explore.targets import all_targets
from advviewer.explore.trajectory import trajectory
from advviewer.explore.transfer import model_answers


def _digit(test_digits, k=0):
    return test_digits[0][k]


def test_all_targets_gives_the_minimal_attack_for_each_other_class(cnn, test_digits):
    x = _digit(test_digits)
    results = all_targets(cnn, x)
    answer = results[0].original_class
    assert [r.target for r in results] == [k for k in range(10) if k != answer]
    assert all(r.success and r.adversarial_class == r.target and r.history for r in results)
    alone = lbfgs_attack(cnn, x, target=results[4].target)  # the batch finds what one attack finds
    assert results[4].l2 == pytest.approx(alone.l2, rel=0.02)


def test_model_answers_lists_every_model_on_both_images(cnn, test_digits):
    from advviewer import load_model

    x = _digit(test_digits)
    r = lbfgs_attack(cnn, x, target=3)
    models = {"cnn": cnn, "fc10-1e-4": load_model("fc10-1e-4")}
    answers = model_answers(models, x, r.adversarial)
    assert [a.model for a in answers] == ["cnn", "fc10-1e-4"]
    assert answers[0].original_class == test_digits[1][0] and answers[0].adversarial_class == 3 and answers[0].changed
    assert 0 < answers[1].adversarial_confidence <= 1


def test_trajectory_ends_at_the_result_across_the_boundary(cnn, test_digits):
    x = _digit(test_digits)
    r = lbfgs_attack(cnn, x, target=3, record_history=True)
    t = trajectory(cnn, x, r.history, 3)
    assert len(t) == len(r.history) and t.l2[0] == 0 and t.margin[0] < 0
    assert t.l2[-1] == pytest.approx(r.l2, rel=1e-3) and t.margin[-1] > 0


def test_fgsm_is_foolboxs_targeted_step(cnn, test_digits):
    fb = pytest.importorskip("foolbox")
    x = torch.as_tensor(_digit(test_digits)).view(1, 1, 28, 28)
    step = fb.attacks.LinfBasicIterativeAttack(rel_stepsize=1.0, steps=1, random_start=False)  # one step: FGSM, targeted
    _, theirs, _ = step(fb.PyTorchModel(cnn, bounds=(0, 1)), x, fb.criteria.TargetedMisclassification(torch.tensor([3])),
                        epsilons=0.05)
    ours = (x + 0.05 * fgsm_direction(cnn, x, 3)).clamp(0, 1)
    assert torch.equal(theirs, ours)
    found = fgsm(cnn, _digit(test_digits), 3)
    assert found.success and found.adversarial_class == 3
    assert found.l2 > lbfgs_attack(cnn, _digit(test_digits), target=3).l2  # one signed step is far from minimal


def test_ddn_follows_foolboxs_ddn(cnn, test_digits):
    fb = pytest.importorskip("foolbox")
    for k in (0, 1):
        x = _digit(test_digits, k)
        ours = ddn(cnn, x, (int(test_digits[1][k]) + 3) % 10, steps=120)
        xt = torch.as_tensor(x).view(1, 1, 28, 28)
        crit = fb.criteria.TargetedMisclassification(torch.tensor([(int(test_digits[1][k]) + 3) % 10]))
        _, theirs, _ = fb.attacks.DDNAttack(steps=120)(fb.PyTorchModel(cnn, bounds=(0, 1)), xt, crit, epsilons=None)
        np.testing.assert_allclose(ours.adversarial, theirs.view(28, 28).numpy(), atol=1e-4)
        assert ours.success and ours.evaluations == 121


def test_same_size_noise_keeps_the_class_where_the_minimal_attack_does_not(cnn, test_digits):
    x = _digit(test_digits)
    r = lbfgs_attack(cnn, x, target=3)
    check = noise_check(cnn, x, r.l2, draws=12, seed=0)
    moved = np.sqrt(((check.images - x) ** 2).reshape(12, -1).sum(1))
    np.testing.assert_allclose(moved, r.l2, rtol=1e-4)
    assert check.images.min() >= 0 and check.images.max() <= 1
    assert check.original_class == test_digits[1][0] and check.kept >= 10
