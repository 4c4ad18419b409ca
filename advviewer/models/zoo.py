"""Architectures of the zoo, and loading of shipped or user-supplied weights.

Every model takes (N, 1, 28, 28) float32 images in [0, 1] (white digit on black) and returns
logits (N, 10). Weights are stored as a plain dict of tensors and strings and read with
``torch.load(..., weights_only=True)``: loading never runs code from the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
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


def _validate_classifier(model: nn.Module, source: str) -> nn.Module:
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, 1, 28, 28))
    except Exception as exc:  # a foreign network can fail in any way on our input
        raise ModelLoadError(f"{source}: the model does not accept (N, 1, 28, 28) images ({type(exc).__name__}: {exc})") from None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 10):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelLoadError(f"{source}: the model returns {shape} for 2 images, expected logits of shape (2, 10)")
    if not torch.isfinite(out).all():
        raise ModelLoadError(f"{source}: the model returns non-finite logits")
    return model


def _load_weights_file(path: Path) -> nn.Module:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, pickle with code (refused), not a torch file...
        raise ModelLoadError(f"{path}: not an advviewer weights file ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise ModelLoadError(f"{path}: not an advviewer weights file (no '{WEIGHTS_FORMAT}' header)")
    arch = payload.get("arch")
    if arch not in ZOO:
        raise ModelLoadError(f"{path}: unknown architecture {arch!r}")
    model = build_model(arch)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path}: weights do not fit the {arch} architecture ({str(exc).splitlines()[0][:200]})") from None
    return model


def _load_torchscript(path: Path) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load is deprecated in 2.13 but still the TorchScript loader
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise ModelLoadError(f"{path}: neither an advviewer weights file nor a TorchScript model ({str(exc).splitlines()[0][:200]})") from None


def load_model(name_or_path: str | Path = DEFAULT_MODEL) -> nn.Module:
    """Return an eval-mode classifier: a zoo name, our weights file, or a TorchScript file.

    Raises ModelLoadError for an unknown name, a missing or corrupt file, or a network that
    does not map (N, 1, 28, 28) to (N, 10) logits.
    """
    name = str(name_or_path)
    if name in ZOO:
        path = shipped_weights_path(name)
        if not path.exists():
            raise ModelLoadError(f"model {name!r} has no shipped weights; run `advviewer train {name}`")
        model = _load_weights_file(path)
        return _validate_classifier(model, name)
    path = Path(name_or_path)
    if not path.exists():
        raise ModelLoadError(f"unknown model {name!r}: not one of {', '.join(available_models())} and no such file")
    if path.is_dir():
        raise ModelLoadError(f"{path}: is a directory, not a model file")
    if _is_torchscript(path):
        model = _load_torchscript(path)
    else:
        model = _load_weights_file(path)
    return _validate_classifier(model, str(path))


def _is_torchscript(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("/code/__torch__.py") or "/code/" in n for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
