"""The attack on classifiers other than the MNIST zoo's (issue 23, "Any classifier"):

(a) linear softmax models on CIFAR-sized 3x32x32 inputs (10 and 3 classes), on flat (N, D) inputs
    (2 classes) and on 1x28x28 inputs, attacked in minimal mode: every answer is the exact
    smallest perturbation (the dual QP of tests/exact_qp.py), with pixels held by the box;
(b) a tiny convnet trained here on a bundled Fashion-MNIST subset (tests/data/fashion-mnist): the
    batched engine's perturbations are no larger than the reference engine's (the paper's method);
(c) the researcher's API: results in the input's type, shape and device (torch in, torch out),
    untargeted attacks given the true labels, and pairs the model already answers as asked
    reported as such (success, r = 0, no evaluations) without failing the batch.

Tests (or cases) marked ``new_attack_api`` are the acceptance tests of the API issue 23 asks for.
They FAIL (never skip) without it: on the numpy engine before it they failed with "image must be 28x28
(or a batch N x 28 x 28)", numpy (N, 28, 28) results for a torch (N, 1, 28, 28) input, "unexpected
keyword argument 'labels'", or "module 'advviewer' has no attribute 'lbfgs_attack_batch'". The
unmarked ones passed on that engine too.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from exact_qp import ExactMinimum, exact_minima
from torch import nn

import advviewer
from advviewer.attack import AttackResults, lbfgs_attack_batch
from advviewer.data.idx import SPLITS, read_images_labels

FASHION = Path(__file__).parent / "data" / "fashion-mnist"
TOOLS = Path(__file__).parent.parent / "tools"
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
new_api = pytest.mark.new_attack_api

# --- (a) linear classifiers against the exact minimum -------------------------------------------------------------

WEIGHT_SCALE = 10.0  # each row of W has norm about this: logits spread over a few units, the softmax neither flat nor saturated
BIAS_SCALE = 0.5
PIXEL_SPREAD = 0.4  # pixels 0.5 + 0.4 N(0, 1) clamped to the box: about 11% of them sit at 0 and 11% at 1


@dataclass(frozen=True)
class LinearCase:
    """A linear softmax classifier nn.Sequential(Flatten, Linear(D, classes)) with fixed-seed weights, and its pairs."""

    name: str
    shape: tuple[int, ...]  # one input's shape: (C, H, W) or (D,)
    classes: int
    images: int
    targets_per_image: int  # distinct classes other than the model's answer, drawn per image
    seed: int

    def __str__(self) -> str:
        return self.name


CIFAR_10 = LinearCase("3x32x32-10-classes", (3, 32, 32), 10, 8, 2, seed=1)
CIFAR_3 = LinearCase("3x32x32-3-classes", (3, 32, 32), 3, 8, 2, seed=2)
FLAT_2 = LinearCase("flat-500-2-classes", (500,), 2, 8, 1, seed=3)
MNIST_SHAPED = LinearCase("1x28x28-10-classes", (1, 28, 28), 10, 8, 2, seed=4)  # today's API takes it
LINEAR_CASES = [pytest.param(CIFAR_10, marks=new_api, id=CIFAR_10.name), pytest.param(CIFAR_3, marks=new_api, id=CIFAR_3.name),
                pytest.param(FLAT_2, marks=new_api, id=FLAT_2.name), pytest.param(MNIST_SHAPED, id=MNIST_SHAPED.name)]


def linear_classifier(case: LinearCase) -> nn.Sequential:
    """Fixed-seed weights, each row centred (no class wins by the image's mean brightness alone)."""
    dim = math.prod(case.shape)
    gen = torch.Generator().manual_seed(case.seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(dim, case.classes))
    weight = torch.randn(case.classes, dim, generator=gen)
    weight = (weight - weight.mean(1, keepdim=True)) * (WEIGHT_SCALE / math.sqrt(dim))
    with torch.no_grad():
        model[1].weight.copy_(weight)
        model[1].bias.copy_(torch.randn(case.classes, generator=gen) * BIAS_SCALE)
    return model.eval()


def box_images(shape: tuple[int, ...], n: int, seed: int) -> torch.Tensor:
    """``n`` float32 images in [0, 1], many pixels at the bounds (where the box binds)."""
    gen = torch.Generator().manual_seed(seed)
    return (0.5 + PIXEL_SPREAD * torch.randn(n, *shape, generator=gen)).clamp(0.0, 1.0)


def answers(model: nn.Module, images) -> np.ndarray:
    """The model's classes for images as the model takes them (a tensor, or a numpy array)."""
    param = next(model.parameters())
    with torch.no_grad():
        return model(torch.as_tensor(images).to(param.device, param.dtype)).argmax(1).cpu().numpy()


def other_classes(answer: np.ndarray, classes: int, per_image: int, seed: int) -> np.ndarray:
    """(n, per_image) distinct classes other than each image's answer, drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    return np.array([rng.choice([k for k in range(classes) if k != a], per_image, replace=False) for a in answer])


@dataclass(frozen=True)
class LinearPairs:
    """A linear case's model, its (image, target) pairs on one device, and their exact minima."""

    model: nn.Module
    images: torch.Tensor  # (pairs, *shape) float32 on the device; an image repeated for each of its targets
    targets: torch.Tensor  # (pairs,) int64 on the device
    exact: list[ExactMinimum]


MIN_L2 = 0.1  # pairs nearer the boundary are left out: the attack must have work to do


@functools.cache
def linear_pairs(case: LinearCase, device: str) -> LinearPairs:
    """The first ``case.images`` of fixed-seed images whose drawn targets all lie at least MIN_L2 away."""
    model = linear_classifier(case)
    candidates = box_images(case.shape, 4 * case.images, case.seed + 100)
    drawn = other_classes(answers(model, candidates), case.classes, case.targets_per_image, case.seed + 200)
    kept_images: list[torch.Tensor] = []
    kept_targets: list[int] = []
    kept_exact: list[ExactMinimum] = []
    for image, targets in zip(candidates, drawn):
        exact = exact_minima(model, image[None].expand(len(targets), *case.shape).numpy(), targets)
        if min(e.l2 for e in exact) >= MIN_L2:
            kept_images.append(image[None].expand(len(targets), *case.shape))
            kept_targets.extend(int(t) for t in targets)
            kept_exact.extend(exact)
        if len(kept_images) == case.images:
            break
    assert len(kept_images) == case.images, "too few images far enough from the boundary"
    images = torch.cat(kept_images).contiguous()
    return LinearPairs(model.to(device), images.to(device), torch.tensor(kept_targets).to(device), kept_exact)


@functools.cache
def attacked_linear(case: LinearCase, device: str) -> AttackResults:
    pairs = linear_pairs(case, device)
    return lbfgs_attack_batch(pairs.model, pairs.images, pairs.targets)


# The model answers in float32: along the exact optimum's direction a float32 image is still classified as the target
# up to 1.03e-6 (relative) short of the float64 minimum on 3x32x32 (measured; 9.7e-7 at 3 and 2 classes, 6.4e-7 on
# 1x28x28; 1.6e-8 or less in float64). A perfect attack may land there; anything further below means the check is wrong.
FLOAT32_SLACK = 1e-5


def assert_exact(l2, exact) -> None:
    """Minimal mode's perturbations against the proven minima."""
    ratio = np.asarray(l2, dtype=np.float64) / np.asarray(exact)
    assert ratio.min() >= 1 - FLOAT32_SLACK, f"below the exact minimum: {ratio.min()}"
    assert np.median(ratio) <= 1.001, f"median ratio to the exact minimum {np.median(ratio)}"
    assert ratio.max() <= 1.01, f"largest ratio to the exact minimum {ratio.max()}"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", LINEAR_CASES)
def test_minimal_mode_finds_the_exact_minimum_of_a_linear_classifier(case, device):
    """Ratio to the exact minimum, min / median / max, measured. Before the tensor engine (1x28x28 only): 1.00003 /
    1.00009 / 1.0005. The tensor engine (main at 37ef85c): 3x32x32 10 classes 1.00004 / 1.00035 / 1.00064, 3 classes
    1.00002 / 1.00006 / 1.00037, flat 500 1.00002 / 1.00005 / 1.00007, 1x28x28 1.00005 / 1.00029 / 1.00064."""
    pairs = linear_pairs(case, device)
    assert min(e.clipped_pixels for e in pairs.exact) > 0, "the box binds nowhere: the test would not test it"
    results = attacked_linear(case, device)
    assert results.success.all()
    assert_exact(results.l2, [e.l2 for e in pairs.exact])


@new_api
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", [CIFAR_10, FLAT_2, MNIST_SHAPED], ids=str)
def test_results_come_back_in_the_inputs_type_shape_and_device(case, device):
    """A torch (N, C, H, W) or (N, D) input gives torch results of that shape on its device, the model's answer the target."""
    pairs = linear_pairs(case, device)
    results = attacked_linear(case, device)
    for name in ("adversarial", "perturbation", "original"):
        value = getattr(results, name)
        assert isinstance(value, torch.Tensor), f"res.{name} is a {type(value).__name__}, not a torch tensor"
        assert value.shape == pairs.images.shape, f"res.{name} has shape {tuple(value.shape)}"
        assert value.device == pairs.images.device, f"res.{name} is on {value.device}"
    assert torch.equal(results.original, pairs.images)
    torch.testing.assert_close(results.perturbation, results.adversarial - results.original, rtol=0, atol=1e-6)
    assert results.adversarial.min() >= 0 and results.adversarial.max() <= 1
    norms = results.perturbation.double().flatten(1).norm(dim=1).cpu().numpy()
    np.testing.assert_allclose(results.l2, norms, rtol=1e-5)
    np.testing.assert_array_equal(answers(pairs.model, results.adversarial), pairs.targets.cpu().numpy())


# --- (b) a convnet on Fashion-MNIST: the batched engine against the reference --------------------------------------

FASHION_IMAGES = 10  # test images attacked by the batched engine, two targets each
REFERENCE_IMAGES = 8  # the first of them attacked by the reference engine too, towards their first target: ~1,300
# evaluations a pair even capped, 1-1.6 ms each (the reference's own algebra as much as the network): 10-18 s
REFERENCE_MAX_ITER = 30  # the reference's iterations per solve (default 500): its L2 grows by 0.12% at most (measured)


@dataclass(frozen=True)
class FashionConvnet:
    model: nn.Module  # (N, 1, 28, 28) in [0, 1] -> 10 logits
    test_images: torch.Tensor  # (200, 1, 28, 28) float32
    test_labels: torch.Tensor  # (200,) int64
    accuracy: float  # on those test images


def fashion_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    image_stem, label_stem = SPLITS[split]
    images, labels = read_images_labels(FASHION / f"{image_stem}.gz", FASHION / f"{label_stem}.gz")
    return torch.from_numpy(images).float().div(255.0).unsqueeze(1), torch.from_numpy(labels)


def train_convnet(images: torch.Tensor, labels: torch.Tensor) -> nn.Module:
    """Two strided convolutions and a linear layer, 5 epochs of Adam on 1,000 images: 0.3-0.6 s on one thread
    (and a second or two more the first time torch runs a convolution in the process)."""
    with torch.random.fork_rng():  # the global generator of the other tests is left as it was
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(),
                              nn.Conv2d(8, 16, 5, stride=2, padding=2), nn.ReLU(),
                              nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
        optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(5):
            for batch in torch.randperm(len(images)).split(50):
                loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    return model.eval()


@pytest.fixture(scope="module")
def fashion_convnet() -> FashionConvnet:
    train_images, train_labels = fashion_split("train")
    test_images, test_labels = fashion_split("test")
    assert train_images.shape == (1000, 1, 28, 28) and test_images.shape == (200, 1, 28, 28)
    assert np.bincount(train_labels.numpy()).tolist() == [100] * 10
    model = train_convnet(train_images, train_labels)
    accuracy = float((answers(model, test_images) == test_labels.numpy()).mean())
    return FashionConvnet(model, test_images, test_labels, accuracy)


@dataclass(frozen=True)
class FashionPairs:
    images: torch.Tensor  # (pairs, 1, 28, 28)
    targets: list[int]
    batched: AttackResults


@pytest.fixture(scope="module")
def fashion_pairs(fashion_convnet) -> FashionPairs:
    originals = fashion_convnet.test_images[:FASHION_IMAGES]
    drawn = other_classes(answers(fashion_convnet.model, originals), 10, 2, seed=5)
    images = originals.repeat_interleave(2, 0)
    targets = drawn.reshape(-1).tolist()
    return FashionPairs(images, targets, lbfgs_attack_batch(fashion_convnet.model, images, targets))


def test_the_bundled_subset_is_the_cut_its_readme_describes(tmp_path):
    """tools/cut_fashion_mnist_subset.py run on Debian's files reproduces tests/data/fashion-mnist byte for byte."""
    spec = importlib.util.spec_from_file_location("cut_fashion_mnist_subset", TOOLS / "cut_fashion_mnist_subset.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    if not tool.DEBIAN.is_dir():
        pytest.skip(f"Debian's dataset-fashion-mnist is not installed ({tool.DEBIAN})")
    tool.cut(tool.DEBIAN, tmp_path)
    for split in SPLITS.values():
        for stem in split:
            assert (tmp_path / f"{stem}.gz").read_bytes() == (FASHION / f"{stem}.gz").read_bytes(), stem


def test_a_tiny_convnet_learns_the_bundled_fashion_subset(fashion_convnet):
    assert fashion_convnet.accuracy > 0.7  # measured: 0.795 (chance: 0.10)


def test_the_batched_engine_fools_the_fashion_convnet_towards_every_target(fashion_convnet, fashion_pairs):
    results = fashion_pairs.batched
    assert results.success.all()
    np.testing.assert_array_equal(answers(fashion_convnet.model, as_input(results.adversarial, fashion_pairs.images)),
                                  fashion_pairs.targets)
    assert (np.asarray(results.l2) > 0).all()


def test_the_batched_engine_is_no_worse_than_the_reference_on_the_fashion_convnet(fashion_convnet, fashion_pairs):
    """The engine as a user runs it against the paper's method (capped at REFERENCE_MAX_ITER iterations per solve to
    keep the test short), per pair. Measured on today's code (28x28, 8 images x their first target, a loaded 2-core
    machine): batched / reference L2 0.9982 / 1.00002 / 1.0018 (min / median / max) in 18 s; against the reference at
    its default 500 iterations 0.9987 / 1.00003 / 1.0022 in 118 s. Accuracy 0.795. The tensor engine (main at
    37ef85c): 0.9979 / 0.99999 / 1.0017, the reference 11k evaluations in 13 s."""
    chosen = slice(0, 2 * REFERENCE_IMAGES, 2)  # one pair per image
    images, targets = fashion_pairs.images[chosen], fashion_pairs.targets[chosen]
    reference = lbfgs_attack_batch(fashion_convnet.model, images, targets, max_iter=REFERENCE_MAX_ITER, engine="reference")
    assert reference.success.all()
    np.testing.assert_array_equal(answers(fashion_convnet.model, as_input(reference.adversarial, images)), targets)
    ratio = np.asarray(fashion_pairs.batched.l2)[chosen] / np.asarray(reference.l2)
    assert ratio.max() <= 1.01, f"batched / reference L2 per pair: {ratio}"
    assert np.median(ratio) <= 1.001, f"batched / reference L2 per pair: {ratio}"


@new_api
def test_the_fashion_convnets_results_keep_its_layout(fashion_pairs):
    """Issue 23: a torch (N, 1, 28, 28) input came back as numpy (N, 28, 28)."""
    adversarial = fashion_pairs.batched.adversarial
    assert isinstance(adversarial, torch.Tensor), f"res.adversarial is a {type(adversarial).__name__}"
    assert adversarial.shape == fashion_pairs.images.shape


def as_input(images, like: torch.Tensor) -> torch.Tensor:
    """A result's images in the layout of the input ``like`` (today's API answers numpy (N, 28, 28))."""
    return torch.as_tensor(images).to(like.device, like.dtype).reshape(like.shape)


# --- (c) untargeted with true labels; pairs already fooled ---------------------------------------------------------


def exact_untargeted(model: nn.Module, images: torch.Tensor, labels: np.ndarray, classes: int) -> np.ndarray:
    """The smallest perturbation to any class but the label, per image (the least of the exact targeted minima)."""
    flat = images.cpu().numpy()
    return np.array([min(e.l2 for e in exact_minima(model, flat[[i] * (classes - 1)], [k for k in range(classes) if k != label]))
                     for i, label in enumerate(labels)])


def rows(values, mask: np.ndarray) -> torch.Tensor:
    """The rows of a result's images (a tensor on any device, or a numpy array) where ``mask`` is set."""
    values = torch.as_tensor(values)
    return values[torch.from_numpy(mask).to(values.device)]


def assert_already_fooled(results: AttackResults, fooled: np.ndarray, images: torch.Tensor) -> None:
    """Pairs the model already answers as asked: success with r = 0, no evaluations, the image itself."""
    np.testing.assert_array_equal(np.asarray(results.already_fooled, dtype=bool), fooled)
    assert results.success.all()
    assert (np.asarray(results.l2)[fooled] == 0).all()
    assert (np.asarray(results.evaluations)[fooled] == 0).all()
    assert not rows(results.perturbation, fooled).any()
    assert torch.equal(rows(results.adversarial, fooled).to(images.device), rows(images, fooled))


@new_api
@pytest.mark.parametrize("device", DEVICES)
def test_untargeted_attacks_take_the_true_labels(device):
    """Labels the model gets right: the nearest other class, exactly; labels it gets wrong: already fooled."""
    pairs = linear_pairs(CIFAR_10, device)
    images = pairs.images[::CIFAR_10.targets_per_image]  # the 8 distinct images
    answer = answers(pairs.model, images)
    wrong = np.arange(len(images)) % 3 == 0  # 3 of 8 images are given a label the model does not answer
    labels = np.where(wrong, (answer + 1) % CIFAR_10.classes, answer)
    results = lbfgs_attack_batch(pairs.model, images, None, untargeted=True, labels=torch.from_numpy(labels).to(device))
    assert_already_fooled(results, wrong, images)
    assert (answers(pairs.model, results.adversarial) != labels).all()
    right = ~wrong
    assert_exact(np.asarray(results.l2)[right], exact_untargeted(pairs.model, rows(images, right), labels[right], CIFAR_10.classes))


@new_api
@pytest.mark.parametrize("device", DEVICES)
def test_a_batch_mixing_pairs_already_fooled_with_others_succeeds(device):
    """A target equal to the model's answer no longer fails the call (issue 23): it is reported as already fooled."""
    pairs = linear_pairs(CIFAR_10, device)
    answer = answers(pairs.model, pairs.images)
    fooled = np.arange(len(answer)) % 4 == 1  # 4 of 16 pairs ask for the class the model already answers
    targets = np.where(fooled, answer, pairs.targets.cpu().numpy())
    results = lbfgs_attack_batch(pairs.model, pairs.images, targets.tolist())
    assert_already_fooled(results, fooled, pairs.images)
    np.testing.assert_array_equal(answers(pairs.model, results.adversarial), targets)
    assert_exact(np.asarray(results.l2)[~fooled], np.array([e.l2 for e in pairs.exact])[~fooled])


@new_api
def test_the_batch_entry_point_is_public():
    assert advviewer.lbfgs_attack_batch is lbfgs_attack_batch
