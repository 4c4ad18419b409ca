"""The model zoo (the paper's Table 1 MNIST models plus a small convnet, the app's default) and safe loading of users' models.

The names and cards are importable without torch (``--help`` and ``predict`` on a zoo model
never import it); ``load_model``, ``build_model`` and ``export_classifier`` import torch on
first use.
"""

from typing import TYPE_CHECKING

from advviewer.models.zoo_cards import DEFAULT_MODEL, ZOO, ModelSpec, available_models, model_card

if TYPE_CHECKING:
    from advviewer.models.export_pt2 import export_classifier
    from advviewer.models.loading import load_identified_model, load_model
    from advviewer.models.zoo import build_model

_LAZY = {"load_model": "advviewer.models.loading", "load_identified_model": "advviewer.models.loading", "build_model": "advviewer.models.zoo",
         "export_classifier": "advviewer.models.export_pt2"}

__all__ = ["DEFAULT_MODEL", "ZOO", "ModelSpec", "available_models", "build_model", "export_classifier", "load_identified_model", "load_model",
           "model_card"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advviewer.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
