"""Does an adversarial example fool other models? Every model's answer on the original and the adversarial."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ModelAnswer:
    model: str
    original_class: int
    original_confidence: float
    adversarial_class: int
    adversarial_confidence: float

    @property
    def changed(self) -> bool:
        """The adversarial changed this model's answer."""
        return self.adversarial_class != self.original_class


def model_answers(models: Mapping[str, nn.Module], original: np.ndarray, adversarial: np.ndarray) -> list[ModelAnswer]:
    """One forward pass per model on the pair (original, adversarial); in the order of ``models``."""
    pair = torch.as_tensor(np.stack([original, adversarial]).astype(np.float32)).view(2, 1, 28, 28)
    out = []
    for name, model in models.items():
        with torch.no_grad():
            p = torch.softmax(model(pair).to(torch.float64), 1).numpy()
        a, b = int(p[0].argmax()), int(p[1].argmax())
        out.append(ModelAnswer(name, a, float(p[0, a]), b, float(p[1, b])))
    return out
