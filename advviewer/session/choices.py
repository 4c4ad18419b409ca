"""The user's choices as the state holds them, defined once for the state, the widgets and settings.

No imports: passive widgets use these values to fill their controls without reaching into the
state or the core.

- The attack target is ``None`` for "any other class" (untargeted) or a class 0..9.
- The gradient's class is a class 0..9, :data:`PREDICTED` or :data:`TARGET`.
- The objective the attack minimises (Run, Find minimal c and the slider alike) is
  :data:`PAPER_OBJECTIVE` or :data:`RIVAL_OBJECTIVE`, spelled as the core spells them
  (advviewer.attack.objective.PAPER / RIVAL).
"""

PREDICTED = "predicted"  # the gradient of the class the model predicts for the current input
TARGET = "target"  # the attack target's gradient (the runner-up class while the target is "any other class")
GRADIENT_CLASSES: tuple[object, ...] = (PREDICTED, TARGET, *range(10))

AUTOGRAD = "autograd"
FINITE_DIFFERENCES = "finite-difference"  # the core's name for the method (advviewer.calculus.gradients.input_gradient)
GRADIENT_METHODS = (AUTOGRAD, FINITE_DIFFERENCES)

PAPER_OBJECTIVE = "paper"  # the paper's loss: cross-entropy of the softmax against the target
RIVAL_OBJECTIVE = "rival"  # the target against its strongest rival only: the smaller minimal perturbations
OBJECTIVES = (RIVAL_OBJECTIVE, PAPER_OBJECTIVE)
OBJECTIVE_NAMES = {PAPER_OBJECTIVE: "paper's loss", RIVAL_OBJECTIVE: "rival loss"}  # short, for captions and the c plot
OBJECTIVE_MEANINGS = {PAPER_OBJECTIVE: "cross-entropy", RIVAL_OBJECTIVE: "target against its strongest rival"}

# How sure the model must be of the target (issue 24: a convincing slide): None, just across the decision boundary
# (the paper's minimal attack), or a probability (lbfgs_attack(..., confidence=p))
CONFIDENCES = (None, 0.9, 0.99)
DEFAULT_CONFIDENCE = None

DEFAULT_C = 1.0
DEFAULT_GRADIENT_CLASS = PREDICTED
DEFAULT_GRADIENT_METHOD = AUTOGRAD
DEFAULT_OBJECTIVE = RIVAL_OBJECTIVE  # what Find minimal c has always solved


def describe_target(target: int | None) -> str:
    return "any other class" if target is None else f"class {target}"


def describe_confidence(confidence: float | None) -> str:
    """"just across the boundary", or "at least 90% sure"."""
    return "just across the boundary" if confidence is None else f"at least {100 * confidence:g}% sure"


def describe_objective(objective: str, long: bool = False) -> str:
    """"rival loss", or with ``long`` "rival loss (target against its strongest rival)"."""
    name = OBJECTIVE_NAMES[objective]
    return f"{name} ({OBJECTIVE_MEANINGS[objective]})" if long else name


def next_target(target: int | None, predicted: int | None) -> int | None:
    """The target after ``target`` (presentation mode's T key): any other class, 0, 1, ..., 9, then any again.

    The class the model sees now (``predicted``, None when unknown) is skipped: it is no target for an attack.
    """
    order: tuple[int | None, ...] = (None, *range(10))
    start = order.index(target)
    for step in range(1, len(order) + 1):
        candidate = order[(start + step) % len(order)]
        if candidate is None or candidate != predicted:
            return candidate
    return None  # not reached: "any other class" is always a candidate
