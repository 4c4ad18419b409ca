"""A ``.npy`` file from its bytes, checked before anything is allocated.

``np.load`` trusts the header: a 100-byte file declaring shape (100000, 100000) makes it
allocate 74 GiB, and a header cut inside its dictionary escapes as ``tokenize.TokenError``.
Here the header is parsed on its own, the dtype and shape are checked against what a picture
can be and against the bytes actually present, and the array is a read-only view of the bytes
(no copy, never pickled objects).
"""

from __future__ import annotations

import io

import numpy as np

from advviewer.errors import ImageLoadError

MAGIC = b"\x93NUMPY"


def _header(data: bytes) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """(dtype, shape, fortran_order, offset of the data); ImageLoadError if the header is not one."""
    if not data.startswith(MAGIC):
        raise ImageLoadError("not a .npy file (no NUMPY header)")
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except Exception as exc:  # noqa: BLE001 -- the header is untrusted text; numpy fails in many ways (TokenError, SyntaxError...)
        raise ImageLoadError(f"not a readable .npy array (its header is corrupt: {type(exc).__name__})") from None
    return np.dtype(dtype), tuple(shape), bool(fortran), stream.tell()


def read_npy(data: bytes, max_elements: int) -> np.ndarray:
    """The array stored in ``data``: numeric (bool, integer or float), at most ``max_elements`` values."""
    dtype, shape, fortran, offset = _header(data)
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ImageLoadError(f"the array holds {dtype} records, not pixel values")
    if not (dtype.kind == "b" or np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise ImageLoadError(f"expected a numeric image array, got dtype {dtype}")
    if len(shape) > 4 or any(not isinstance(n, int) or n < 0 for n in shape):
        raise ImageLoadError(f"expected a 2-D grayscale image (H, W), (H, W, 3|4) colour or (1, 28, 28); got shape {shape}")
    count = 1
    for n in shape:
        count *= n
    if count > max_elements:
        raise ImageLoadError(f"the array has shape {shape} ({count:,} values); arrays over {max_elements:,} values are refused")
    needed = count * dtype.itemsize
    if len(data) - offset < needed:
        raise ImageLoadError(f"the array is truncated: shape {shape} needs {needed:,} bytes of data, the file has {len(data) - offset:,}")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)
