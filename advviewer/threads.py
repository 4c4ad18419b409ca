"""Thread counts, set deliberately: on a 2-core machine torch's pool and OpenBLAS can fight.

Small models on one image run fastest on one torch thread (no fork/join per layer); large
batched evaluations (finite differences, batch attacks, training) use every core. Call
:func:`configure` once at start-up (the CLI, the window and the benchmarks do).
"""

from __future__ import annotations

import os


def configure(torch_threads: int | None = None) -> int:
    """Pin BLAS pools to one thread and torch's intra-op pool to ``torch_threads`` (default: all cores)."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import torch

    n = torch_threads or max(1, min(os.cpu_count() or 1, 4))
    torch.set_num_threads(n)
    return n
