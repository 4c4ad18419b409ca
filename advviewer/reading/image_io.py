"""Reading pictures from files: image formats and ``.npy`` arrays, with size limits, into the pixel pipeline.

:func:`load_image` reads a file and hands it to :mod:`advviewer.reading.preprocess`; everything here is
about files (what is read, how much, what is refused), nothing about pixels.

Every file may be hostile. Only regular files are read, at most ``MAX_FILE_BYTES``
(:mod:`advviewer.reading.files`); Pillow may only try the formats we support (a file renamed ``.png``
cannot reach EPS and Ghostscript); the file's structure is counted before Pillow sees it, so
decoding time is bounded (:mod:`advviewer.reading.image_structure`: PNG chunks, JPEG scans, PNM
comments); the image's size is checked before it is decoded; a big
picture is shrunk right after decoding, before any float work; anything a decoder raises on
broken data becomes one :class:`ImageLoadError` line.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from advviewer.errors import ImageLoadError
from advviewer.reading.files import check_regular_file, read_regular_file, shown
from advviewer.reading.image_structure import check_structure
from advviewer.reading.npy_read import read_npy
from advviewer.reading.preprocess import SIZE, array_to_gray, is_model_input, pil_to_gray, preprocess_gray
from advviewer.reading.sandbox import PICTURE_LIMITS, Cancel, run_isolated

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (30000x30000 would need GBs)
MAX_FILE_BYTES = 200_000_000
MAX_NPY_BYTES = 64_000_000  # a digit as an array is kilobytes; 10000x10000 uint8 (100 MB) is not one
MIN_SIDE = 8  # smaller pictures cannot hold a digit (a model input is 28x28)
WORK_MAX_SIDE = 1024  # bigger pictures are shrunk (block means) right after decoding
MAX_ASPECT = WORK_MAX_SIDE // MIN_SIDE  # a longer array would shrink to no rows (and holds no digit)
SAFE_FLOAT64 = 2.0**1000  # float64 arrays beyond this are scaled down by a power of two before any sum
SAFE_EXPONENT = 21  # ... to a largest magnitude in [2**20, 2**21): still over 255, so stretched as before
# Formats Pillow may try. Not EPS (runs Ghostscript), not the many formats nobody draws digits in.
FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF", "PPM")
FORMAT_NAMES = "PNG, JPEG, BMP, TIFF, WebP, GIF, PGM/PPM/PFM or .npy"
# modes converted before shrinking (Image.reduce and our gray conversion handle the targets)
_CONVERT = {"1": "L", "PA": "RGBA", "La": "RGBA", "RGBa": "RGBA", "CMYK": "RGB", "YCbCr": "RGB", "RGBX": "RGB"}
_KEEP = {"L", "LA", "RGB", "RGBA", "I", "F"}
# EXIF orientation -> the transpose that shows the picture upright (as ImageOps.exif_transpose)
_ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


def _decode(data: bytes) -> tuple[Image.Image, float | None]:
    """Check the structure, open, check the size, decode the first frame, shrink, turn upright: (image, white of mode I)."""
    check_structure(data)
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ImageLoadError(f"not an image file in a supported format ({FORMAT_NAMES})") from None
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours: it names the pixel count only
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "far over the limit"
        raise ImageLoadError(f"image is {size}; images over {MAX_PIXELS // 1_000_000} megapixels are refused") from None
    width, height = image.size
    _check_image_size(width, height)
    factor = -(-max(width, height) // WORK_MAX_SIDE)
    if image.format == "JPEG" and factor > 1 and isinstance(image, ImageFile.ImageFile):
        image.draft(image.mode, (width // factor, height // factor))  # decode at 1/2, 1/4 or 1/8 scale
    image.load()  # errors on broken data propagate to the caller, which turns them into one line
    orientation = image.getexif().get(0x0112)
    top = 65535.0 if image.mode.startswith("I;16") else None
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    elif image.mode in _CONVERT:
        image = image.convert(_CONVERT[image.mode])
    elif image.mode not in _KEEP:
        raise ImageLoadError(f"images in colour mode {image.mode} are not supported")
    factor = -(-max(image.size) // WORK_MAX_SIDE)
    if factor > 1:
        image = image.reduce(factor)
    if orientation in _ORIENT:
        image = image.transpose(_ORIENT[orientation])
    return image, top


def _check_image_size(width: int, height: int) -> None:
    """ImageLoadError unless a width x height picture can be decoded within the limits and hold a digit."""
    if width * height > MAX_PIXELS:
        raise ImageLoadError(f"image is {width}x{height} pixels; images over {MAX_PIXELS // 1_000_000} megapixels are refused")
    if min(width, height) < MIN_SIDE:
        raise ImageLoadError(f"image is {width}x{height} pixels; a digit needs at least {MIN_SIDE}x{MIN_SIDE}")
    if max(width, height) > MAX_ASPECT * min(width, height):  # a 9000x8 JPEG's draft size would be 0 pixels high
        raise ImageLoadError(f"image is {width}x{height} pixels, {max(width, height) // min(width, height)} times longer "
                             f"than it is wide; a picture of a digit is at most {MAX_ASPECT} times")


def open_image_file(path: str | Path) -> tuple[Image.Image, float | None]:
    """The decoded picture in ``path`` (see :func:`_decode`), or ImageLoadError with one line."""
    data = read_regular_file(path, MAX_FILE_BYTES, ImageLoadError, "an image")
    try:
        return _decode(data)
    except ImageLoadError as exc:
        raise ImageLoadError(f"{shown(path)}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- decoders meet hostile data: TypeError, IndexError, SyntaxError, struct.error...
        raise ImageLoadError(f"{shown(path)}: image is corrupt or truncated ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shown(text[0][:200]) if text else type(exc).__name__


def _npy_picture(data: bytes) -> np.ndarray:
    """A .npy file's bytes as gray in [0, 1]; a model-input-shaped one must already hold a model input's values."""
    array = read_npy(data, MAX_PIXELS)
    if tuple(n for n in array.shape if n != 1) == (SIZE, SIZE):  # (28, 28), (1, 28, 28), (28, 28, 1)...
        return _model_input_values(array.reshape(SIZE, SIZE))
    _check_picture_sides(array.shape)
    return array_to_gray(_within_float64(array), max_side=WORK_MAX_SIDE)


def _picture_sides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The picture's (H, W[, channels]) as :func:`advviewer.reading.preprocess.array_to_gray` reads ``shape``:
    leading 1s dropped down to two dimensions, a trailing single channel dropped."""
    while len(shape) > 2 and shape[0] == 1:
        shape = shape[1:]
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
    return shape


