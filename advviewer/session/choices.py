"""The user's choices as the state holds them, defined once for the state, the widgets and settings.

No imports: passive widgets use these values to fill their controls without reaching into the
state or the core.

- The attack target is ``None`` for "any other class" (untargeted) or a class 0..9.
- The gradient's class is a class 0..9, :data:`PREDICTED` or :data:`TARGET`.
"""

PREDICTED = "predicted"  # the gradient of the class the model predicts for the current input
TARGET = "target"  # the attack target's gradient (the runner-up class while the target is "any other class")
GRADIENT_CLASSES: tuple[object, ...] = (PREDICTED, TARGET, *range(10))

AUTOGRAD = "autograd"
FINITE_DIFFERENCES = "finite-difference"  # the core's name for the method (advviewer.gradients.input_gradient)
GRADIENT_METHODS = (AUTOGRAD, FINITE_DIFFERENCES)

DEFAULT_C = 1.0
DEFAULT_GRADIENT_CLASS = PREDICTED
DEFAULT_GRADIENT_METHOD = AUTOGRAD


def describe_target(target: int | None) -> str:
    return "any other class" if target is None else f"class {target}"
