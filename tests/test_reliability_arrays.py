"""Arrays and pictures built to be odd (issue 20): every file is a model input or one AdvViewerError line.

Where tests/test_reliability_fuzz.py flips bytes of valid files, this builds files that are valid
in their format but not pictures, or headers that lie: every dtype a ``.npy`` header can name
(object, structured, complex, datetime, timedelta, bool, float16, float128, big-endian), every
kind of shape (0-d, 1-d, 3-d, 4-d, 5-d, zero-size, huge, bool or negative entries), Fortran
order, cut data, NaN and inf, values at the ends of each type; and pictures of every Pillow mode
at odd sizes (1 pixel high, 9000 wide). ``load_image`` must return a finite 28x28 float32 image
in [0, 1] or raise :class:`AdvViewerError` with one printable line naming the file; ``advviewer
predict`` must print one line per refused file and never a traceback.

Seeded: a failure names its case number, and ``ADVVIEWER_ARRAY_FUZZ_CASES=5000`` runs a longer
pass with the same rules.
"""

from __future__ import annotations

import io
import os
import random
import signal
import struct
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from strokes import draw_digit

from advviewer import load_image
from advviewer.errors import AdvViewerError

FUZZ_CASES = int(os.environ.get("ADVVIEWER_ARRAY_FUZZ_CASES", "1500"))
CLI_SAMPLE = 60  # of the fuzzed files, this many go through `advviewer predict` in one process
SECONDS_PER_CASE = 10

PIXEL_DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", "<i8", ">i8", "<u8", ">u8",
                "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]
OTHER_DTYPES = ["<f16", "<c8", ">c16", "|O", "<m8[s]", ">m8[D]", "<M8[ns]", "|V8", "<U4", "|S4",
                [("a", "<f4"), ("b", "<i2")], [("x\n\x1b[31m", "<f4")], ("<f4", (2,)), [("sub", "<f8", (3,))]]


@dataclass(frozen=True)
class Case:
    """One built file: what it holds, for the message of a failing assertion."""

    number: int
    path: Path
    recipe: str


def npy_header(shape: object, descr: object, fortran: bool = False, version: int = 1) -> bytes:
    """A ``.npy`` header with anything in it: the shape and dtype are written as given, even when they lie."""
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape_literal(shape)}, }}".encode("latin1")
    prefix = 10 if version == 1 else 12
    text += b" " * (63 - (prefix + len(text)) % 64) + b"\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text


def shape_literal(shape: object) -> str:
    if isinstance(shape, tuple):
        return "(" + "".join(f"{n!r}, " for n in shape) + ")"
    return repr(shape)


def _random_shape(rng: random.Random) -> tuple:
    side = lambda: rng.choice([1, 2, 7, 8, 9, 27, 28, 29, 40, 64, 100, 130])  # noqa: E731
    kind = rng.choice(["0-d", "1-d", "2-d", "2-d", "2-d", "colour", "3-d", "4-d", "5-d", "zero", "huge", "thin",
                       "bool", "negative"])
    if kind == "0-d":
        return ()
    if kind == "1-d":
        return (rng.choice([0, 1, 784, 5000]),)
    if kind == "2-d":
        return (side(), side())
    if kind == "colour":
        return (side(), side(), rng.choice([1, 2, 3, 4, 5]))
    if kind == "3-d":
        return rng.choice([(1, side(), side()), (side(), 1, side()), (2, side(), side()), (1, 28, 28)])
    if kind == "4-d":
        return rng.choice([(1, 1, 28, 28), (1, 1, side(), side()), (1, side(), side(), 3), (2, 1, 28, 28)])
    if kind == "5-d":
        return (1, 1, 1, 28, 28)
    if kind == "zero":
        return rng.choice([(0, 28), (28, 0), (0, 0, 3), (1, 0, 28), (0,), (10**40, 0), (0, 2**63)])
    if kind == "huge":
        return rng.choice([(100000, 100000), (2**31, 2), (2**63, 2**63), (10**40, 10**40), (40_000_001,)])
    if kind == "thin":
        return rng.choice([(1, 5000), (5000, 1), (8, 9000), (9, 2000), (2000, 9, 3), (1, 1, 8, 1100)])
    if kind == "bool":
        return rng.choice([(True, 28, 28), (28, False), (True, True)])
    return rng.choice([(-1, 28), (28, -28), (-1,), (-(2**63), 2)])


