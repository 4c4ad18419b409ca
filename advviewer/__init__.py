"""advviewer: see how neural networks are fooled.

Public API (no Qt is imported by any of it)::

    from advviewer import available_models, load_model, load_image, preprocess, predict, input_gradient
    from advviewer import lbfgs_attack

- ``available_models()``: names of the shipped models (``cnn`` first, the default).
- ``load_model(name_or_path)``: eval-mode ``torch.nn.Module``, (N, 1, 28, 28) in [0, 1] -> logits (N, 10).
- ``load_image(path)`` / ``preprocess(array)``: any picture of a digit -> 28x28 float32 in [0, 1], MNIST-style.
- ``predict(model, image)``: softmax probabilities.
- ``input_gradient(model, image, cls, method="autograd" | "finite-difference")``: d CE(f(x), cls) / dx.
- ``lbfgs_attack(model, image, ...)``: the box-constrained L-BFGS attack of Szegedy et al.

Errors caused by input are subclasses of :class:`advviewer.errors.AdvViewerError`.
"""

from advviewer.errors import AdvViewerError, AttackInputError, DataFormatError, ExportError, ImageLoadError, ModelLoadError
from advviewer.gradients import input_gradient, predict
from advviewer.image_io import load_image
from advviewer.models import available_models, load_model
from advviewer.preprocess import preprocess

__version__ = "0.1.0"

__all__ = [
    "available_models",
    "load_model",
    "load_image",
    "preprocess",
    "predict",
    "input_gradient",
    "lbfgs_attack",
    "AdvViewerError",
    "AttackInputError",
    "DataFormatError",
    "ExportError",
    "ImageLoadError",
    "ModelLoadError",
]


def __getattr__(name: str):
    # imported on first use so `advviewer predict` does not pay for the attack's imports
    if name == "lbfgs_attack":
        from advviewer.attack import lbfgs_attack

        return lbfgs_attack
    raise AttributeError(f"module 'advviewer' has no attribute {name!r}")