def _check_picture_sides(shape: tuple[int, ...]) -> None:
    """ImageLoadError for a picture too small or too thin to hold a digit (a shape that is no picture
    at all is left to array_to_gray, which names the shapes it reads).

    Too thin matters beyond taste: a 1x5000 array shrunk by block means to 1024 pixels across has
    no rows left, and the pipeline would meet an empty picture.
    """
    sides = _picture_sides(shape)
    if len(sides) not in (2, 3):
        return
    short, long = min(sides[:2]), max(sides[:2])
    if short < MIN_SIDE:
        raise ImageLoadError(f"array of shape {shape} is too small for a picture of a digit "
                             f"(at least {MIN_SIDE}x{MIN_SIDE}; a model input is {SIZE}x{SIZE})")
    if long > MAX_ASPECT * short:
        raise ImageLoadError(f"array of shape {shape} is {long // short} times longer than it is wide; "
                             f"a picture of a digit is at most {MAX_ASPECT} times")


def _within_float64(array: np.ndarray) -> np.ndarray:
    """Float64 values near float64's limit scaled down by a power of two (exact; the pipeline's stretch
    does not change): block means and the contrast stretch add values, and 2 x 1e308 is inf."""
    if array.dtype.kind != "f" or array.dtype.itemsize < 8 or array.size == 0:
        return array
    magnitude = float(np.abs(array).max())
    if not np.isfinite(magnitude) or magnitude < SAFE_FLOAT64:
        return array  # NaN and inf are named by array_to_gray
    return np.ldexp(array, -int(np.frexp(magnitude)[1]) + SAFE_EXPONENT)


