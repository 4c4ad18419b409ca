"""The smallest adversarial towards each of the nine other classes, in one batched attack."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from advviewer.attack import AttackResult, lbfgs_attack_batch


def all_targets(model: nn.Module, image: np.ndarray, *, callback=None, cancel=None,
                record_history: bool = True) -> list[AttackResult]:
    """Minimal attacks towards every class but the model's answer, as one batch (the nine share every pass).

    Returned in class order; each keeps its iterates (``record_history``) so it can be played back
    once it is the result on screen.
    """
    x = np.asarray(image, dtype=np.float32).reshape(28, 28)
    with torch.no_grad():
        answer = int(model(torch.as_tensor(x).view(1, 1, 28, 28)).argmax(1))
    targets = [k for k in range(10) if k != answer]
    return list(lbfgs_attack_batch(model, np.repeat(x[None], len(targets), 0), targets, callback=callback, cancel=cancel,
                                   record_history=record_history))
