"""Functions the sandbox tests run in its child process (a module of their own: the child imports it by name)."""

import ctypes
import os
import sys
import time

import numpy as np

from advviewer.errors import ImageLoadError


def allocate_4_gb() -> np.ndarray:
    return np.ones(4 << 30, np.uint8)


def grow_forever() -> None:
    """Many small allocations rather than one big one: the limit must stop this too."""
    chunks = []
    while True:
        chunks.append(bytearray(16 << 20))


def spin_forever() -> None:
    while True:
        pass


def sleep_forever() -> None:
    time.sleep(3600)


def segfault() -> None:
    ctypes.string_at(0)


def chatter_then_answer() -> np.ndarray:
    print("a decoder's warning\nover two lines")
    sys.stdout.flush()
    os.write(1, b"written straight to fd 1\n")
    os.write(2, b"and to fd 2\n")
    return np.arange(12, dtype=np.int16).reshape(3, 4)


def chatter_then_fail() -> None:
    print("about to fail")
    raise ValueError("first line\nsecond line\x1b[31m")


def refuse(text: str) -> None:
    raise ImageLoadError(text)


def refuse_after_a_failed_allocation() -> None:
    """As image_io does with whatever a decoder raises: one line, ``from None``."""
    try:
        np.ones(4 << 30, np.uint8)
    except Exception as exc:  # noqa: BLE001
        raise ImageLoadError(f"image is corrupt or truncated ({type(exc).__name__})") from None


def answers() -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(0, 1, 10, dtype=np.float32).reshape(2, 5), np.array([3, 1, 4], dtype=np.int64)


def nothing() -> None:
    return None


def object_array() -> np.ndarray:
    return np.array([object()], dtype=object)


def write_a_file(path: str) -> None:
    with open(path, "wb") as out:
        out.write(b"x" * 1000)


def scene_members_without_the_size_bound(path: str):
    """The scene reader's work in the child with one static check switched off (the bound on an unpacked member):
    only the child's limits are left to stop a zip bomb."""
    from advviewer.reading import scene_file

    scene_file.MAX_MEMBER_BYTES = 1 << 40  # in this child only
    return scene_file._checked_members(path)


def _asleep_for_slow_names(path: str) -> None:
    """A file whose name starts with "slow" keeps the reader busy (asleep) for good: a hostile file that only the
    child's wall-clock limit would stop."""
    if os.path.basename(path).startswith("slow"):
        time.sleep(3600)


def scene_members_slowly_for_slow_names(path: str):
    """The scene reader's work in the child, asleep for good on a "slow..." file."""
    from advviewer.reading import scene_file

    _asleep_for_slow_names(path)
    return scene_file._checked_members(path)


def picture_slowly_for_slow_names(path: str):
    """The picture reader's work in the child, asleep for good on a "slow..." file."""
    from advviewer.reading import image_io

    _asleep_for_slow_names(path)
    return image_io._load_image_here(path)
