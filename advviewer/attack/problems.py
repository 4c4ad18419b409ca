"""Which problems an attack solves: one per (image, target); for an untargeted image, its nearest classes.

An untargeted attack asks for the smallest change to any other class: the smallest of the
targeted answers. Solving all nine is wasted work when one or two classes are much nearer than
the rest, so minimal mode attacks only the ``UNTARGETED_CLASSES`` classes nearest by the
linearised distance at the original image, ``-margin_k / ||grad margin_k||`` (DeepFool's
estimate; only pixels free to move count). The paper's objective and fixed c still solve all
nine.

The class with the smallest answer is not always first in that ranking; six classes leave it
out only rarely, at some cost in time (how far down it lies, per model, and what four classes
missed: benchmarks/results/code-comment-figures-20261205.md).
"""

from __future__ import annotations

import numpy as np
import torch

from advviewer.attack.objective import PAPER, RIVAL, RIVAL_LOSS, backward

UNTARGETED_CLASSES = 6


def nearest_classes(model, x: np.ndarray, original: np.ndarray, device: torch.device, k: int | None = None) -> list[list[int]]:
    """For each image (M, 784) the ``k`` other classes nearest by the linearised distance (one batched pass)."""
    k = k or UNTARGETED_CLASSES
    m = x.shape[0]
    xr = np.repeat(x, 10, 0)  # image i's copy j: the margin of class j over the original
    copies = torch.from_numpy(xr.astype(np.float32)).to(device).view(-1, 1, 28, 28).requires_grad_(True)
    with torch.enable_grad():
        out = model(copies)
    z = out.detach().to(torch.float64).cpu().numpy()
    cls, orig = np.tile(np.arange(10), m), np.repeat(original, 10)
    rows = np.arange(10 * m)
    gap = z[rows, cls] - z[rows, orig]
    seed = np.zeros(z.shape, dtype=np.float32)
    seed[rows, cls] += 1.0
    seed[rows, orig] -= 1.0
    g = backward(out, copies, seed)
    movable = ((g > 0) & (xr < 1)) | ((g < 0) & (xr > 0))
    norm = np.sqrt(np.einsum("ij,ij->i", g * movable, g))
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = (-gap / np.maximum(norm, 1e-12)).reshape(m, 10)
    distance[np.arange(m), original] = np.inf
    return [[int(c) for c in np.argsort(row)[:k]] for row in distance]


def build_problems(model, x_img: np.ndarray, original: np.ndarray, targets: list, previous: list, minimal: bool,
                   objective: str | None, device: torch.device) -> tuple[list[int], list[int]]:
    """Every problem's image and target class.

    ``targets[i]``: image i's class, or None for untargeted; ``previous[i]``: the result it is
    warm-started from; ``objective``: api.check_objective's. An untargeted image warm-started at a
    fixed c from an untargeted result of the rival loss keeps that result's class (the slider stays
    on its path), unless the paper's objective is asked for.
    """
    away = [i for i, t in enumerate(targets) if t is None and minimal and objective == RIVAL]
    near = dict(zip(away, nearest_classes(model, x_img[away], original[away], device))) if away else {}
    img_of, tgt = [], []
    for i, t in enumerate(targets):
        prev = previous[i]
        if t is not None:
            classes = [t]
        elif i in near:
            classes = near[i]
        elif _stays_on_path(prev, minimal, objective):
            classes = [prev.target]
        else:
            classes = [k for k in range(10) if k != original[i]]
        img_of += [i] * len(classes)
        tgt += classes
    return img_of, tgt


def _stays_on_path(previous, minimal: bool, objective: str | None) -> bool:
    """A fixed-c solve from an untargeted rival-loss result keeps its class (unless the paper's objective is asked for)."""
    return (previous is not None and previous.untargeted and previous.loss == RIVAL_LOSS and not minimal
            and objective != PAPER)
