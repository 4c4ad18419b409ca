"""Digit data: the MNIST IDX reader and the bundled 5,000-digit subset."""

from advviewer.data.bundled import bundled_split, load_bundled, load_digits
from advviewer.data.idx import load_idx_dataset, read_idx

__all__ = ["load_digits", "load_bundled", "bundled_split", "read_idx", "load_idx_dataset"]
