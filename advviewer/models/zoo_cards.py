"""The zoo's names, descriptions, model cards and weights files, without torch.

What the command line's --help, ``predict`` on a zoo model (:mod:`advviewer.models.numpy_zoo`) and
the window's model picker need before, or instead of, ``import torch`` (which takes seconds on a
cold start). The architectures themselves are in :mod:`advviewer.models.zoo`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from advviewer.errors import ModelLoadError
from advviewer.reading.files import read_regular_file
from advviewer.runtime.resources_access import resource_path

DEFAULT_MODEL = "cnn"
MAX_CARD_BYTES = 1_000_000  # a card is about 1 kB
WEIGHTS_FORMAT = "advviewer-weights/1"


@dataclass(frozen=True)
class AdversarialTraining:
    """Madry et al.'s adversarial training in the L2 ball: each batch is replaced by its PGD-L2 attack.

    ``steps`` steps of size ``step_size`` x ``epsilon`` along the normalised gradient of the
    cross-entropy, from a random start in the ball, each projected back onto the ball of radius
    ``epsilon`` (pixels in [0, 1], so on MNIST's scale) and the box [0, 1]. The radius grows
    linearly from 0 over the first ``ramp_epochs`` epochs: a narrow network started at full radius
    learns the adversarial batches slowly.
    """

    epsilon: float
    steps: int
    step_size: float  # a fraction of epsilon
    ramp_epochs: int

    def radius(self, epoch: int) -> float:
        """The ball's radius in epoch ``epoch`` (counted from 0)."""
        return self.epsilon * min(1.0, (epoch + 1) / self.ramp_epochs) if self.ramp_epochs else self.epsilon

    def describe(self) -> str:
        return (f"PGD-L2 adversarial training (Madry et al. 2018): every training batch replaced by its attack in the "
                f"L2 ball of radius {self.epsilon:g} (pixels in [0, 1]) and the box [0, 1], {self.steps} steps of "
                f"{self.step_size:g} x radius along the normalised gradient of the cross-entropy from a random start "
                f"in the ball; the radius grows linearly from 0 over the first {self.ramp_epochs} epochs")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    # weight decay per layer with weights, in the order the layers appear: the penalty added to
    # the mean cross-entropy is sum_l lambda_l * ||W_l||^2 (biases are not decayed)
    lambdas: tuple[float, ...] = field(default=())
    default_epochs: int = 30
    # the network it is an instance of (advviewer.models.zoo.build_model); None: its own name's
    architecture: str | None = None
    adversarial: AdversarialTraining | None = None  # None: trained on the digits as they are (and augmented)

    @property
    def network(self) -> str:
        return self.architecture or self.name


ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("fc10-1e-4", "softmax regression (FC10), weight decay 1e-4", (1e-4,), 60),
        ModelSpec("fc10-1e-2", "softmax regression (FC10), weight decay 1e-2", (1e-2,), 60),
        ModelSpec("fc10-1", "softmax regression (FC10), weight decay 1", (1.0,), 60),
        ModelSpec("fc100-100-10", "sigmoid MLP 784-100-100-10", (1e-5, 1e-5, 1e-6), 100),
        ModelSpec("fc200-200-10", "sigmoid MLP 784-200-200-10", (1e-5, 1e-5, 1e-6), 100),
        ModelSpec("ae400-10", "sigmoid autoencoder (400 hidden) + softmax", (1e-6, 1e-6), 60),
        ModelSpec("cnn", "small smooth convnet: 2x (conv 5x5, SiLU, avg-pool) + 2 dense layers", (0.0, 0.0, 0.0, 0.0), 100),
        ModelSpec("cnn-robust", "robust convnet: the cnn's network adversarially trained against L2 attacks (PGD-L2, radius 2)",
                  (0.0, 0.0, 0.0, 0.0), 60, architecture="cnn", adversarial=AdversarialTraining(2.0, 5, 0.5, 10)),
    )
}


def network_of(name: str) -> str:
    """The architecture a zoo model is an instance of: ``cnn-robust`` is a ``cnn`` with other weights."""
    return ZOO[name].network if name in ZOO else name


def available_models() -> list[str]:
    """Names of the shipped models, the default (``cnn``) first."""
    return [DEFAULT_MODEL] + [name for name in ZOO if name != DEFAULT_MODEL]


def shipped_weights_path(name: str) -> Path:
    return resource_path("weights", f"{name}.pt")


def sha256_file(path: Path) -> str:
    """The sha256 of a file we wrote ourselves (``advviewer train``'s output; tests): read whole, in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_card(name: str) -> dict:
    """The JSON model card shipped with a zoo model (architecture, data, errors, seed, sha256).

    Read like any file (regular, at most MAX_CARD_BYTES); a card that is not a JSON object is a
    ModelLoadError with one line. Its fields are read by their users with their types checked.
    """

    if name not in ZOO:
        raise ModelLoadError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    path = resource_path("weights", f"{name}.json")
    if not path.exists():
        raise ModelLoadError(f"model {name!r} has no shipped card; run `advviewer train {name}`")
    try:
        card = json.loads(read_regular_file(path, MAX_CARD_BYTES, ModelLoadError, "a model card"))
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ModelLoadError(f"the model card of {name!r} is not readable JSON ({type(exc).__name__}); reinstall advviewer") from None
    if not isinstance(card, dict):
        raise ModelLoadError(f"the model card of {name!r} is not a JSON object; reinstall advviewer")
    return card


def shipped_weights_bytes(name: str, max_bytes: int) -> bytes:
    """The shipped weights file of zoo model ``name``, read bounded and checked against the sha256 in its card.

    Both ways of running a zoo model read it so: torch's (advviewer.models.loading) and the
    numpy forward pass of ``predict`` (advviewer.models.numpy_zoo).
    """

    path = shipped_weights_path(name)
    if not path.is_file():
        raise ModelLoadError(f"model {name!r} has no shipped weights; run `advviewer train {name}`")
    data = read_regular_file(path, max_bytes, ModelLoadError, "a weights file")
    if hashlib.sha256(data).hexdigest() != model_card(name).get("weights_sha256"):
        raise ModelLoadError(f"the shipped weights of {name!r} do not match the sha256 in its model card; "
                             f"reinstall advviewer or retrain them with `advviewer train {name}`")
    return data
