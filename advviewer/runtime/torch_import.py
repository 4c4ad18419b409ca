"""Import torch on a background thread without stalling the thread that draws the window.

``import torch`` takes seconds on a cold start; the window is painted first and imports it on its
model lane (advviewer.session). Most of that import is Python code, which gives the GIL back to
the window's thread every few milliseconds, but loading torch's C++ libraries (libtorch_cpu.so
alone is over 300 MB) happens inside ``dlopen``, which Python's import machinery and
``ctypes.CDLL`` both call while holding the GIL, and the window's thread would stand still for
the whole load. ``dlopen`` called as a foreign function through ctypes runs with the GIL released;
the libraries loaded that way are found already loaded when torch's own import asks for them.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import logging
import sys
from pathlib import Path

from advviewer.runtime import threads as thread_counts

log = logging.getLogger(__name__)

# in the order they depend on each other (each loaded RTLD_GLOBAL, so the next finds its symbols)
TORCH_LIBRARIES = ("libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so", "libtorch_python.so")
_RTLD_NOW_GLOBAL = 0x2 | 0x100


def torch_library_folder() -> Path | None:
    """torch/lib of the torch that ``import torch`` would load, found without importing it."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location) / "lib"
        if (folder / "libtorch_cpu.so").is_file():
            return folder
    return None


def preload_torch_libraries() -> int:
    """dlopen torch's C++ libraries with the GIL released; returns how many loaded (best effort: 0 is fine)."""
    folder = torch_library_folder()
    if folder is None or not sys.platform.startswith("linux"):
        return 0
    try:
        dlopen = ctypes.CDLL(None).dlopen  # a foreign call: ctypes releases the GIL around it
    except (OSError, AttributeError):
        return 0
    dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
    loaded = 0
    for name in TORCH_LIBRARIES:
        path = folder / name
        if not path.is_file():
            continue
        if not dlopen(str(path).encode(), _RTLD_NOW_GLOBAL):
            log.info("preloading %s failed; torch's import will load it", name)
            break
        loaded += 1
    return loaded


def import_torch(threads: int = 1) -> None:
    """Import torch (its libraries first, without the GIL) and set its thread count (advviewer.runtime.threads)."""
    if "torch" not in sys.modules:
        preload_torch_libraries()
        # importing torch makes hundreds of thousands of objects, and each full garbage collection
        # this triggers walks every object of the process (the window's too) holding the GIL
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            import torch  # noqa: F401
        finally:
            if gc_was_enabled:
                gc.enable()

    thread_counts.configure(threads)