def _values(rng: random.Random, dtype: np.dtype, count: int) -> np.ndarray:
    """``count`` values of ``dtype``: a digit's strokes, noise, a constant, or the type's extremes, NaN and inf."""
    style = rng.choice(["digit", "noise", "constant", "extremes"])
    if style == "digit" and count >= 64:
        side = int(count**0.5)
        unit = np.zeros(count)
        unit[: side * side] = draw_digit(rng.randrange(10), size=side, width=max(1, side // 10)).ravel() / 255.0
    elif style == "constant":
        unit = np.full(count, rng.choice([0.0, 0.5, 1.0]))
    else:
        unit = np.array([rng.random() for _ in range(min(count, 64))] * (count // 64 + 1))[:count]
    if dtype.kind == "b":
        return (unit > 0.5).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        top = rng.choice([1, 255, 65535, int(info.max)])
        values = np.clip(np.round(unit * min(top, int(info.max))), int(info.min), int(info.max)).astype(dtype)
        if style == "extremes" and count:
            values[rng.randrange(count)] = info.min
            values[rng.randrange(count)] = info.max
        return values
    scale = rng.choice([1.0, 255.0, -1.0, float(np.finfo(dtype).max)])
    with np.errstate(all="ignore"):
        values = (unit * scale).astype(dtype)
    if style == "extremes" and count:
        values[rng.randrange(count)] = rng.choice([np.nan, np.inf, -np.inf, np.finfo(dtype).max, -np.finfo(dtype).max,
                                                   np.finfo(dtype).tiny])
    return values


def _npy_file(rng: random.Random) -> tuple[str, bytes]:
    """A .npy file: numpy's own writing of a real array, or a header that may lie, with data that may be cut."""
    if rng.random() < 0.35:  # a real array, as np.save writes it
        shape = rng.choice([(28, 28), (1, 28, 28), (28, 28, 1), (64, 48), (40, 40, 3), (30, 30, 4), (1, 1, 50, 50)])
        dtype = np.dtype(rng.choice(PIXEL_DTYPES))
        array = _values(rng, dtype, int(np.prod(shape))).reshape(shape)
        if rng.random() < 0.3:
            array = np.asfortranarray(array)
        buf = io.BytesIO()
        np.save(buf, array)
        return f"np.save {dtype.str} {shape} fortran={array.flags.f_contiguous}", buf.getvalue()
    descr: object = rng.choice(PIXEL_DTYPES + OTHER_DTYPES)
    shape = _random_shape(rng)
    fortran = rng.random() < 0.25
    header = npy_header(shape, descr, fortran, version=rng.choice([1, 1, 2]))
    try:
        dtype = np.dtype(descr)  # type: ignore[call-overload]
        count = int(np.prod([n for n in shape], dtype=object)) if shape else 1
        exact = count * dtype.itemsize
    except (TypeError, ValueError, OverflowError):
        dtype, exact = None, 64
    if dtype is not None and dtype.kind in "biuf" and not dtype.fields and 0 <= exact <= 4_000_000:
        data = _values(rng, dtype, exact // dtype.itemsize).tobytes()
    else:
        data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 8, 64, 1000])))
    cut = rng.choice(["exact", "exact", "short", "long", "empty"])
    if cut == "short" and data:
        data = data[: rng.randrange(len(data))]
    elif cut == "long":
        data += b"\0" * rng.randrange(1, 100)
    elif cut == "empty":
        data = b""
    return f"header {descr!r} {shape_literal(shape)} fortran={fortran} data={cut}", header + data


PICTURE_MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]
MODE_FORMATS = {"1": ["PNG", "TIFF", "BMP"], "L": ["PNG", "TIFF", "BMP", "GIF", "WEBP", "PPM", "JPEG"],
                "LA": ["PNG", "TIFF"], "P": ["PNG", "GIF", "BMP", "TIFF"], "PA": ["PNG"],
                "RGB": ["PNG", "TIFF", "JPEG", "WEBP", "PPM", "BMP"], "RGBA": ["PNG", "TIFF", "WEBP"],
                "CMYK": ["TIFF", "JPEG"], "I;16": ["PNG", "TIFF"], "I": ["TIFF", "PNG"], "F": ["TIFF"]}


