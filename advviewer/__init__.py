"""advviewer: see how neural networks are fooled.

Public API (no Qt is imported by any of it)::

    from advviewer import available_models, load_model, load_digits, load_image, preprocess, predict, input_gradient
    from advviewer import lbfgs_attack

- ``available_models()``: names of the shipped models (``cnn`` first, the default).
- ``load_model(name_or_path)``: eval-mode ``torch.nn.Module``, (N, 1, 28, 28) in [0, 1] -> logits (N, 10).
- ``load_digits(split="test")``: the bundled MNIST digits, float32 (N, 28, 28) in [0, 1], and labels.
- ``load_image(path)`` / ``preprocess(array)``: any picture of a digit -> 28x28 float32 in [0, 1], MNIST-style.
- ``predict(model, image)``: softmax probabilities.
- ``input_gradient(model, image, cls, method="autograd" | "finite-difference")``: d CE(f(x), cls) / dx.
- ``lbfgs_attack(model, image, ...)``: the box-constrained L-BFGS attack of Szegedy et al.;
  ``AttackResult`` for one image, ``AttackResults`` (stacked arrays, iterable) for a batch.

Errors caused by input are subclasses of :class:`advviewer.errors.AdvViewerError`.
"""

from typing import TYPE_CHECKING

from advviewer.errors import AdvViewerError, AttackInputError, DataFormatError, ExportError, ImageLoadError, ModelLoadError
from advviewer.preprocess import preprocess  # eager: the function shares its name with its module (numpy and Pillow only)

if TYPE_CHECKING:
    from advviewer.attack import AttackResult, AttackResults, lbfgs_attack
    from advviewer.data import load_digits
    from advviewer.gradients import input_gradient, predict
    from advviewer.image_io import load_image
    from advviewer.models import available_models, load_model

__version__ = "0.1.0"

# Imported on first use (below), not with the package: importing any advviewer module runs this
# file, and `import torch` alone takes seconds on a cold start. `advviewer predict` on a zoo model
# and the window's first paint never wait for it.
_LAZY = {
    "lbfgs_attack": "advviewer.attack", "AttackResult": "advviewer.attack", "AttackResults": "advviewer.attack",
    "load_digits": "advviewer.data", "input_gradient": "advviewer.gradients", "predict": "advviewer.gradients",
    "load_image": "advviewer.image_io", "available_models": "advviewer.models", "load_model": "advviewer.models",
}

__all__ = [
    "available_models",
    "load_model",
    "load_digits",
    "load_image",
    "preprocess",
    "predict",
    "input_gradient",
    "lbfgs_attack",
    "AttackResult",
    "AttackResults",
    "AdvViewerError",
    "AttackInputError",
    "DataFormatError",
    "ExportError",
    "ImageLoadError",
    "ModelLoadError",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advviewer' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are part of the API: list them for dir() and tab completion
    return sorted(set(globals()) | set(_LAZY))
