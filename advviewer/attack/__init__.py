"""The box-constrained L-BFGS attack of Szegedy et al. (2013), headless (no Qt).

    from advviewer.attack import lbfgs_attack, lbfgs_attack_batch, AttackResult, AttackProgress, AttackCancelled

See :mod:`advviewer.attack.api` for the objective and the modes (fixed c, minimal, untargeted).
Layers: solver.py (one projected L-BFGS iteration for a batch), pool.py (the batch, rows joining
and leaving), objective.py (the penalty), search.py (the c search), inputs.py (argument checks),
api.py (the public functions), command.py (``advviewer attack``).
"""

from advviewer.attack.api import lbfgs_attack, lbfgs_attack_batch
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult

__all__ = ["lbfgs_attack", "lbfgs_attack_batch", "AttackResult", "AttackProgress", "AttackCancelled"]
