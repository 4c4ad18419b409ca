"""Thread counts and the convolution kernels, set deliberately for the program's work: one image at a time.

A second thread gains little on one image and at most halves the finite differences, but when
anything else is using a core it waits for that core at every operation and the same work
becomes many times slower (docs/performance.md). So the default is one torch thread
everywhere; training pins its own count (for reproducible sums). Call :func:`configure` once at
start-up (the CLI does; the window does when its model lane imports torch).

The same call switches off oneDNN, torch's default convolution library on the CPU: it prepares
every call (the weights reordered into its layout), which on a 28x28 convnet costs more than the
arithmetic of one image or a few rows, the window's work (the live probabilities and gradient,
one image's attack, a slider step). oneDNN is faster on large batches: training and the
finite-difference gradient (1,568 passes) switch it on for their run (:func:`onednn_convolutions`).
The flag is process-wide: an attack on another lane meanwhile runs its convolutions with oneDNN
for those milliseconds (the same answers up to float rounding). benchmarks/bench_conv_backend.py
measures each piece both ways (figures: benchmarks/results/bench_conv_backend-*). The attack's API
leaves torch's setting as it is (a library call changes no global for good).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def configure(torch_threads: int | None = None) -> int:
    """Set torch's intra-op pool to ``torch_threads`` (default: 1), switch oneDNN's convolutions off, return the count.

    The core's numpy work is elementwise (no BLAS-heavy calls on the hot paths), so OpenBLAS's
    pool is left alone.
    """
    import torch

    n = torch_threads or 1
    torch.set_num_threads(n)
    _set_onednn(False)
    return n


@dataclass
class _OneDnnUsers:
    """The blocks running with oneDNN switched on (on any thread), and the setting to restore after the last."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    before: bool = False


_onednn_users = _OneDnnUsers()


@contextmanager
def onednn_convolutions() -> Iterator[None]:
    """oneDNN's convolutions inside the block (large batches), then torch's setting as it was before the first such
    block began: blocks on several threads at once leave it as they found it, whatever order they end in."""
    import torch

    users = _onednn_users
    with users.lock:
        if users.count == 0:
            users.before = bool(torch.backends.mkldnn.enabled)
        users.count += 1
        _set_onednn(True)
    try:
        yield
    finally:
        with users.lock:
            users.count -= 1
            if users.count == 0:
                _set_onednn(users.before)


def _set_onednn(on: bool) -> None:
    import torch

    torch.backends.mkldnn.enabled = on  # type: ignore[assignment]  # (torch's documented switch; typed as its descriptor)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` intra-op threads inside the block (None: as it is), then restore the previous count.

    torch's setting is process-wide. The attack uses this with n = 1: its batches are small and
    its iterations many, so on a machine that other work shares a second thread mostly waits for
    a busy core at every op.
    """
    import torch

    if n is None:  # leave torch's setting as it is
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
