"""The attack API as a PyTorch user calls it: tensors or arrays in, one batch object out, the bundled digits ready to use."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import advviewer
from advviewer import AttackInputError, load_digits, load_model, predict
from advviewer.attack import AttackResult, AttackResults, lbfgs_attack, lbfgs_attack_batch


@pytest.fixture(scope="module")
def fc10():
    return load_model("fc10-1e-2")  # fast: these tests are about forms, not quality


@pytest.fixture(scope="module")
def batch(fc10):
    images, _ = load_digits("test")
    x = images[:4]
    targets = np.argsort(predict(fc10, x), 1)[:, -2]
    return x, targets


def test_load_digits_gives_what_the_models_and_the_attack_take(fc10):
    images, labels = load_digits("test")
    assert images.shape == (1000, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() == 1.0
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [100] * 10
    assert (predict(fc10, images).argmax(1) == labels).mean() > 0.85  # real digits, in the models' scale
    assert load_digits("train")[0].shape == (4000, 28, 28) and load_digits("all")[0].shape == (5000, 28, 28)
    first = images[0].copy()
    images[0] = 0.5  # a fresh array each call: the bundled data is not changed
    assert np.array_equal(load_digits("test")[0][0], first)
    with pytest.raises(ValueError):
        load_digits("validation")
    r = lbfgs_attack(fc10, images[1], untargeted=True)  # accepted as it is
    assert r.success


def test_torch_tensors_in_and_a_zero_d_tensor_target(fc10, batch):
    x, targets = batch
    r = lbfgs_attack(fc10, torch.from_numpy(x[0]), torch.tensor(int(targets[0])))
    assert isinstance(r, AttackResult) and r.success and r.target == targets[0]
    again = lbfgs_attack(fc10, x[0], np.int64(targets[0]))
    assert r.l2 == pytest.approx(again.l2, rel=1e-6)
    res = lbfgs_attack(fc10, torch.from_numpy(x)[:, None], torch.from_numpy(targets))  # (N, 1, 28, 28), (N,)
    assert isinstance(res, AttackResults) and res.target.tolist() == targets.tolist()
    assert lbfgs_attack(fc10, x, targets).target.tolist() == targets.tolist()  # a numpy vector
    one_for_all = lbfgs_attack(fc10, x[:2], torch.tensor(int(targets[0])))  # a 0-d tensor: the same target for all
    assert one_for_all.target.tolist() == [targets[0]] * 2


def test_a_batch_is_one_object_of_stacked_arrays_that_iterates_as_results(fc10, batch):
    x, targets = batch
    res = lbfgs_attack(fc10, x, targets)
    n = len(x)
    assert len(res) == n
    assert res.adversarial.shape == res.perturbation.shape == res.original.shape == (n, 28, 28)
    assert res.adversarial_probs.shape == res.original_probs.shape == (n, 10)
    for name in ("l2", "linf", "success", "c", "target", "original_class", "adversarial_class", "evaluations", "seconds"):
        assert getattr(res, name).shape == (n,), name
    assert res.success.all()
    assert np.allclose(res.l2, np.linalg.norm(res.perturbation.reshape(n, -1), axis=1), rtol=1e-6)
    items = list(res)
    assert all(isinstance(r, AttackResult) for r in items)
    assert [r.l2 for r in items] == res.l2.tolist()
    assert res[-1].target == targets[-1] and np.array_equal(res[2].adversarial, res.adversarial[2])
    sub = res[1:3]
    assert isinstance(sub, AttackResults) and sub.target.tolist() == targets[1:3].tolist()
    with pytest.raises(IndexError):
        res[n]
    assert len(res.to_records()) == n
    # N = 1 is still a batch; lbfgs_attack_batch is batch-first, so one image goes in as a batch of one
    # (a bare (28, 28) array would be 28 flat rows: the engine takes any classifier's (N, D) inputs)
    one = lbfgs_attack(fc10, x[:1], targets[:1])
    assert isinstance(one, AttackResults) and len(one) == 1 and one[0].l2 == pytest.approx(res.l2[0], rel=1e-3)
    single = lbfgs_attack_batch(fc10, x[0][None], int(targets[0]))
    assert isinstance(single, AttackResults) and len(single) == 1


def test_per_image_seconds_are_latencies_within_the_call(fc10, batch):
    x, targets = batch
    res = lbfgs_attack(fc10, x, targets)
    assert (res.seconds > 0).all() and (res.seconds <= res.total_seconds).all()
    assert res.seconds.max() >= 0.5 * res.total_seconds  # the last answer settles near the end of the call


def test_fixed_c_per_image(fc10, batch):
    x, targets = batch
    minimal = lbfgs_attack(fc10, x, targets)
    cs = minimal.c * np.array([0.5, 2.0, 0.5, 2.0])
    res = lbfgs_attack(fc10, x, targets, c=torch.from_numpy(cs))
    assert res.mode == "fixed-c" and np.allclose(res.c, cs)
    assert res.success.tolist() == [False, True, False, True]
    alone = lbfgs_attack(fc10, x[1], int(targets[1]), c=float(cs[1]))
    assert alone.l2 == pytest.approx(res.l2[1], rel=1e-3)
    # a batch's results warm-start a batch, image by image (the slider on many images)
    cold = lbfgs_attack(fc10, x, targets, c=minimal.c * 1.1)
    warm = lbfgs_attack(fc10, x, targets, c=minimal.c * 1.1, warm_start=minimal)
    assert warm.success.all() and warm.evaluations.sum() < cold.evaluations.sum()


@pytest.mark.parametrize("kwargs, words", [
    (dict(target=[1, 2]), "4 images but 2 targets"),
    (dict(target=torch.zeros(2, 2, dtype=torch.long)), "one per image"),
    (dict(target=np.array([1.0, 2.0, 3.0, 4.0])), "0..9"),
    (dict(target=3, c=[1.0, 2.0]), "4 images but 2 c values"),
    (dict(target=3, c=np.array([1.0, -1.0, 1.0, 1.0])), "c must be"),
])
def test_bad_per_image_arguments_are_one_line(fc10, batch, kwargs, words):
    x, _ = batch
    with pytest.raises(AttackInputError) as e:
        lbfgs_attack(fc10, x, **kwargs)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_one_image_takes_one_target_and_one_c(fc10, batch):
    x, targets = batch
    with pytest.raises(AttackInputError, match="one image takes one target"):
        lbfgs_attack(fc10, x[0], [1, 2])
    with pytest.raises(AttackInputError, match="one image takes one c"):
        lbfgs_attack(fc10, x[0], int(targets[0]), c=[1.0])


def test_the_attack_is_listed_yet_imported_only_when_used():
    assert {"lbfgs_attack", "AttackResults", "load_digits"} <= set(dir(advviewer))
    assert advviewer.lbfgs_attack is lbfgs_attack
    code = "import sys, advviewer; print('advviewer.attack' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"  # `advviewer predict` does not pay for the attack's imports
