"""Digit data: the MNIST IDX reader and the bundled 5,000-digit subset."""

from advviewer.data.bundled import load_bundled, bundled_split
from advviewer.data.idx import read_idx, load_idx_dataset

__all__ = ["load_bundled", "bundled_split", "read_idx", "load_idx_dataset"]
