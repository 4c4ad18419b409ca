"""Which problems an attack solves: one per (image, target); for an untargeted image, its nearest classes.

An untargeted attack asks for the smallest change to any other class: the smallest of the
targeted answers. Solving all nine is wasted work when one or two classes are much nearer than
the rest, so minimal mode attacks only the ``UNTARGETED_CLASSES`` classes nearest by the
linearised distance at the original image, ``-margin_k / ||grad margin_k||`` (DeepFool's
estimate; only pixels free to move count). Measured on cnn (20 test digits, every target solved):
the class with the smallest answer was the nearest or second nearest by this estimate for 19,
the fourth for one. The paper's loss (``refine=False``) and fixed c still solve all nine.
"""

from __future__ import annotations

import numpy as np
import torch

from advviewer.attack.objective import RIVAL_LOSS

UNTARGETED_CLASSES = 4


def nearest_classes(model, x: torch.Tensor, original: np.ndarray, k: int | None = None) -> list[list[int]]:
    """For each image (M, 784) the ``k`` other classes nearest by the linearised distance (one batched pass)."""
    k = k or UNTARGETED_CLASSES
    m = x.shape[0]
    copies = x.to(torch.float32).repeat_interleave(10, 0).view(-1, 1, 28, 28).requires_grad_(True)
    cls = torch.arange(10, device=x.device).repeat(m)
    orig = torch.as_tensor(original, device=x.device).repeat_interleave(10)
    with torch.enable_grad():
        z = model(copies).to(torch.float64)
        gap = z.gather(1, cls[:, None])[:, 0] - z.gather(1, orig[:, None])[:, 0]  # margin of class k over the original
        (grad,) = torch.autograd.grad(gap.sum(), copies)
    grad = grad.view(m * 10, -1).to(torch.float64)
    xr = x.to(torch.float64).repeat_interleave(10, 0)
    movable = ((grad > 0) & (xr < 1)) | ((grad < 0) & (xr > 0))
    distance = (-gap.detach() / (grad * movable).norm(dim=1).clamp(min=1e-12)).view(m, 10).cpu().numpy()
    distance[np.arange(m), original] = np.inf
    return [[int(c) for c in np.argsort(row)[:k]] for row in distance]


def build_problems(model, x_img: torch.Tensor, original: np.ndarray, targets: list, previous: list, minimal: bool,
                   refine: bool) -> tuple[list[int], list[int]]:
    """Every problem's image and target class.

    ``targets[i]``: image i's class, or None for untargeted; ``previous[i]``: the result it is
    warm-started from. An untargeted image warm-started at a fixed c from an untargeted result of
    the rival loss keeps that result's class (the slider stays on its path).
    """
    away = [i for i, t in enumerate(targets) if t is None and minimal and refine]
    near = dict(zip(away, nearest_classes(model, x_img[away], original[away]))) if away else {}
    img_of, tgt = [], []
    for i, t in enumerate(targets):
        prev = previous[i]
        if t is not None:
            classes = [t]
        elif i in near:
            classes = near[i]
        elif prev is not None and prev.untargeted and prev.loss == RIVAL_LOSS and not minimal:
            classes = [prev.target]
        else:
            classes = [k for k in range(10) if k != original[i]]
        img_of += [i] * len(classes)
        tgt += classes
    return img_of, tgt
