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

from advviewer.data import load_digits
from advviewer.errors import AdvViewerError, AttackInputError, DataFormatError, ExportError, ImageLoadError, ModelLoadError
from advviewer.gradients import input_gradient, predict
from advviewer.image_io import load_image
from advviewer.models import available_models, load_model
from advviewer.preprocess import preprocess

if TYPE_CHECKING:  # imported on first use at run time (below): `advviewer predict` does not pay for the attack
    from advviewer.attack import AttackResult, AttackResults, lbfgs_attack

__version__ = "0.1.0"

_LAZY = {"lbfgs_attack", "AttackResult", "AttackResults"}

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
        import advviewer.attack

        return getattr(advviewer.attack, name)
    raise AttributeError(f"module 'advviewer' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are part of the API: list them for dir() and tab completion
    return sorted(set(globals()) | _LAZY)
