"""The box-constrained L-BFGS attack of Szegedy et al. (2013), headless (no Qt), for any torch classifier.

    from advviewer.attack import lbfgs_attack, lbfgs_attack_batch, AttackResult, AttackResults, AttackProgress, AttackCancelled, Strategies

See :mod:`advviewer.attack.api` for the objective and the modes (fixed c, minimal, untargeted), and
docs/attack.md for the method beside the paper. The modules, from the public functions down:

- api.py: the public functions; validation.py: argument checks; result.py: what is returned;
  answers.py: each problem's solve (``Solved``) and each image's answer.
- reference.py: the paper's method plainly, one problem at a time (``engine="reference"``): the oracle.
- strategies.py: the engine's speed measures as named switches.
- problems.py: which (image, target) problems a call solves (untargeted: the nearest classes).
- runs.py: the two modes on the solver (minimal: the c search; fixed c) and the progress hook.
- c_search.py: the c search of every problem on one solver pool; c_bracket.py: each problem's bracket and its
  next c values; c_rounds.py: a round's answers folded into the bracket, and when the search ends.
- warm_states.py: finished solves' end states, carried to another c.
- box_lbfgs.py: the pool of box-constrained problems solved together (rows join and leave);
  lbfgs_steps.py: the steps of one projected L-BFGS iteration; gram.py: the curvature memory's Gram products.
- objective.py: ||r||^2 + c * loss for a batch of rows, and the losses (paper's, rival).
- c_sweep.py: fixed-c attacks around a found c (the window's c plot).

Everything per row (images, gradients, curvature memory) is torch on the model's device; per-problem
bookkeeping (c values, brackets) is numpy on the host. The command ``advviewer attack`` lives in
:mod:`advviewer.cli.attack`.
"""

from advviewer.attack.api import lbfgs_attack, lbfgs_attack_batch
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult, AttackResults
from advviewer.attack.strategies import Strategies

__all__ = ["lbfgs_attack", "lbfgs_attack_batch", "AttackResult", "AttackResults", "AttackProgress", "AttackCancelled",
           "Strategies"]
