"""The attack's objective: ||x' - x||^2 + c * CE(f(x'), target), for a batch of problems at once.

``x'`` is the adversarial image itself (the solver's variable, boxed to [0, 1]); the perturbation
is ``r = x' - x``. CE is the cross-entropy of the model's softmax against the target class,
formed in float64 from the network's float32 logits (the paper's loss), or -- minimal mode's
refinement, see c_bracket.py -- the cross-entropy of the target against its strongest rival only.
"""

from __future__ import annotations

import torch
from torch import nn

RIVAL_LOSS = "rival cross-entropy"
PAPER_LOSS = "cross-entropy"


class PenaltyObjective:
    """Evaluate f, its gradient and the logits for any subset of the rows in one pass.

    A row is one problem (an image and its target) at one c; rows can be added while a solver
    runs (the c search adds the next c of a problem as soon as its last solve is done).
    """

    def __init__(self, model: nn.Module, x0: torch.Tensor, target: torch.Tensor, rival: bool = False) -> None:
        self.model = model
        self.x0 = x0  # (P, 784) float64: the original images, one per problem
        self.target = target  # (P,) long
        self.rival = rival  # the rival loss (temperature per row) instead of the paper's cross-entropy
        self.problem = torch.zeros(0, dtype=torch.long, device=x0.device)  # (R,) row -> problem
        self.c = torch.zeros(0, dtype=torch.float64, device=x0.device)  # (R,)
        self.tau = torch.zeros(0, dtype=torch.float64, device=x0.device)  # (R,)

    def add_rows(self, problem: torch.Tensor, c: torch.Tensor, tau: torch.Tensor | None = None) -> torch.Tensor:
        """New rows for ``problem`` at penalty constants ``c`` (and temperatures ``tau``); returns their ids."""
        first = self.problem.numel()
        self.problem = torch.cat([self.problem, problem.to(self.problem)])
        self.c = torch.cat([self.c, c.to(self.c)])
        self.tau = torch.cat([self.tau, (torch.zeros_like(c) if tau is None else tau).to(self.tau)])
        return torch.arange(first, self.problem.numel(), device=self.problem.device)

    def __call__(self, ids: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p = self.problem[ids]
        c = self.c[ids]
        with torch.enable_grad():
            xf = x.to(torch.float32).view(-1, 1, 28, 28).requires_grad_(True)
            z = self.model(xf).to(torch.float64)
            t = self.target[p]
            ce = rival_loss(z, t, self.tau[ids]) if self.rival else cross_entropy(z, t)
            (gx,) = torch.autograd.grad((c * ce).sum(), xf)
        r = x - self.x0[p]
        f = (r * r).sum(1) + c * ce.detach()
        g = gx.view(x.shape[0], -1).to(torch.float64) + 2.0 * r
        return f, g, z.detach()


def cross_entropy(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log softmax(z)[target]: the paper's loss."""
    return torch.logsumexp(z, 1) - z.gather(1, target[:, None])[:, 0]


def rival_loss(z: torch.Tensor, target: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the target against its strongest rival: log(1 + exp(z_rival - z_target)).

    The strongest rival's logit is a soft maximum ``tau * logsumexp(z_k / tau)`` over the other
    classes, which is within ``tau * log 9`` of the maximum and smooth where rivals swap.
    """
    others = z.scatter(1, target[:, None], float("-inf"))
    rival = tau * torch.logsumexp(others / tau[:, None], 1)
    return torch.nn.functional.softplus(rival - z.gather(1, target[:, None])[:, 0])


def margin(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """z_target - max_{k != target} z_k: positive exactly when the model predicts the target."""
    others = z.scatter(1, target[:, None], float("-inf"))
    return z.gather(1, target[:, None])[:, 0] - others.amax(1)
