"""Architectures of the zoo, their model cards, and how weights are written.

Every model takes (N, 1, 28, 28) float32 images in [0, 1] (white digit on black) and returns
logits (N, 10). Weights are stored as a plain dict of tensors and strings (read back by
:mod:`advviewer.models.loading` with ``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from advviewer.errors import ModelLoadError
from advviewer.resources_access import resource_path

DEFAULT_MODEL = "cnn"
WEIGHTS_FORMAT = "advviewer-weights/1"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    # weight decay per layer with weights, in the order the layers appear: the penalty added to
    # the mean cross-entropy is sum_l lambda_l * ||W_l||^2 (biases are not decayed)
    lambdas: tuple[float, ...] = field(default=())
    default_epochs: int = 30


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
    )
}


def available_models() -> list[str]:
    """Names of the shipped models, the default (``cnn``) first."""
    return [DEFAULT_MODEL] + [name for name in ZOO if name != DEFAULT_MODEL]


def _mlp(*sizes: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class AutoencoderClassifier(nn.Module):
    """AE400-10: a sigmoid autoencoder's encoder (784-400) feeding a softmax layer (400-10).

    The decoder is kept so the autoencoder can be pre-trained; classification uses only the
    encoder and the softmax layer.
    """

    def __init__(self, hidden: int = 400) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.Sigmoid())
        self.decoder = nn.Sequential(nn.Linear(hidden, 784), nn.Sigmoid())
        self.classifier = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.encoder(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x)).view(-1, 1, 28, 28)


def _cnn() -> nn.Sequential:
    """LeNet-sized and smooth on purpose.

    SiLU and average pooling instead of ReLU and max-pooling: the network is then
    differentiable everywhere, so finite differences agree with backpropagation (max-pool ties
    on the black background make one-sided derivatives) and L-BFGS's curvature model holds.
    Narrow (8 and 16 channels) so 1,568 finite-difference evaluations stay under 100 ms.
    """
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2),
        nn.SiLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2),
        nn.SiLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 128),
        nn.SiLU(),
        nn.Linear(128, 10),
    )


def build_model(name: str) -> nn.Module:
    """A freshly initialised (untrained) network of the named architecture."""
    if name.startswith("fc10-"):
        return _mlp(784, 10)
    if name == "fc100-100-10":
        return _mlp(784, 100, 100, 10)
    if name == "fc200-200-10":
        return _mlp(784, 200, 200, 10)
    if name == "ae400-10":
        return AutoencoderClassifier(400)
    if name == "cnn":
        return _cnn()
    raise ModelLoadError(f"unknown model {name!r}; available: {', '.join(available_models())}")


def decayed_parameters(model: nn.Module) -> list[torch.Tensor]:
    """The weight matrices/kernels (not biases) in layer order, matching ModelSpec.lambdas."""
    return [p for n, p in model.named_parameters() if n.endswith("weight") and not n.startswith("decoder")]


def shipped_weights_path(name: str) -> Path:
    return resource_path("weights", f"{name}.pt")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_card(name: str) -> dict:
    """The JSON model card shipped with a zoo model (architecture, data, errors, seed, sha256)."""
    if name not in ZOO:
        raise ModelLoadError(f"unknown model {name!r}; available: {', '.join(available_models())}")
    path = resource_path("weights", f"{name}.json")
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"model {name!r} has no shipped card; run `advviewer train {name}`") from None


def save_weights(model: nn.Module, arch: str, path: Path) -> None:
    """Write weights so that the same tensors always give the same bytes.

    Saving through a buffer keeps the file name out of the archive (torch.save to a path records
    it), so `advviewer train` reproduces the shipped file's sha256 whatever --out is called.
    """
    payload = {"format": WEIGHTS_FORMAT, "arch": arch, "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    Path(path).write_bytes(buffer.getvalue())
