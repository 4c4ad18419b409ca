"""What an attack returns and reports while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from advviewer.errors import Cancelled

TAU_MEANS = ("the temperature of the rival loss the minimal-c search refines with: the target's logit is "
             "compared with a soft maximum of the other classes' logits, this soft; small tau: nearly the largest "
             "rival alone (advviewer.attack.c_bracket)")


class AttackCancelled(Cancelled):
    """Raised inside a running attack when its ``cancel`` event is set (checked every iteration)."""


@dataclass(frozen=True)
class AttackProgress:
    """Reported after every solver iteration."""

    iteration: int  # solver iterations so far in this call (all c values together)
    c: float  # the penalty constant of the reported solve
    l2: float  # ||r|| of its current iterate
    target_prob: float  # the model's probability of the target class there
    index: int = 0  # which image of a batch
    adversarial: np.ndarray | None = field(default=None, repr=False)  # the current iterate, (28, 28) float32


@dataclass
class AttackResult:
    """One attack on one image.

    ``success`` is true exactly when the model's answer for the returned float32 image
    ``adversarial`` is ``target``. For a failed attack the images are the closest attempt (the
    last solve), never presented as adversarial: ``message`` says what happened.
    """

    adversarial: np.ndarray  # (28, 28) float32 in [0, 1]
    perturbation: np.ndarray  # (28, 28) float32: adversarial - original
    success: bool
    c: float  # the penalty constant that gave this image
    l2: float  # ||r||_2
    linf: float  # ||r||_inf
    distortion: float  # the paper's measure: l2 / 28 = sqrt(mean r^2)
    target: int
    original_class: int
    adversarial_class: int
    original_probs: np.ndarray  # (10,)
    adversarial_probs: np.ndarray  # (10,)
    evaluations: int  # model forward+backward passes, one per image
    iterations: int  # solver iterations, summed over every c tried
    seconds: float  # wall time (a batch's time shared equally among its images)
    history: list[np.ndarray] | None = field(default=None, repr=False)  # iterates, (28, 28) each
    message: str = ""
    mode: str = "minimal"  # "minimal" (c searched) or "fixed-c"
    untargeted: bool = False
    loss: str = "cross-entropy"  # or "rival cross-entropy" (minimal mode's refinement, see c_bracket.py)
    tau: float | None = None  # the rival loss's temperature (TAU_MEANS)
    original: np.ndarray | None = field(default=None, repr=False)  # (28, 28) float32

    def to_record(self) -> dict:
        """A JSON-able summary (no images)."""
        return {
            "target": self.target,
            "untargeted": self.untargeted,
            "mode": self.mode,
            "success": self.success,
            "c": self.c,
            "l2": self.l2,
            "linf": self.linf,
            "distortion": self.distortion,
            "original_class": self.original_class,
            "adversarial_class": self.adversarial_class,
            "original_probs": [round(float(p), 6) for p in self.original_probs],
            "adversarial_probs": [round(float(p), 6) for p in self.adversarial_probs],
            "evaluations": self.evaluations,
            "iterations": self.iterations,
            "seconds": round(self.seconds, 4),
            "loss": self.loss,
            "tau": self.tau,
            **({"tau_means": TAU_MEANS} if self.tau is not None else {}),
            "message": self.message,
        }
