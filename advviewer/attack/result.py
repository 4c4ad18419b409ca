"""What an attack returns (one image, or a batch as stacked arrays) and reports while it runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import torch

from advviewer.attack.objective import objective_of_loss
from advviewer.errors import Cancelled

TAU_MEANS = ("the temperature of the rival loss the minimal-c search refines with: the target's logit is "
             "compared with a soft maximum of the other classes' logits, this soft; small tau: nearly the largest "
             "rival alone (advviewer.attack.c_bracket)")


# images as the caller gave them: numpy arrays, or tensors for a tensor input (typed loosely: a caller who
# passed numpy reads numpy)
ImageBatch = Any


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
    adversarial: np.ndarray | None = field(default=None, repr=False)  # the current iterate, float32, the image's shape
    settled: int | None = None  # images of the call whose answer is final (minimal mode; None: not known)


@dataclass
class AttackResult:
    """One attack on one image.

    ``success`` is true exactly when the model's answer for the returned float32 image
    ``adversarial`` is ``target`` (with ``confidence``: with at least that probability). For a failed attack the images are the closest attempt (the
    last solve), never presented as adversarial: ``message`` says what happened.
    """

    adversarial: np.ndarray  # float32 in [0, 1], the image's shape (a tensor on its device for a tensor input)
    perturbation: np.ndarray  # float32: adversarial - original
    success: bool
    c: float  # the penalty constant that gave this image
    l2: float  # ||r||_2
    linf: float  # ||r||_inf
    distortion: float  # the paper's measure: sqrt(mean r^2) = l2 / sqrt(pixels) (l2 / 28 on MNIST)
    target: int
    original_class: int
    adversarial_class: int
    original_probs: np.ndarray  # (K,)
    adversarial_probs: np.ndarray  # (K,)
    evaluations: int  # model forward+backward passes, one per image
    iterations: int  # solver iterations, summed over every c tried
    seconds: float  # wall time from the call's start until this image's answer was settled (see AttackResults)
    history: list[np.ndarray] | None = field(default=None, repr=False)  # iterates, the image's shape each
    # the c each iterate of ``history`` was solved at (NaN for step 0, the start point, before any solve)
    history_c: list[float] | None = field(default=None, repr=False)
    message: str = ""
    mode: str = "minimal"  # "minimal" (c searched) or "fixed-c"
    untargeted: bool = False
    loss: str = "cross-entropy"  # or "rival cross-entropy" (minimal mode's refinement, see c_bracket.py)
    tau: float | None = None  # the rival loss's temperature (TAU_MEANS)
    original: np.ndarray | None = field(default=None, repr=False)  # float32, the image's shape
    # where the solver ended (runs.SolverState), so that a warm start from this result continues it
    # exactly; kept for calls on a few images only
    state: object | None = field(default=None, repr=False, compare=False)
    # the model already gave the asked answer (the target; untargeted with labels: not the label): nothing was
    # solved, the perturbation is zero (lbfgs_attack_batch)
    already_fooled: bool = False
    # the required p(target) (``confidence=``; None: the decision boundary): success then means the logit margin
    # z_target - max_other z reached objective.margin_goal(confidence, K), so p(target) >= confidence
    confidence: float | None = None

    @property
    def objective(self) -> str:
        """The objective this result solved: "paper" or "rival" (its ``loss``; advviewer.attack.objective)."""
        return objective_of_loss(self.loss)

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
            "objective": self.objective,
            "loss": self.loss,
            "tau": self.tau,
            **({"tau_means": TAU_MEANS} if self.tau is not None else {}),
            "already_fooled": self.already_fooled,
            "confidence": self.confidence,
            "message": self.message,
        }


@dataclass(eq=False)  # arrays: equality would be ambiguous
class AttackResults(Sequence[AttackResult]):
    """The attack on a batch of N images: every field of :class:`AttackResult`, stacked along axis 0.

    Indexing gives one image's :class:`AttackResult` (``results[i]``, ``for r in results``), so
    code written for single results works on a batch; a slice gives a smaller batch. The images
    are solved together (one batched forward/backward pass per iteration), so one image's time
    cannot be measured alone: ``seconds[i]`` is the wall time from the call's start until image
    i's answer was settled (its latency; the last image's equals the call), ``total_seconds``
    the whole call, and ``evaluations`` each image's share of the work.
    """

    adversarial: ImageBatch  # (N, ...) float32: the input's shape (a tensor on the input's device for a tensor input)
    perturbation: ImageBatch  # (N, ...) float32
    success: np.ndarray  # (N,) bool
    c: np.ndarray  # (N,) float64
    l2: np.ndarray  # (N,) float64
    linf: np.ndarray  # (N,) float64
    distortion: np.ndarray  # (N,) float64
    target: np.ndarray  # (N,) int64
    original_class: np.ndarray  # (N,) int64
    adversarial_class: np.ndarray  # (N,) int64
    original_probs: np.ndarray  # (N, K) float64
    adversarial_probs: np.ndarray  # (N, K) float64
    evaluations: np.ndarray  # (N,) int64
    iterations: np.ndarray  # (N,) int64
    seconds: np.ndarray  # (N,) float64: latency of each image's answer within the call
    original: ImageBatch  # (N, ...) float32, as ``adversarial``
    message: list[str]
    loss: list[str]
    tau: np.ndarray  # (N,) float64, NaN where the loss has no temperature
    mode: str
    untargeted: bool
    total_seconds: float
    history: list[list[np.ndarray]] | None = field(default=None, repr=False)
    history_c: list[list[float]] | None = field(default=None, repr=False)
    state: list | None = field(default=None, repr=False)  # per image, see AttackResult.state
    already_fooled: np.ndarray | None = None  # (N,) bool, see AttackResult.already_fooled (None: all False)
    confidence: float | None = None  # the call's required p(target), see AttackResult.confidence

    @classmethod
    def stack(cls, results: Sequence[AttackResult], total_seconds: float) -> AttackResults:
        """One batch object from per-image results (all of one call: same mode)."""
        if not results:
            raise ValueError("an attack batch holds at least one image")

        def column(name: str, dtype=None) -> np.ndarray:
            return np.asarray([getattr(r, name) for r in results], dtype=dtype)

        numbers = {name: column(name, dtype) for name, dtype in _NUMBER_COLUMNS.items()}
        images = {name: _stack([getattr(r, name) for r in results]) for name in ("adversarial", "perturbation")}
        return cls(
            **images, **numbers, original=_stack([_original(r) for r in results]),
            original_probs=np.stack([r.original_probs for r in results]),
            adversarial_probs=np.stack([r.adversarial_probs for r in results]),
            message=[r.message for r in results], loss=[r.loss for r in results],
            tau=np.asarray([np.nan if r.tau is None else r.tau for r in results], dtype=np.float64),
            mode=results[0].mode, untargeted=results[0].untargeted, total_seconds=float(total_seconds),
            history=_all_or_none([r.history for r in results]), history_c=_all_or_none([r.history_c for r in results]),
            state=_any_or_none([r.state for r in results]), confidence=results[0].confidence,
        )

    def with_images_on(self, device) -> AttackResults:
        """These results with their images as tensors on ``device`` (None: as they are)."""
        if device is None:
            return self
        def moved(images) -> torch.Tensor:
            return torch.as_tensor(images).to(device)

        return dataclasses.replace(self, adversarial=moved(self.adversarial), perturbation=moved(self.perturbation),
                                   original=moved(self.original))

    def __len__(self) -> int:
        return len(self.success)

    @overload
    def __getitem__(self, index: int) -> AttackResult: ...

    @overload
    def __getitem__(self, index: slice) -> AttackResults: ...

    def __getitem__(self, index: int | slice) -> AttackResult | AttackResults:
        if isinstance(index, slice):
            return AttackResults.stack([self[i] for i in range(len(self))[index]], self.total_seconds)
        i = range(len(self))[index]  # negative indices; IndexError beyond the end
        tau = float(self.tau[i])
        return AttackResult(
            adversarial=self.adversarial[i], perturbation=self.perturbation[i], success=bool(self.success[i]),
            c=float(self.c[i]), l2=float(self.l2[i]), linf=float(self.linf[i]), distortion=float(self.distortion[i]),
            target=int(self.target[i]), original_class=int(self.original_class[i]),
            adversarial_class=int(self.adversarial_class[i]), original_probs=self.original_probs[i],
            adversarial_probs=self.adversarial_probs[i], evaluations=int(self.evaluations[i]),
            iterations=int(self.iterations[i]), seconds=float(self.seconds[i]),
            history=None if self.history is None else self.history[i],
            history_c=None if self.history_c is None else self.history_c[i], message=self.message[i], mode=self.mode,
            untargeted=self.untargeted, loss=self.loss[i], tau=None if np.isnan(tau) else tau, original=self.original[i],
            state=None if self.state is None else self.state[i],
            already_fooled=bool(self.already_fooled[i]) if self.already_fooled is not None else False,
            confidence=self.confidence)

    def __iter__(self) -> Iterator[AttackResult]:
        return (self[i] for i in range(len(self)))

    @property
    def objective(self) -> list[str]:
        """Each image's objective ("paper" or "rival"), as :attr:`AttackResult.objective`."""
        return [objective_of_loss(loss) for loss in self.loss]

    def to_records(self) -> list[dict]:
        """JSON-able summaries, one per image (no images)."""
        return [r.to_record() for r in self]


# the per-image numbers an AttackResults stacks, and their types
_NUMBER_COLUMNS = {"success": bool, "c": np.float64, "l2": np.float64, "linf": np.float64, "distortion": np.float64,
                   "target": np.int64, "original_class": np.int64, "adversarial_class": np.int64,
                   "evaluations": np.int64, "iterations": np.int64, "seconds": np.float64, "already_fooled": bool}


def _all_or_none(values: list) -> list | None:
    """The values if every one is there, else None."""
    return values if all(v is not None for v in values) else None


def _any_or_none(values: list) -> list | None:
    """The values if any one is there, else None."""
    return values if any(v is not None for v in values) else None


def _stack(images: list):
    """Images of one kind stacked: tensors (on their device) or numpy arrays."""
    return torch.stack(images) if isinstance(images[0], torch.Tensor) else np.stack(images)


def _original(r: AttackResult) -> np.ndarray:
    return r.original if r.original is not None else r.adversarial - r.perturbation
