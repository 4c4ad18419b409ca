"""What a reproduction run measures (light: the command line reads the defaults without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advviewer.reproduce.paper import PAPER_MODELS

# 40 digits per split: about 6-7 minutes for all seven models on the 2-core machine while other
# work shares it (measured: README, "Reproducing the paper"); --n raises it.
DEFAULT_N = 40
DEFAULT_MODELS = PAPER_MODELS + ("cnn",)


@dataclass(frozen=True)
class ReproduceConfig:
    n: int = DEFAULT_N  # digits per split
    models: tuple[str, ...] = DEFAULT_MODELS
    data_dir: Path | None = None
    seed: int = 0
