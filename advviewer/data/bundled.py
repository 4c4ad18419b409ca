"""The 5,000 MNIST digits shipped in resources/mnist5k (see PROVENANCE.md there)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from advviewer.data.idx import read_images_labels
from advviewer.resources_access import resource_path

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
