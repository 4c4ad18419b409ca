"""Reader for the IDX files MNIST (and Fashion-MNIST) are distributed in.

Format (http://yann.lecun.com/exdb/mnist/): a big-endian header of two zero bytes, a type
byte (0x08 = unsigned byte is the only one MNIST uses), a dimension count, then one 32-bit
size per dimension, then the data. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from advviewer.errors import DataFormatError
from advviewer.sandbox import IDX_LIMITS, run_isolated

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


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path}: is a directory, not an IDX file") from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError; EOFError = cut short
        raise DataFormatError(f"{path}: cannot be read as {'gzip ' if path.suffix == '.gz' else ''}IDX data ({exc})") from None


def read_idx(path: str | Path, expect_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file into a native-endian numpy array.

    Raises DataFormatError naming the file and the problem: bad magic number, unexpected
    number of dimensions, or a file shorter (truncated) or longer than its header says.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataFormatError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    zero1, zero2, type_code, ndim = struct.unpack(">BBBB", raw[:4])
    if zero1 != 0 or zero2 != 0 or type_code not in _TYPES:
        raise DataFormatError(
            f"{path}: bad magic number 0x{raw[:4].hex()} (expected 0x0000 then a type code and "
            "dimension count, e.g. 0x00000803 for images)"
        )
    if expect_ndim is not None and ndim != expect_ndim:
        raise DataFormatError(f"{path}: has {ndim} dimensions, expected {expect_ndim}")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataFormatError(f"{path}: truncated inside the header")
    shape = struct.unpack(">" + "I" * ndim, raw[4:header_len])
    dtype = _TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual < expected:
        raise DataFormatError(
            f"{path}: truncated: header says {shape} ({expected} data bytes) but only {actual} are present"
        )
    if actual > expected:
        raise DataFormatError(f"{path}: {actual - expected} unexpected bytes after the {shape} data")
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_len)
    return data.reshape(shape).astype(dtype.newbyteorder("="), copy=True)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = directory / name
        if candidate.exists():
            return candidate
    raise DataFormatError(f"{directory}: no {stem} or {stem}.gz found")


def read_images_labels(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of IDX image (N, rows, cols) and label (N,) files."""
    images = read_idx(images_path, expect_ndim=3)
    labels = read_idx(labels_path, expect_ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise DataFormatError(f"{images_path}: expected unsigned byte images and labels")
    if images.shape[0] != labels.shape[0]:
        raise DataFormatError(
            f"{images_path} has {images.shape[0]} images but {labels_path} has {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{labels_path}: label {int(labels.max())} is outside 0..9")
    return images, labels.astype(np.int64)


def load_idx_dataset(directory: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load the standard MNIST-named ``train`` or ``test`` (t10k) pair from a directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFormatError(f"{directory}: not a directory of MNIST IDX files")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
    # read in a child process with memory and time limits (advviewer.sandbox): a gzip file may unpack to anything
    return run_isolated(_read_split, (directory, split), limits=IDX_LIMITS, error=DataFormatError, name=str(directory))


def _read_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_stem, label_stem = SPLITS[split]
    images, labels = read_images_labels(_find(directory, image_stem), _find(directory, label_stem))
    if images.shape[1:] != (28, 28):
        raise DataFormatError(f"{directory}: {split} images are {images.shape[1:]}, expected 28x28")
    return images, labels
