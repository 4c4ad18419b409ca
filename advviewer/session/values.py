"""What the state holds and its events carry: small frozen values, so a receiver can keep one safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from advviewer.reading.files import shown
from advviewer.session.choices import DEFAULT_OBJECTIVE, describe_confidence, describe_objective, describe_target

if TYPE_CHECKING:  # annotations only: the window is built and painted before torch is imported
    from torch import nn

    from advviewer.attack import AttackProgress, AttackResult
    from advviewer.attack.c_sweep import SweepPoint

DRAWN = "drawn on the canvas"  # the source of an input the user drew


@dataclass(frozen=True, eq=False)  # compared by identity: they hold arrays and models
class ModelChoice:
    """A loaded model and where it came from."""

    module: nn.Module  # in eval mode
    name: str  # a zoo name or a model file's path
    card: dict | None = field(default=None, repr=False)  # a zoo model's card
    sha256: str | None = None  # the hash of the weights it was built from, taken when it was loaded (About box, exports)

    @property
    def display_name(self) -> str:
        return shown(Path(self.name).name)


@dataclass(frozen=True, eq=False)
class InputImage:
    """What the model sees: (28, 28) float32 in [0, 1], where it came from, and a version number."""

    pixels: np.ndarray = field(repr=False)
    source: str
    version: int


@dataclass(frozen=True)
class GradientChoice:
    cls: int | str  # 0..9, choices.PREDICTED or choices.TARGET
    method: str  # choices.AUTOGRAD or choices.FINITE_DIFFERENCES


@dataclass(frozen=True, eq=False)
class LiveEvaluation:
    """Everything the live panels show for one input: one forward and one backward pass."""

    input: InputImage
    probs: np.ndarray = field(repr=False)  # (10,)
    predicted: int
    gradient: np.ndarray = field(repr=False)  # (28, 28) autograd gradient of gradient_class's loss
    gradient_class: int
    gradient_method: str  # what the gradient panel should show: this autograd gradient, or finite differences to come
    target: int | None  # the attack target, outlined on the probabilities
    preprocess_ms: float
    model_ms: float
    blank: bool = False  # nothing drawn (rules.is_blank): the model answers anyway


@dataclass(frozen=True, eq=False)
class FiniteDifferences:
    gradient: np.ndarray = field(repr=False)
    gradient_class: int
    input: InputImage
    relative_difference: float  # against backprop
    correlation: float
    seconds: float


@dataclass(frozen=True)
class AttackRequest:
    """What the user asked for: an attack at ``c`` (None: search the minimal c) towards ``target``, minimising ``objective``."""

    c: float | None
    target: int | None
    objective: str = DEFAULT_OBJECTIVE  # choices.OBJECTIVES
    confidence: float | None = None  # choices.CONFIDENCES: how sure the model must be of the target

    @property
    def description(self) -> str:
        goal, loss = describe_target(self.target), describe_objective(self.objective)
        if self.confidence is not None:
            goal = f"{goal}, {describe_confidence(self.confidence)}"
        if self.c is None:
            return f"Searching the minimal c towards {goal} ({loss})…"
        return f"Attacking towards {goal} at c = {self.c:.3g} ({loss})…"


@dataclass(frozen=True, eq=False)
class AttackIterate:
    """The attack's current image while it runs (computed on the worker, shown as it forms)."""

    progress: AttackProgress
    original: np.ndarray = field(repr=False)
    perturbation: np.ndarray | None = field(repr=False)  # adversarial - original, None if not reported


class ResultKey(NamedTuple):
    """What a result depends on (rules.result_key): a result is current while the state's key equals its own."""

    input_version: int
    model: str
    target: int | None
    objective: str
    confidence: float | None = None


@dataclass(frozen=True, eq=False)
class FinishedAttack:
    """A result with what it needs later: the model it fooled, the input's source, what it was made for."""

    result: AttackResult
    model: ModelChoice
    source: str
    key: ResultKey


@dataclass(frozen=True)
class ResultView:
    """What the result panel shows: the latest result, and why it no longer matches (None: it does)."""

    shown: FinishedAttack | None
    stale: str | None = None
    stopped: str | None = None  # the last attack ended without a result (why), where ``stale`` does not say so

    @property
    def current(self) -> AttackResult | None:
        """The shown result while it still matches the input and model, else None."""
        return self.shown.result if self.shown is not None and self.stale is None else None


@dataclass(frozen=True)
class Runs:
    """Every run on the current input, model and target, as points of the c-vs-||r|| plot."""

    key: ResultKey | None
    points: tuple[SweepPoint, ...] = ()