def _picture_file(rng: random.Random) -> tuple[str, str, bytes]:
    """A picture in a mode and format Pillow writes, at an odd size, with odd values (NaN in float pictures)."""
    mode = rng.choice(PICTURE_MODES)
    fmt = rng.choice(MODE_FORMATS[mode])
    width, height = rng.choice([(28, 28), (100, 80), (1, 1), (7, 300), (8, 8), (9000, 8), (8, 9000), (3000, 9), (200, 1)])
    gray = Image.fromarray(draw_digit(rng.randrange(10), size=max(8, min(width, height, 200)), width=3)).resize((width, height))
    if mode == "F":
        values = np.asarray(gray, dtype=np.float32) / np.float32(255) * np.float32(rng.choice([1.0, 255.0, -1e38, 3e38]))
        if rng.random() < 0.3:
            values.flat[rng.randrange(values.size)] = rng.choice([np.nan, np.inf])
        image = Image.fromarray(values, "F")
    elif mode in ("I;16", "I"):
        image = Image.fromarray((np.asarray(gray, dtype=np.int32) * rng.choice([1, 257, -1000])).astype(np.int32), "I")
        if mode == "I;16":
            image = Image.fromarray(np.clip(np.asarray(image), 0, 65535).astype(np.uint16))
    else:
        image = gray.convert(mode)
    buf = io.BytesIO()
    try:
        image.save(buf, format=fmt)
    except (OSError, ValueError, KeyError):  # a format that cannot hold this mode or size (WebP over 16383 pixels)
        fmt = "TIFF"  # holds every mode
        buf = io.BytesIO()
        image.save(buf, format=fmt)
    suffix = {"JPEG": "jpg", "PPM": "pgm" if image.mode in ("1", "L") else "ppm"}.get(fmt, fmt.lower())
    return f"picture {mode} {fmt} {width}x{height}", suffix, buf.getvalue()


def build_cases(folder: Path, count: int, seed: int = 20261205) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        with np.errstate(all="ignore"):  # the values may overflow their type on purpose
            if rng.random() < 0.75:
                recipe, data = _npy_file(rng)
                suffix = "npy"
            else:
                recipe, suffix, data = _picture_file(rng)
        path = folder / f"case{number:04d}.{suffix}"
        path.write_bytes(data)
        cases.append(Case(number, path, recipe))
    return cases


def _alarm(*_):
    raise TimeoutError("load_image did not return")


def outcome(case: Case) -> str:
    """"read" or "refused"; fails the test on anything else (another exception, a bad image, a message that is not one line)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        x = load_image(case.path)
    except AdvViewerError as exc:
        message = str(exc)
        assert message.startswith(str(case.path) + ": "), (case, message)
        assert message.isprintable(), (case, message)  # one line, no escape sequences from the file's text
        if not case.recipe.startswith("header"):  # written by numpy or Pillow: refused maybe, but never called broken
            assert "corrupt" not in message and "truncated" not in message, (case, message)
        return "refused"
    except TimeoutError:
        pytest.fail(f"{case} hung")
    except Exception as exc:  # noqa: BLE001 -- the point of the test
        pytest.fail(f"{case} raised {type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert x.shape == (28, 28) and x.dtype == np.float32, case
    assert np.isfinite(x).all() and 0.0 <= x.min() and x.max() <= 1.0, case
    return "read"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> list[Case]:
    return build_cases(tmp_path_factory.mktemp("fuzzed"), FUZZ_CASES)


def test_every_built_file_is_a_model_input_or_one_line(fuzzed):
    outcomes = Counter(outcome(case) for case in fuzzed)
    kinds = Counter(case.recipe.split()[0] for case in fuzzed)
    assert outcomes["read"] + outcomes["refused"] == len(fuzzed)
    assert outcomes["read"] > len(fuzzed) // 10 and outcomes["refused"] > len(fuzzed) // 4  # both ends are reached
    assert kinds["header"] > len(fuzzed) // 3 and kinds["picture"] > len(fuzzed) // 10 and kinds["np.save"] > len(fuzzed) // 10


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advviewer", *map(str, args)], capture_output=True, text=True, timeout=300)


def check_cli_lines(out: subprocess.CompletedProcess, paths: list[Path]) -> None:
    """One line on stdout per read file or on stderr per refused one, each naming its file; never a traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    errors, answers = out.stderr.splitlines(), out.stdout.splitlines()
    assert len(errors) + len(answers) == len(paths), out.stderr
    assert out.returncode == (2 if errors else 0)
    named = [line.removeprefix("advviewer: ").split(": ", 1)[0] for line in errors] + [line.split(": ", 1)[0] for line in answers]
    assert sorted(named) == sorted(map(str, paths)), out.stderr
    assert all(line.isprintable() for line in errors + answers)


