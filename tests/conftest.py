import os

# Qt must never look for a display in tests (CI has none); set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # shared test helpers (helpers.py, strokes.py)

from advviewer.runtime import threads  # noqa: E402

# as the program runs from its start: one torch thread (a second stalls on a shared machine) and oneDNN's
# convolutions off, for every test whatever ran before it (the window and the CLI set the same when they start)
threads.configure(1)


@pytest.fixture(autouse=True)
def automatic_garbage_collection():
    """Outside tests/gui, Python collects its garbage itself, as the command line does.

    A window's tests before these leave collection to the GUI thread's timer
    (advviewer.gui.background), which no longer runs here; tests/gui/conftest.py keeps it. Qt is
    not imported for this: a core test runs without it.
    """
    background = sys.modules.get("advviewer.gui.background")
    collection = background.running_collection() if background is not None else None
    if collection is not None:
        collection.stop()
    yield


@pytest.fixture(scope="session")
def test_digits():
    """The bundled test split as float32 images in [0, 1] and int labels."""
    from advviewer.data import bundled_split

    images, labels = bundled_split("test")
    return images.astype(np.float32) / 255.0, labels


@pytest.fixture(scope="session")
def cnn():
    from advviewer import load_model

    return load_model("cnn")


@pytest.fixture
def drawn_digit_files(tmp_path_factory):
    """Mouse-style drawings of a 3 and an 8 as PNG files, in a folder of their own."""
    from helpers import write_pngs
    from strokes import draw_digit

    return write_pngs(tmp_path_factory.mktemp("drawn"), {f"drawn{d}": draw_digit(d) for d in (3, 8)})


@pytest.fixture(scope="session")
def test_digit_files(tmp_path_factory, test_digits):
    """The first two digits of the bundled test split (both 0s) as PNG files, in a folder of their own."""
    from helpers import write_pngs

    return write_pngs(tmp_path_factory.mktemp("digits"), {f"digit{i}": test_digits[0][i] for i in range(2)})


@pytest.fixture
def huge_png(tmp_path):
    """A valid PNG header claiming 30000x30000 pixels (decoding it would need 900 MB)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 30001 * 10)  # only a few rows: the file stays tiny
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path
