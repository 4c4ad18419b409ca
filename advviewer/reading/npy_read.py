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
from advviewer.reading.files import shown

MAGIC = b"\x93NUMPY"
PIXEL_KINDS = "biuf"  # bool, signed and unsigned integers, floats
MAX_FLOAT_BYTES = 8  # float64


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
    _check_dtype(dtype)
    count = _check_shape(shape, max_elements)
    needed = count * dtype.itemsize
    if len(data) - offset < needed:
        raise ImageLoadError(f"the array is truncated: shape {_shape_text(shape)} needs {needed:,} bytes of data, "
                             f"the file has {len(data) - offset:,}")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)


def _check_dtype(dtype: np.dtype) -> None:
    """Only plain pixel values: bool, integers, floats up to 64 bits; ImageLoadError naming anything else.

    ``np.issubdtype(timedelta64, np.integer)`` is True, so the kind is checked, not the type tree;
    extended-precision floats (float128) overflow float64 in the pixel pipeline and are refused.
    """
    if dtype.hasobject and dtype.fields is None:
        raise ImageLoadError("the array holds Python objects (dtype object), not pixel values; they are never unpickled")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ImageLoadError(f"the array holds {_dtype_text(dtype)} records, not pixel values")
    if dtype.kind not in PIXEL_KINDS:
        raise ImageLoadError(f"expected a numeric image array (bool, integer or float), got dtype {_dtype_text(dtype)}")
    if dtype.kind == "f" and dtype.itemsize > MAX_FLOAT_BYTES:
        raise ImageLoadError(f"the array holds {dtype.itemsize * 8}-bit floats ({_dtype_text(dtype)}); "
                             f"floats of at most {MAX_FLOAT_BYTES * 8} bits are read")


def _check_shape(shape: tuple, max_elements: int) -> int:
    """The number of values of ``shape``; ImageLoadError unless it is at most 4 counts 0..max_elements, in all at most max_elements.

    The header is text: ``(True, 28, 28)`` passes numpy's own check (a bool is an int) and
    ``(10**40, 0)`` holds no values yet no array can have that shape.
    """
    if any(type(n) is not int or n < 0 for n in shape):
        raise ImageLoadError(f"the header's shape {_shape_text(shape)} holds something that is not a count of values")
    if len(shape) > 4:
        raise ImageLoadError("expected a 2-D grayscale image (H, W), (H, W, 3|4) colour or (1, 28, 28); "
                             f"got shape {_shape_text(shape)}")
    count = 1
    for n in shape:
        count *= n
    if count > max_elements or any(n > max_elements for n in shape):
        raise ImageLoadError(f"the array has shape {_shape_text(shape)} ({_count_text(count)} values); "
                             f"arrays over {max_elements:,} values or that long in one direction are refused")
    return count


def _dtype_text(dtype: np.dtype) -> str:
    """The dtype for a one-line message: field names are the file's text (control characters escaped), at most 80 characters."""
    text = shown(str(dtype))
    return text if len(text) <= 80 else text[:77] + "..."


def _count_text(n: int, separators: bool = True) -> str:
    """``n`` (with thousands separators), or as ``1.0e+40`` when it is too long to read."""
    digits = str(n)
    if len(digits) > 15:
        return f"{digits[0]}.{digits[1]}e+{len(digits) - 1}"
    return f"{n:,}" if separators else digits


def _shape_text(shape: tuple) -> str:
    """A header's shape for a message: huge counts shortened, anything that is not a count shown as its repr."""
    parts = [_count_text(n, separators=False) if type(n) is int and n >= 0 else shown(repr(n))[:20] for n in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
