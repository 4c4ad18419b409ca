"""The model zoo (the paper's Table 1 MNIST models plus a small convnet, the app's default) and safe loading of users' models."""

from advviewer.models.export_pt2 import export_classifier
from advviewer.models.loading import load_model
from advviewer.models.zoo import (
    DEFAULT_MODEL,
    ZOO,
    ModelSpec,
    available_models,
    build_model,
    model_card,
)

__all__ = ["DEFAULT_MODEL", "ZOO", "ModelSpec", "available_models", "build_model", "export_classifier", "load_model", "model_card"]
