"""Save your own classifier so advviewer can open it: a ``torch.export`` program (``.pt2``).

    from advviewer.models import export_classifier
    export_classifier(my_model, "my_model.pt2")   # then: advviewer predict digit.png --model my_model.pt2

The program is a graph of ATen operators with the weights beside it; advviewer runs it with its
own interpreter, which accepts only pure tensor operators (see :mod:`advviewer.models.pt2_graph`),
so opening the file cannot run code. The batch size is exported as dynamic: the window runs
one image at a time, finite differences 98, the attack dozens.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn


def export_classifier(model: nn.Module, path: str | Path) -> Path:
    """Export ``model`` ((N, 1, 28, 28) in [0, 1] -> (N, 10) logits) in eval mode to ``path``; returns the path."""
    model = model.eval()
    batch = torch.export.Dim("batch", min=1, max=65536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's notes on its own internals are not the user's business
        program = torch.export.export(model, (torch.zeros(2, 1, 28, 28),), dynamic_shapes=({0: batch},))
        torch.export.save(program, str(path))
    return Path(path)
