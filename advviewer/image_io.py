"""Reading pictures from files: image formats and ``.npy`` arrays, with size limits, into the pixel pipeline.

:func:`load_image` reads a file and hands it to :mod:`advviewer.preprocess`; everything here is
about files (what is read, how much, what is refused), nothing about pixels.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from advviewer.errors import ImageLoadError
from advviewer.preprocess import array_to_gray, is_model_input, pil_to_gray, preprocess_gray

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (30000x30000 would need GBs)
MAX_FILE_BYTES = 200_000_000

Image.MAX_IMAGE_PIXELS = None  # we apply our own, stricter limit before decoding


def open_image_file(path: Path) -> Image.Image:
    """Open an image file, refusing huge or corrupt ones with an ImageLoadError.

    The bytes are read first (files over MAX_FILE_BYTES are refused unread), so no file handle
    outlives this call whatever PIL makes of the data.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageLoadError(f"{path}: file is {path.stat().st_size // 1_000_000} MB; "
                                 f"image files over {MAX_FILE_BYTES // 1_000_000} MB are refused")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{path}: is a directory, not an image") from None
    except PermissionError:
        raise ImageLoadError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageLoadError(f"{path}: not an image file PIL can read (PNG, JPEG, BMP, TIFF, WebP, ...)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{path}: cannot read image ({exc})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageLoadError(f"{path}: image is {width}x{height} pixels; images over {MAX_PIXELS // 1_000_000} megapixels are refused")
    if width == 0 or height == 0:
        raise ImageLoadError(f"{path}: image has no pixels")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageLoadError(f"{path}: image is corrupt or truncated ({exc})") from None
    return image


def read_picture(path: str | Path) -> np.ndarray:
    """Read an image file or .npy into a float64 grayscale array in [0, 1], not yet framed."""
    path = Path(path)
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a directory, not an image")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ImageLoadError(f"{path}: no such file") from None
        except (ValueError, OSError, EOFError) as exc:
            raise ImageLoadError(f"{path}: not a readable .npy array ({str(exc).splitlines()[0]})") from None
        try:
            return array_to_gray(array)
        except ImageLoadError as exc:
            raise ImageLoadError(f"{path}: {exc}") from None
    image = open_image_file(path)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    return pil_to_gray(image)


def load_image(path: str | Path) -> np.ndarray:
    """Load an image file (PNG, JPEG, BMP, TIFF, WebP, GIF, ...) or ``.npy`` and preprocess it.

    Returns the 28x28 float32 model input in [0, 1]. An array that is already 28x28 in [0, 1]
    and white-on-black (e.g. an exported adversarial image) is returned unchanged, so attacks can
    be re-checked exactly. Raises ImageLoadError with a one-line reason for anything else.
    """
    gray = read_picture(path)
    if is_model_input(gray):
        return gray.astype(np.float32)
    return preprocess_gray(gray)
