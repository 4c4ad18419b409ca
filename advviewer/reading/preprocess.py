"""Turn any picture of a digit into the model's input, the way MNIST was made.

MNIST's recipe (LeCun et al.): white digit on black; the digit's bounding box scaled to fit a
20x20 box keeping its aspect ratio, with anti-aliasing; then placed in a 28x28 image so that its
centre of mass is at the centre. :func:`preprocess` does that for an array of any size and
range; :mod:`advviewer.reading.image_io` reads image files and ``.npy`` arrays into it.

On top of the recipe, for drawings and photos: dark-on-light input is inverted (decided from the
border), the background level is removed and contrast stretched, and very thin or very thick
strokes are brought towards MNIST's stroke width relative to the digit's size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from advviewer.errors import ImageLoadError

SIZE = 28
BOX = 20
INK_THRESHOLD = 0.25  # after contrast stretch: what counts as ink for the bounding box
WORK_SIDE = 112  # the digit's longer side is brought to this many pixels before stroke fixes
# Stroke width relative to the digit's longer side, measured on the bundled MNIST digits with
# the estimate in _fix_stroke_width: 5th / 50th / 95th percentile 0.09 / 0.13 / 0.19.
STROKE_TARGET = 0.13
STROKE_MIN = 0.09
STROKE_MAX = 0.22
STROKE_THICK_TARGET = 0.18  # very thick strokes are thinned only this far (erosion loses shape)


def pil_to_gray(image: Image.Image, top: float | None = None) -> np.ndarray:
    """Grayscale float32 in [0, 1]; transparency composited on the background the ink is not.

    ``top`` is the value of white for integer modes ``I`` (65535 for a 16-bit picture converted
    to ``I``); by default 65535 for 16-bit modes, else 255 unless a pixel is brighter.
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(image, dtype=np.float32)
        if top is None:
            top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        return np.clip(arr / np.float32(top), 0.0, 1.0)
    if mode == "F":
        arr = np.asarray(image, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise ImageLoadError("the image contains NaN or infinite pixel values")
        return _to_unit(arr)
    if mode == "P" and "transparency" in image.info or mode in ("LA", "PA", "RGBA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / np.float32(255.0)
        alpha = rgba[..., 3]
        gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if alpha.min() < 0.99:
            # put the strokes on the opposite of their own colour, so white-on-transparent and
            # black-on-transparent drawings both keep their ink
            ink_level = float((gray * alpha).sum() / max(float(alpha.sum()), 1e-9))
            background = 0.0 if ink_level > 0.5 else 1.0
            return gray * alpha + np.float32(background) * (1.0 - alpha)
        return gray
    return np.asarray(image.convert("L"), dtype=np.float32) / np.float32(255.0)


def _scale_to_unit(arr: np.ndarray) -> np.ndarray:
    """Floats of any finite range into [0, 1]: kept if already there, /255 if in [0, 255], else stretched.

    Stretched without overflow: (1e308 - -1e308) is inf in float64, so both ends are first
    divided by the largest magnitude.
    """
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0.0 and hi <= 1.0:
        return arr
    if lo >= 0.0 and hi <= 255.0:
        return arr / arr.dtype.type(255.0)
    magnitude = max(abs(lo), abs(hi))
    lo_s, hi_s = lo / magnitude, hi / magnitude
    if not hi_s - lo_s > 1e-12:
        return np.zeros_like(arr)
    with np.errstate(all="ignore"):  # tiny values may underflow to 0: harmless
        return np.clip((arr / magnitude - lo_s) / (hi_s - lo_s), 0.0, 1.0).astype(arr.dtype)


def shrink(arr: np.ndarray, max_side: int) -> np.ndarray:
    """Block means so the longer side is at most ``max_side`` (float32): a big picture costs memory, not detail.

    Digits are framed at 20x20 in the end; a few hundred pixels on the longer side is plenty,
    and box averaging before any float64 work keeps a 40-megapixel picture in tens of MB.
    """
    h, w = arr.shape[:2]
    factor = -(-max(h, w) // max_side)
    if factor <= 1:
        return arr
    h2, w2 = h // factor * factor, w // factor * factor
    blocks = arr[:h2, :w2].reshape(h2 // factor, factor, w2 // factor, factor, *arr.shape[2:])
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def array_to_gray(array: np.ndarray, max_side: int | None = None) -> np.ndarray:
    """(H, W) of any numeric range, (H, W, 3|4) colour, or with leading 1-dims -> gray in [0, 1].

    With ``max_side``, a bigger picture is first shrunk by block means (see :func:`shrink`).
    """
    arr = _checked_image(np.asarray(array))
    top = _integer_top(arr)
    if max_side is not None:
        arr = shrink(arr, max_side)
    if arr.ndim == 3:
        unit = _to_unit(arr, top)
        rgb = np.round(unit * 255).astype(np.uint8)
        return pil_to_gray(Image.fromarray(rgb, "RGBA" if arr.shape[-1] == 4 else "RGB"))
    return _to_unit(arr, top)


def _checked_image(arr: np.ndarray) -> np.ndarray:
    """``arr`` as (H, W) or (H, W, 3|4) of finite numbers (bool as float32); an ImageLoadError says what is wrong."""
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise ImageLoadError(f"expected a numeric image array, got dtype {arr.dtype}")
    image = _without_unit_dims(arr)
    if image.ndim not in (2, 3) or image.ndim == 3 and image.shape[-1] not in (3, 4):
        raise ImageLoadError(
            f"expected a 2-D grayscale image (H, W), (H, W, 3|4) colour or (1, 28, 28); got shape {arr.shape}"
        )
    if image.size == 0:
        raise ImageLoadError("the image array is empty (0 pixels)")
    if image.dtype == bool:
        return image.astype(np.float32)
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        raise ImageLoadError("the image array contains NaN or infinite values")
    return image


def _without_unit_dims(arr: np.ndarray) -> np.ndarray:
    """Leading 1-dims dropped ((1, H, W), (1, 1, H, W)), and a single trailing channel ((H, W, 1))."""
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return arr


def _integer_top(arr: np.ndarray) -> float | None:
    """White for integer arrays: 255, or 65535 when a value is above 255 (16-bit); None for floats."""
    if not np.issubdtype(arr.dtype, np.integer):
        return None
    return 65535.0 if int(arr.max()) > 255 else 255.0


def _to_unit(arr: np.ndarray, top: float | None = None) -> np.ndarray:
    if top is not None and np.issubdtype(arr.dtype, np.integer):
        return np.clip(arr.astype(np.float32) / np.float32(top), 0.0, 1.0)
    if top is not None:  # integers already shrunk to float block means
        return np.clip(arr / np.float32(top), 0.0, 1.0).astype(np.float32)
    values = arr.astype(np.float64) if arr.dtype.itemsize > 4 else arr.astype(np.float32)
    return _scale_to_unit(values)


def _border(gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    k = max(1, min(h, w) // 20)
    return np.concatenate([gray[:k].ravel(), gray[-k:].ravel(), gray[:, :k].ravel(), gray[:, -k:].ravel()])


def normalise_polarity_and_contrast(gray: np.ndarray) -> np.ndarray:
    if np.median(_border(gray)) > 0.5:
        gray = 1.0 - gray  # dark ink on light paper: make it white on black like MNIST
    background = float(np.median(_border(gray)))
    ink = float(np.percentile(gray, 99.5))
    if ink - background < 0.08:
        return np.zeros_like(gray)  # nothing that stands out from the background
    return np.clip((gray - background) / (ink - background), 0.0, 1.0)


def _resize(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Anti-aliased resize of a float image; size is (width, height)."""
    img = Image.fromarray(gray.astype(np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS if min(size) >= 4 else Image.Resampling.BOX), dtype=np.float64)


def _fix_stroke_width(digit: np.ndarray) -> np.ndarray:
    """Dilate very thin strokes / erode very thick ones, relative to the digit's longer side."""
    ink = digit > 0.5
    area = int(ink.sum())
    if area < 10:
        return digit
    edge = ink & ~_erode_bool(ink)
    width = 2.0 * area / max(int(edge.sum()), 1)
    side = max(digit.shape)
    if width < STROKE_MIN * side:
        grow = int(round((STROKE_TARGET * side - width) / 2))
        if grow > 0:
            digit = _morph(digit, grow, np.maximum)
    elif width > STROKE_MAX * side:
        shrink = int(round((width - STROKE_THICK_TARGET * side) / 2))
        if shrink > 0:
            eroded = _morph(digit, shrink, np.minimum)
            if (eroded > 0.5).sum() > 0.2 * area:
                digit = eroded
    return digit


def _shifted(a: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    out = np.full_like(a, fill)
    h, w = a.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = a[max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out


_CROSS = ((0, 1), (0, -1), (1, 0), (-1, 0))
_SQUARE = _CROSS + ((1, 1), (1, -1), (-1, 1), (-1, -1))


def _erode_bool(ink: np.ndarray) -> np.ndarray:
    out = ink.copy()
    for dy, dx in _CROSS:
        out &= _shifted(ink, dy, dx, False)
    return out


def _morph(a: np.ndarray, radius: int, op) -> np.ndarray:
    """Grey dilation (op=np.maximum) or erosion (np.minimum) by a near-disk of the given radius:
    3x3 steps alternating cross and square shapes make an octagon."""
    fill = 0.0 if op is np.maximum else 1.0
    for step in range(radius):
        nxt = a.copy()
        for dy, dx in _SQUARE if step % 2 else _CROSS:
            nxt = op(nxt, _shifted(a, dy, dx, fill))
        a = nxt
    return a


def _center_of_mass(a: np.ndarray) -> tuple[float, float]:
    total = a.sum()
    ys, xs = np.arange(a.shape[0]), np.arange(a.shape[1])
    return float((a.sum(1) * ys).sum() / total), float((a.sum(0) * xs).sum() / total)


def preprocess(array: np.ndarray) -> np.ndarray:
    """Return the 28x28 float32 model input in [0, 1] for a picture of a digit.

    ``array`` may be (H, W) grayscale of any numeric type and range, (H, W, 3|4) colour, or
    already (1, 28, 28). An empty picture gives an all-zero image (no error, no NaN).
    Raises ImageLoadError for arrays that are not images (wrong shape, NaN, non-numeric).
    """
    return preprocess_gray(array_to_gray(array))


def preprocess_gray(gray: np.ndarray) -> np.ndarray:
    """:func:`preprocess` for a grayscale float array already in [0, 1]."""
    return frame_digit(normalise_polarity_and_contrast(gray))


def frame_digit(gray: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero((gray > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((gray > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return np.zeros((SIZE, SIZE), dtype=np.float32)
    digit = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = digit.shape
    # work at a fixed resolution so stroke width means the same for any input size
    scale = WORK_SIDE / max(h, w)
    digit = np.pad(digit, 2)
    digit = np.clip(_resize(digit, (max(1, round((w + 4) * scale)), max(1, round((h + 4) * scale)))), 0, 1)
    digit = _fix_stroke_width(digit)
    ink_rows = np.flatnonzero((digit > INK_THRESHOLD).any(axis=1))
    ink_cols = np.flatnonzero((digit > INK_THRESHOLD).any(axis=0))
    if ink_rows.size:
        digit = digit[ink_rows[0] : ink_rows[-1] + 1, ink_cols[0] : ink_cols[-1] + 1]
    h, w = digit.shape
    scale = BOX / max(h, w)
    small = np.clip(_resize(digit, (max(1, round(w * scale)), max(1, round(h * scale)))), 0.0, 1.0)
    out = np.zeros((SIZE, SIZE), dtype=np.float64)
    sh, sw = small.shape
    top, left = (SIZE - sh) // 2, (SIZE - sw) // 2
    out[top : top + sh, left : left + sw] = small
    total = out.sum()
    if total > 0:
        cy, cx = _center_of_mass(out)
        dy = int(np.clip(round((SIZE - 1) / 2 - cy), -top, SIZE - sh - top))
        dx = int(np.clip(round((SIZE - 1) / 2 - cx), -left, SIZE - sw - left))
        out = np.roll(out, (dy, dx), axis=(0, 1))
    return out.astype(np.float32)


def is_model_input(gray: np.ndarray) -> bool:
    """True for a 28x28 white-on-black array already in [0, 1]: taken as it is (exported adversarials re-load exactly)."""
    return gray.shape == (SIZE, SIZE) and bool(np.median(_border(gray)) < 0.5)
