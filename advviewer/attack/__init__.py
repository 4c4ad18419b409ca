"""The box-constrained L-BFGS attack of Szegedy et al. (2013), headless (no Qt).

    from advviewer.attack import lbfgs_attack, lbfgs_attack_batch, AttackResult, AttackResults, AttackProgress, AttackCancelled

See :mod:`advviewer.attack.api` for the objective and the modes (fixed c, minimal, untargeted).
Layers: lbfgs_steps.py (the steps of one projected L-BFGS iteration for a batch), box_lbfgs.py
(the batched solver: rows joining and leaving), objective.py (the penalty), c_bracket.py (the c
search's per-problem bracket and its next c), c_rounds.py (a round's answers folded into the
bracket: when the search ends), c_search.py (minimal mode: the c search run on the
solver), validation.py (argument checks), answers.py (each image's answer), result.py (what is
returned), api.py (the public functions). The command
``advviewer attack`` lives in :mod:`advviewer.cli.attack`.
"""

from advviewer.attack.api import lbfgs_attack, lbfgs_attack_batch
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult, AttackResults
from advviewer.attack.strategies import Strategies

__all__ = ["lbfgs_attack", "lbfgs_attack_batch", "AttackResult", "AttackResults", "AttackProgress", "AttackCancelled",
           "Strategies"]
