"""What a reproduction run measures (light: the command line reads the defaults without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advviewer.reproduce.paper import PAPER_MODELS

# 40 digits per split; --n raises it. The paper's six models, then the standard cnn and the same
# network adversarially trained (cnn-robust): the row the paper could not have, robustness bought
# with clean accuracy.
DEFAULT_N = 40
DEFAULT_MODELS = PAPER_MODELS + ("cnn", "cnn-robust")
STANDARD_AND_ROBUST = ("cnn", "cnn-robust")


@dataclass(frozen=True)
class ReproduceConfig:
    n: int = DEFAULT_N  # digits per split
    models: tuple[str, ...] = DEFAULT_MODELS
    data_dir: Path | None = None
    seed: int = 0
