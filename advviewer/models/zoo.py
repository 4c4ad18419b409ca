"""Architectures of the zoo and how weights are written (names and cards: :mod:`advviewer.models.zoo_cards`).

Every model takes (N, 1, 28, 28) float32 images in [0, 1] (white digit on black) and returns
logits (N, 10). Weights are stored as a plain dict of tensors and strings (read back by
:mod:`advviewer.models.loading` with ``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import nn

from advviewer.errors import ModelLoadError
from advviewer.models.zoo_cards import (  # noqa: F401  (re-exported: the zoo's names, cards and weights files)
    DEFAULT_MODEL,
    WEIGHTS_FORMAT,
    ZOO,
    ModelSpec,
    available_models,
    model_card,
    network_of,
    sha256_file,
    shipped_weights_path,
)


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
    """A freshly initialised (untrained) network of the named zoo model's architecture."""
    name = network_of(name)
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


# A weight smaller than this is set to zero when weights are saved and when any model is loaded. Weight decay leaves
# thousands of such weights on pixels that are 0 in every training digit (fc100-100-10: 8,350 between 1e-38 and 1e-30),
# normal floats themselves, but their products with a pixel or a gradient are subnormal, which many x86 CPUs handle in
# microcode: an attack, whose perturbation reaches those pixels and whose backward pass multiplies every weight, ran
# many times slower on the MLPs (the figures: benchmarks/results/denormal-attack-20261205.md). A weight below it changes no float32
# logit: its product with any pixel or activation below 1e8 is 1e-22, against float32's resolution of 1e-7 at 1.
NEGLIGIBLE_WEIGHT = 1e-30


def flush_negligible(tensor: torch.Tensor) -> torch.Tensor:
    """A copy with every float of magnitude below NEGLIGIBLE_WEIGHT (subnormals included) set to zero."""
    out = tensor.detach().clone()
    if out.is_floating_point():
        out[out.abs() < NEGLIGIBLE_WEIGHT] = 0.0
    return out


def save_weights(model: nn.Module, arch: str, path: Path) -> None:
    """Write weights so that the same tensors always give the same bytes, negligible values flushed to zero.

    Saving through a buffer keeps the file name out of the archive (torch.save to a path records
    it), so `advviewer train` reproduces the shipped file's sha256 whatever --out is called.
    """
    payload = {"format": WEIGHTS_FORMAT, "arch": arch, "state_dict": {k: flush_negligible(v) for k, v in model.state_dict().items()}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    Path(path).write_bytes(buffer.getvalue())
