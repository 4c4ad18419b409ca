"""The model zoo: the paper's Table 1 MNIST models plus a small convnet (the app's default)."""

from advviewer.models.zoo import (
    DEFAULT_MODEL,
    ZOO,
    ModelSpec,
    available_models,
    build_model,
    load_model,
    model_card,
)

__all__ = ["DEFAULT_MODEL", "ZOO", "ModelSpec", "available_models", "build_model", "load_model", "model_card"]
