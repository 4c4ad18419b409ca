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

from advviewer.attack.objective import PAPER, RIVAL, RIVAL_LOSS, as_tensor, backward, network_pass

UNTARGETED_CLASSES = 6


def nearest_classes(model, x: torch.Tensor, original: np.ndarray, input_shape: tuple[int, ...], n_classes: int,
                    k: int | None = None) -> list[list[int]]:
    """For each image (M, n) the ``k`` other classes nearest by the linearised distance (one batched pass)."""
    k = min(k or UNTARGETED_CLASSES, n_classes - 1)
    m = x.shape[0]
    xr = x.repeat_interleave(n_classes, 0)  # image i's copy j: the margin of class j over the original
    copies, out = network_pass(model, xr, input_shape)
    z = out.detach().to(torch.float64).cpu().numpy()
    cls, orig = np.tile(np.arange(n_classes), m), np.repeat(original, n_classes)
    rows = np.arange(n_classes * m)
    gap = z[rows, cls] - z[rows, orig]
    seed = np.zeros(z.shape, dtype=np.float32)
    seed[rows, cls] += 1.0
    seed[rows, orig] -= 1.0
    g = backward(out, copies, as_tensor(seed, x.device))
    movable = ((g > 0) & (xr < 1)) | ((g < 0) & (xr > 0))
    norm = torch.sqrt(((g * movable) * g).sum(1)).cpu().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = (-gap / np.maximum(norm, 1e-12)).reshape(m, n_classes)
    distance[np.arange(m), original] = np.inf
    return [[int(c) for c in np.argsort(row)[:k]] for row in distance]


def build_problems(model, x_img: torch.Tensor, original: np.ndarray, targets: list, previous: list, minimal: bool,
                   objective: str | None, input_shape: tuple[int, ...], n_classes: int) -> tuple[list[int], list[int]]:
    """Every problem's image and target class.

    ``targets[i]``: image i's class, or None for untargeted; ``previous[i]``: the result it is
    warm-started from; ``objective``: api.check_objective's. An untargeted image warm-started at a
    fixed c from an untargeted result of the rival loss keeps that result's class (the slider stays
    on its path), unless the paper's objective is asked for.
    """
    away = [i for i, t in enumerate(targets) if t is None and minimal and objective == RIVAL]
    near = {}
    if away:
        rows = torch.tensor(away).to(x_img.device)
        near = dict(zip(away, nearest_classes(model, x_img[rows], original[away], input_shape, n_classes)))
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
            classes = [k for k in range(n_classes) if k != original[i]]
        img_of += [i] * len(classes)
        tgt += classes
    return img_of, tgt


def _stays_on_path(previous, minimal: bool, objective: str | None) -> bool:
    """A fixed-c solve from an untargeted rival-loss result keeps its class (unless the paper's objective is asked for)."""
    return (previous is not None and previous.untargeted and previous.loss == RIVAL_LOSS and not minimal
            and objective != PAPER)