def _model_input_values(array: np.ndarray) -> np.ndarray:
    """A 28x28 array is read as the model's input: floats in [0, 1], or 8-bit integers 0..255."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageLoadError("the image array contains NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if lo < 0.0 or hi > 1.0:
            raise ImageLoadError(f"a {SIZE}x{SIZE} float array is read as the model's input and must hold values in [0, 1]; "
                                 f"this one holds {lo:.4g}..{hi:.4g}")
        return array.astype(np.float32)
    lo, hi = int(array.min()), int(array.max())
    if lo < 0 or hi > 255:
        raise ImageLoadError(f"a {SIZE}x{SIZE} integer array is read as 8-bit pixels and must hold values 0..255; this one holds {lo}..{hi}")
    return array.astype(np.float32) / np.float32(255.0)


def read_picture(path: str | Path) -> np.ndarray:
    """Read an image file or .npy into a float grayscale array in [0, 1], not yet framed."""
    if Path(path).suffix.lower() == ".npy":
        data = read_regular_file(path, MAX_NPY_BYTES, ImageLoadError, "an array")
        try:
            with np.errstate(all="ignore"):
                return _npy_picture(data)
        except ImageLoadError as exc:
            raise ImageLoadError(f"{shown(path)}: {exc}") from None
    image, top = open_image_file(path)
    try:
        with np.errstate(all="ignore"):
            return pil_to_gray(image, top)
    except ImageLoadError as exc:
        raise ImageLoadError(f"{shown(path)}: {exc}") from None


def load_image(path: str | Path, cancel: Cancel | None = None) -> np.ndarray:
    """Load an image file (PNG, JPEG, BMP, TIFF, WebP, GIF, PGM/PPM) or ``.npy`` and preprocess it.

    Returns the 28x28 float32 model input in [0, 1]. A 28x28 array already in [0, 1] and
    white-on-black (e.g. an exported adversarial image) is returned unchanged, so attacks can be
    re-checked exactly. Raises ImageLoadError with a one-line reason for anything else. The file
    is read and decoded in a child process with memory and time limits (:mod:`advviewer.reading.sandbox`);
    once ``cancel`` is set (another file was asked for) the child is killed and :class:`~advviewer.errors.Cancelled` raised.
    """
    noun = "an array" if Path(path).suffix.lower() == ".npy" else "an image"
    check_regular_file(path, ImageLoadError, noun)  # a missing file or a FIFO is refused here, without a child
    return run_isolated(_load_image_here, (path,), limits=PICTURE_LIMITS, error=ImageLoadError, name=shown(path),
                        cancel=cancel)


def _load_image_here(path: str | Path) -> np.ndarray:
    """:func:`load_image` in this process (the sandbox's child runs it)."""
    gray = read_picture(path)
    if is_model_input(gray):
        return gray.astype(np.float32)
    with np.errstate(all="ignore"):
        return preprocess_gray(gray)


def warm_up_in_sandbox_server() -> None:
    """Read a small picture of our own in each format once, in the server: Pillow's plugins and numpy's
    lazily imported modules are then imported in every reader it forks, so a reader's first picture
    does not pay for those imports. Called by :func:`advviewer.reading.sandbox.serve`
    (its ``WARM_UP`` hook), never in the program itself."""
    gradient = Image.linear_gradient("L").resize((64, 64))
    with tempfile.TemporaryDirectory(prefix="advviewer-warm-up-") as folder:
        for suffix in ("png", "jpg", "bmp", "gif", "tiff", "webp", "ppm"):
            path = os.path.join(folder, f"digit.{suffix}")
            try:
                gradient.save(path)
                _load_image_here(path)
            except Exception:  # noqa: BLE001 -- only a warm-up: a format this Pillow lacks is refused when it is read
                pass
