"""How the window words a count: one name per thing counted, in the singular for one."""

from __future__ import annotations


def counted(n: int, thing: str) -> str:
    """``counted(1, "solver iteration")`` -> "1 solver iteration"; ``counted(3, ...)`` -> "3 solver iterations"."""
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def effort(iterations: int, evaluations: int, seconds: float) -> str:
    """What an attack cost, in the same words wherever it is shown (panels 4 and 5, the status bar)."""
    return f"{counted(iterations, 'solver iteration')}, {counted(evaluations, 'model evaluation')}, {seconds:.2f} s"
