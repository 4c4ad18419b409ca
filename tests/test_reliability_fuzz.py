"""A seeded fuzzing pass over mutated pictures: every result is a model input or one ImageLoadError line.

Seeds are small valid files in every format we read; mutations flip bits, overwrite header
bytes, cut, splice in random bytes and repeat chunks. The suite runs FUZZ_CASES of them (well
under a minute); ``ADVVIEWER_FUZZ_CASES=5000 pytest tests/test_reliability_fuzz.py`` runs a
longer pass with the same rules.
"""

import io
import os
import random
import signal
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from strokes import draw_digit

from advviewer import load_image
from advviewer.errors import ImageLoadError

FUZZ_CASES = int(os.environ.get("ADVVIEWER_FUZZ_CASES", "600"))
SECONDS_PER_CASE = 10  # a hang fails the case instead of the whole run


def _seed_files() -> dict[str, bytes]:
    digit = draw_digit(3, size=64, width=6)
    rgba = np.stack([digit] * 3 + [np.where(digit > 0, 255, 40).astype(np.uint8)], -1)
    images = {"png": Image.fromarray(digit), "rgba.png": Image.fromarray(rgba, "RGBA"), "p.png": Image.fromarray(digit).convert("P"),
              "jpg": Image.fromarray(digit).convert("RGB"), "bmp": Image.fromarray(digit), "webp": Image.fromarray(digit).convert("RGB"),
              "pgm": Image.fromarray(digit), "f.tiff": Image.fromarray(digit.astype(np.float32) / 255, "F"),
              "i16.png": Image.fromarray(digit.astype(np.uint16) * 257)}
    formats = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "webp": "WEBP", "pgm": "PPM", "tiff": "TIFF"}
    seeds = {}
    for name, image in images.items():
        buf = io.BytesIO()
        image.save(buf, format=formats[name.rsplit(".", 1)[-1]])
        seeds[name] = buf.getvalue()
    for name, fmt in (("gif", "GIF"), ("tiff", "TIFF")):  # two frames / pages
        buf = io.BytesIO()
        first, second = Image.fromarray(digit), Image.fromarray(draw_digit(5, size=64, width=6))
        if fmt == "GIF":
            first, second = first.convert("P"), second.convert("P")
        first.save(buf, format=fmt, save_all=True, append_images=[second])
        seeds[name] = buf.getvalue()
    buf = io.BytesIO()
    np.save(buf, digit.astype(np.float32) / 255)
    seeds["npy"] = buf.getvalue()
    buf = io.BytesIO()
    np.save(buf, np.asarray(Image.fromarray(digit).resize((100, 80))))
    seeds["big.npy"] = buf.getvalue()
    return seeds


def _mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    b = bytearray(data)
    kind = rng.choice(["flip", "header", "cut", "insert", "repeat", "ints"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == "header":  # formats keep sizes, counts and offsets near the start
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(min(len(b), 160))] = rng.randrange(256)
    elif kind == "cut":
        b = b[: rng.randrange(1, len(b))]
    elif kind == "insert":
        at = rng.randrange(len(b))
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "repeat":
        start = rng.randrange(len(b))
        piece = b[start : start + rng.randint(1, 256)]
        b[start:start] = piece * rng.randint(1, 8)
    else:  # plausible-looking huge or negative numbers where a size may be
        at = rng.randrange(max(1, min(len(b), 160) - 4))
        b[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x00", b"\x00\x01\x00\x00"])
    return kind, bytes(b)


def _alarm(*_):
    raise TimeoutError("load_image did not return")


def fuzz(folder, cases: int, seed: int = 20261123) -> Counter:
    """Run ``cases`` mutated files through load_image; returns counts of outcomes. Fails on any other outcome."""
    rng = random.Random(seed)
    seeds = _seed_files()
    outcomes: Counter = Counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i in range(cases):
            name = rng.choice(sorted(seeds))
            kind, data = _mutate(seeds[name], rng)
            path = folder / f"case{i % 50}.{name}"
            path.write_bytes(data)
            signal.alarm(SECONDS_PER_CASE)
            try:
                x = load_image(path)
            except ImageLoadError as exc:
                message = str(exc)
                assert "\n" not in message and message.startswith(str(path)), (i, name, kind, message)
                outcomes["refused"] += 1
            except TimeoutError:
                pytest.fail(f"case {i} ({name}, {kind}) hung; its bytes are in {path}")
            else:
                assert x.shape == (28, 28) and x.dtype == np.float32, (i, name, kind)
                assert np.isfinite(x).all() and 0.0 <= x.min() and x.max() <= 1.0, (i, name, kind)
                outcomes["read"] += 1
            finally:
                signal.alarm(0)
            outcomes[f"{name} {kind}"] += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    return outcomes


def test_mutated_pictures_give_a_digit_or_one_line(tmp_path):
    outcomes = fuzz(tmp_path, FUZZ_CASES)
    assert outcomes["read"] + outcomes["refused"] == FUZZ_CASES
    assert outcomes["read"] > FUZZ_CASES // 10 and outcomes["refused"] > FUZZ_CASES // 10  # the mutations reach both ends
