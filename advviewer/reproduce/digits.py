"""Which digits the reproduction attacks: a seeded sample of each split, and random targets for it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from advviewer.training.train import TrainingData

EVAL_BATCH = 1000  # forward passes in chunks: 60,000 MNIST digits through the cnn at once would need GBs


@dataclass(frozen=True)
class DigitSample:
    """``n`` digits drawn without replacement from one split, and a random wrong target for each."""

    split: str  # "train" or "test"
    positions: np.ndarray  # (n,) indices into the split
    images: np.ndarray  # (n, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (n,) int64
    random_targets: np.ndarray  # (n,) int64, uniform over the nine classes that are not the label


def sample_digits(data: TrainingData, split: str, n: int, rng: np.random.Generator) -> DigitSample:
    x = data.train_x if split == "train" else data.test_x
    y = data.train_y if split == "train" else data.test_y
    n = min(n, len(x))
    positions = np.sort(rng.choice(len(x), size=n, replace=False))
    labels = y[torch.from_numpy(positions)].numpy().astype(np.int64)
    images = x[torch.from_numpy(positions), 0].numpy().astype(np.float32)
    targets = (labels + rng.integers(1, 10, size=n)) % 10
    return DigitSample(split, positions, images, labels, targets.astype(np.int64))


def classify(model: nn.Module, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """The model's answer for every image of (N, 28, 28) or (N, 1, 28, 28), in chunks."""
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.ndim == 3:
        x = x[:, None]
    out = []
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            out.append(model(x[i : i + EVAL_BATCH]).argmax(1))
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)
