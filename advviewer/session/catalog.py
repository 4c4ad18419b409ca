"""What the window offers to pick from: the zoo's models and the bundled sample digits."""

from __future__ import annotations

import numpy as np

from advviewer.data.bundled import bundled_split, load_bundled
from advviewer.models import DEFAULT_MODEL, available_models

STARTING_CLASS = 7  # the window opens on a real MNIST 7 so every panel has something to show


def zoo_models() -> list[str]:
    return available_models()


def default_model() -> str:
    return DEFAULT_MODEL


def starting_sample() -> tuple[np.ndarray, str]:
    """The digit the window opens with: the first 7 of the bundled test split, as a (28, 28) input."""
    images, labels = bundled_split("test")
    k = int(np.flatnonzero(labels == STARTING_CLASS)[0])
    return images[k].astype(np.float32) / 255.0, f"bundled MNIST digit (test split, first {STARTING_CLASS})"


def sample_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 bundled digits for the gallery: uint8 (5000, 28, 28) images and their labels."""
    return load_bundled()


def sample_input(images: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, str]:
    """Bundled digit ``k`` as a model input, with the source its export record names."""
    return images[k].astype(np.float32) / 255.0, f"bundled MNIST digit #{k} (labelled {int(labels[k])})"
