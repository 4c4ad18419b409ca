"""Thread counts, set deliberately: on a 2-core machine a second torch thread can cost far more than it gains.

A second thread gains little on one image and at most halves the finite differences, but when
anything else is using a core it waits for that core at every operation and the same work
becomes many times slower (docs/performance.md). So the default is one torch thread
everywhere; training pins its own count (for reproducible sums). Call :func:`configure` once at
start-up (the CLI does; the window sets its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def configure(torch_threads: int | None = None) -> int:
    """Set torch's intra-op pool to ``torch_threads`` (default: 1) and return the count.

    The core's numpy work is elementwise (no BLAS-heavy calls on the hot paths), so OpenBLAS's
    pool is left alone.
    """
    import torch

    n = torch_threads or 1
    torch.set_num_threads(n)
    return n


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
