"""The path an attack took: ||r|| and the target's logit margin at every recorded iterate.

``lbfgs_attack(..., record_history=True)`` keeps the iterates of the solves that led to the result
(through the warm starts of the c search); the margin ``z_target - max_other z`` is positive where
the model answers the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from advviewer.errors import Cancelled

BATCH = 256  # iterates per forward pass


@dataclass(frozen=True, eq=False)
class Trajectory:
    frames: np.ndarray = field(repr=False)  # (n, 28, 28) float32: the iterates
    l2: np.ndarray  # (n,) ||iterate - original||
    margin: np.ndarray  # (n,) the target's logit margin

    def __len__(self) -> int:
        return len(self.frames)


def trajectory(model: nn.Module, original: np.ndarray, history: list[np.ndarray], target: int, cancel=None) -> Trajectory:
    frames = np.stack([np.asarray(f, np.float32) for f in history]) if history else np.zeros((0, 28, 28), np.float32)
    l2 = np.sqrt(((frames.astype(np.float64) - original) ** 2).reshape(len(frames), -1).sum(1))
    margins = []
    for start in range(0, len(frames), BATCH):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        with torch.no_grad():
            z = model(torch.as_tensor(frames[start:start + BATCH]).view(-1, 1, 28, 28)).to(torch.float64)
        others = z.clone()
        others[:, target] = -torch.inf
        margins.append((z[:, target] - others.max(1).values).numpy())
    margin = np.concatenate(margins) if margins else np.zeros(0)
    return Trajectory(frames, l2, margin)
