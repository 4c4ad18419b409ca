"""The 5,000 MNIST digits shipped in resources/mnist5k (see PROVENANCE.md there)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from advviewer.data.idx import read_images_labels
from advviewer.runtime.resources_access import resource_path

TEST_EVERY = 5  # within each class, every 5th digit (k % 5 == 4) is a test digit


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    folder = resource_path("mnist5k")
    images, labels = read_images_labels(folder / "images-idx3-ubyte.gz", folder / "labels-idx1-ubyte.gz")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_bundled() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 bundled digits: uint8 images (5000, 28, 28) and int64 labels (5000,)."""
    return _load()


def _test_mask(labels: np.ndarray) -> np.ndarray:
    mask = np.zeros(labels.shape, dtype=bool)
    for cls in range(10):
        idx = np.flatnonzero(labels == cls)
        mask[idx[TEST_EVERY - 1 :: TEST_EVERY]] = True
    return mask


def bundled_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """The fixed stratified ``"train"`` (4,000) or ``"test"`` (1,000) part of the bundled digits."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    images, labels = _load()
    mask = _test_mask(labels)
    if split == "train":
        mask = ~mask
    return images[mask], labels[mask]


def load_digits(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST digits as the models and the attack take them: float32 (N, 28, 28) in [0, 1], int64 labels (N,).

    ``split``: ``"test"`` (1,000 digits no shipped model was trained on), ``"train"`` (the 4,000
    the zoo was trained on) or ``"all"`` (5,000). Digits are in file order; 100 per class in
    the test split. Fresh arrays on every call (the bundled uint8 data stays read-only).
    """
    if split == "all":
        images, labels = _load()
    elif split in ("train", "test"):
        images, labels = bundled_split(split)
    else:
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    return images.astype(np.float32) / np.float32(255.0), labels.astype(np.int64)