def test_the_command_line_prints_one_line_per_file_never_a_traceback(fuzzed):
    sample = random.Random(7).sample(fuzzed, min(CLI_SAMPLE, len(fuzzed)))
    paths = [case.path for case in sample]
    check_cli_lines(run_cli("predict", *paths), paths)


# ---- the cases issue 20 found, kept as regression inputs ----

def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _saved(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _jpeg(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height), 200).save(buf, format="JPEG")
    return buf.getvalue()


EXTENDED = np.dtype(np.longdouble).itemsize == 16  # x86-64 Linux; elsewhere long double may be float64


def _extended_precision_digit() -> bytes:
    if not EXTENDED:
        return b""
    return _saved(np.where(draw_digit(3, size=60, width=6) > 127, np.longdouble("1e4000"), np.longdouble(0)))


FOUND = [  # (file name, bytes, what the one line says); before the fixes: ValueError, TypeError, TypeError, ValueError...
    ("row.npy", _saved(np.zeros((1, 5000))), r"\(1, 5000\) is too small"),
    ("timedelta.npy", _saved(np.zeros((28, 28), "m8[s]")), "got dtype timedelta64"),
    ("bool_shape.npy", npy_header((True, 28, 28), "<f8") + bytes(28 * 28 * 8), r"shape \(True, 28, 28\) holds something that is not a count"),
    ("huge_empty.npy", npy_header((10**40, 0), "<f8"), r"shape \(1.0e\+40, 0\) \(0 values\).*refused"),
    ("thin.npy", _saved(np.zeros((9, 2000))), "times longer than it is wide"),
    ("long.jpg", _jpeg(9000, 8), "9000x8 pixels, 1125 times longer than it is wide"),  # was 'corrupt or truncated' (Pillow's draft)
    # a digit of 1e4000s in extended precision: read as a blank picture (inf in float64, then stretched to 0)
    ("float128.npy", _extended_precision_digit(), "128-bit floats"),
    ("escape.npy", npy_header((30, 30), [("x\n\x1b[31m", "<f4")]) + bytes(3600), r"x\\n\\x1b\[31m"),
]


@pytest.mark.parametrize("name, data, match", FOUND, ids=[case[0] for case in FOUND])
def test_the_arrays_issue_20_found_are_one_line(tmp_path, name, data, match):
    if name == "float128.npy" and not EXTENDED:
        pytest.skip("numpy has no 128-bit float here")
    path = _write(tmp_path, name, data)
    with pytest.raises(AdvViewerError, match=match) as caught:
        load_image(path)
    assert str(caught.value).startswith(f"{path}: ") and str(caught.value).isprintable()


def test_the_arrays_issue_20_found_on_the_command_line(tmp_path):
    paths = [_write(tmp_path, name, data) for name, data, _ in FOUND]
    out = run_cli("predict", *paths)
    check_cli_lines(out, paths)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == len(FOUND)


def test_float64_near_its_limit_reads_as_the_same_picture(tmp_path):
    """A big float64 picture of +-1e308 is shrunk by block means (sums: 2 x 1e308 is inf, then NaN);
    scaled down by a power of two first, it reads as the same digit as its 0/1 copy."""
    digit = draw_digit(4, size=1400, width=120) > 127
    plain = load_image(_write(tmp_path, "plain.npy", _saved(digit.astype(np.float64))))
    extreme = load_image(_write(tmp_path, "extreme.npy", _saved(np.where(digit, 1e308, -1e308))))
    assert np.isfinite(extreme).all()
    np.testing.assert_allclose(extreme, plain, atol=1e-5)
