"""Reader for the IDX files MNIST (and Fashion-MNIST) are distributed in.

Format (http://yann.lecun.com/exdb/mnist/): a big-endian header of two zero bytes, a type
byte (0x08 = unsigned byte is the only one MNIST uses), a dimension count, then one 32-bit
size per dimension, then the data. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import numpy as np

from advviewer.errors import DataFormatError
from advviewer.reading.files import read_regular_file, shown, unpack_gzip
from advviewer.reading.sandbox import IDX_LIMITS, run_isolated

MAX_IDX_BYTES = 200_000_000  # packed or unpacked: MNIST's 60,000 training images are 47 MB
MAX_IDX_DIMS = 8  # MNIST's files have 1 (labels) or 3 (images)

_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path: Path) -> bytes | bytearray:
    """The file's IDX bytes (unpacked if it ends in ``.gz``): a regular file, at most MAX_IDX_BYTES either way."""
    data = read_regular_file(path, MAX_IDX_BYTES, DataFormatError, "an IDX file")
    if path.suffix != ".gz":
        return data
    return unpack_gzip(data, MAX_IDX_BYTES, DataFormatError, shown(path))


def _shape(raw: bytes | bytearray, name: str, expect_ndim: int | None) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, offset of the data) from the header; DataFormatError unless they describe this file's bytes.

    The sizes are multiplied as Python integers: numpy's int64 product of 2**32-1 sizes wraps
    (to 0 or below), and a file could then pass as empty.
    """
    if len(raw) < 4:
        raise DataFormatError(f"{name}: too short to be an IDX file ({len(raw)} bytes)")
    zero1, zero2, type_code, ndim = struct.unpack(">BBBB", raw[:4])
    if zero1 != 0 or zero2 != 0 or type_code not in _TYPES:
        raise DataFormatError(
            f"{name}: bad magic number 0x{bytes(raw[:4]).hex()} (expected 0x0000 then a type code and "
            "dimension count, e.g. 0x00000803 for images)"
        )
    if expect_ndim is not None and ndim != expect_ndim:
        raise DataFormatError(f"{name}: has {ndim} dimensions, expected {expect_ndim}")
    if ndim > MAX_IDX_DIMS:
        raise DataFormatError(f"{name}: has {ndim} dimensions; IDX files of more than {MAX_IDX_DIMS} are not read")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataFormatError(f"{name}: truncated inside the header")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header_len])
    dtype = _TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python integers: no wrapping
    actual = len(raw) - header_len
    if actual < expected:
        raise DataFormatError(
            f"{name}: truncated: header says {shape} ({expected:,} data bytes) but only {actual:,} are present"
        )
    if actual > expected:
        raise DataFormatError(f"{name}: {actual - expected:,} unexpected bytes after the {shape} data")
    return dtype, shape, header_len


def read_idx(path: str | Path, expect_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (plain or ``.gz``) into a native-endian numpy array.

    Raises DataFormatError naming the file and the problem: not a regular file, over
    MAX_IDX_BYTES (packed or unpacked), bad magic number, unexpected number of dimensions, or a
    file shorter (truncated) or longer than its header says.
    """
    path = Path(path)
    raw = _read_bytes(path)
    dtype, shape, offset = _shape(raw, shown(path), expect_ndim)
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = directory / name
        if os.path.lexists(candidate):  # a FIFO or a dangling link is found here, and refused when read
            return candidate
    raise DataFormatError(f"{shown(directory)}: no {stem} or {stem}.gz found")


def read_images_labels(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of IDX image (N, rows, cols) and label (N,) files."""
    images = read_idx(images_path, expect_ndim=3)
    labels = read_idx(labels_path, expect_ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise DataFormatError(f"{shown(images_path)}: expected unsigned byte images and labels")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"{shown(images_path)} has {images.shape[0]} images but {shown(labels_path)} has {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{shown(labels_path)}: label {int(labels.max())} is outside 0..9")
    return images, labels.astype(np.int64)


def load_idx_dataset(directory: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load the standard MNIST-named ``train`` or ``test`` (t10k) pair from a directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFormatError(f"{shown(directory)}: not a directory of MNIST IDX files")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
    # read in a child process with memory and time limits (advviewer.reading.sandbox): a gzip file may unpack to anything
    return run_isolated(_read_split, (directory, split), limits=IDX_LIMITS, error=DataFormatError, name=str(directory))


def _read_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_stem, label_stem = SPLITS[split]
    images, labels = read_images_labels(_find(directory, image_stem), _find(directory, label_stem))
    if images.shape[1:] != (28, 28):
        raise DataFormatError(f"{shown(directory)}: {split} images are {images.shape[1:]}, expected 28x28")
    return images, labels
