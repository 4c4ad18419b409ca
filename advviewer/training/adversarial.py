"""PGD in the L2 ball (Madry et al. 2018), the attack that adversarial training learns from.

Not the program's attack (advviewer.attack, the minimal L-BFGS of Szegedy et al.): a fixed
budget of a few gradient steps inside a ball of a given radius, cheap enough to run on every
training batch. Driven by a torch generator, so training stays reproducible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advviewer.models.zoo_cards import AdversarialTraining


def _per_image_norm(t: torch.Tensor) -> torch.Tensor:
    """||t_i||_2 for every image, shaped to broadcast over (N, 1, 28, 28); never below 1e-12."""
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.ndim - 1)))


def project(delta: torch.Tensor, images: torch.Tensor, radius: float) -> torch.Tensor:
    """``delta`` shrunk into the L2 ball of ``radius``, then clipped so that ``images + delta`` stays in [0, 1]."""
    delta = delta * (radius / _per_image_norm(delta)).clamp(max=1.0)
    return (images + delta).clamp(0.0, 1.0) - images


def random_start(images: torch.Tensor, radius: float, gen: torch.Generator) -> torch.Tensor:
    """A point drawn uniformly from the L2 ball of ``radius`` (in 784 dimensions), projected into the box."""
    direction = torch.randn(images.shape, generator=gen)
    dims = images[0].numel()
    length = radius * torch.rand(len(images), generator=gen).pow(1.0 / dims).view(-1, *([1] * (images.ndim - 1)))
    return project(direction / _per_image_norm(direction) * length, images, radius)


def pgd_l2(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, plan: AdversarialTraining, radius: float,
           gen: torch.Generator) -> torch.Tensor:
    """The images moved, within ``radius`` in L2 and the box, to raise the model's cross-entropy on ``labels``.

    ``plan.steps`` steps of ``plan.step_size * radius`` along the normalised gradient. Only the
    images' gradient is computed (not the weights'); the model's own gradients are untouched.
    """
    if radius <= 0.0 or plan.steps < 1:
        return images
    delta = random_start(images, radius, gen)
    step = plan.step_size * radius
    for _ in range(plan.steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(images + delta), labels)
        (grad,) = torch.autograd.grad(loss, delta)
        delta = project(delta.detach() + step * grad / _per_image_norm(grad), images, radius)
    return (images + delta).detach()
