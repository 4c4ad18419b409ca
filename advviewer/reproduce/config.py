"""What a reproduction run measures (light: the command line reads the defaults without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advviewer.reproduce.paper import PAPER_MODELS

# 40 digits per split: 1,054 attacks for the seven models, 4.7 min of CPU time on one core (19 min
# of wall time on the 2-core machine at load 7-10; README, "Reproducing the paper"); --n raises it.
DEFAULT_N = 40
DEFAULT_MODELS = PAPER_MODELS + ("cnn",)


@dataclass(frozen=True)
class ReproduceConfig:
    n: int = DEFAULT_N  # digits per split
    models: tuple[str, ...] = DEFAULT_MODELS
    data_dir: Path | None = None
    seed: int = 0
