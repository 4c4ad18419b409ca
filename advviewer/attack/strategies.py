"""The engine's speed measures, each a named switch (all on by default).

Each one but ``sharpened_rival`` changes what the engine costs, not the method's answer;
``sharpened_rival`` changes the problem solved where two rivals tie (the rival loss keeps its
blur there), and the reference follows it. tests/test_attack_strategies.py solves held-out
problems with each one off and checks the answer against the reference (reference.py). Pass ``strategies=Strategies(...)`` to
``lbfgs_attack`` / ``lbfgs_attack_batch`` to switch one off (to measure what it buys, or to read
the engine with fewer moving parts).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Strategies:
    # a solve of the c search starts from a finished solve's end state carried to its c (warm_states.py), or
    # between the bracket's ends; off: every solve starts afresh from the problem's start point
    warm_starts: bool = True
    # the curvature memory's Gram products are kept up to date between iterations (gram.py); off: recomputed
    kept_gram: bool = True
    # several c values of a problem solved at once when the call has few problems (up to 3 for one image). Off, one
    # image is faster (cnn 69 against 87 ms, fc100-100-10 51 against 79, the same L2 on 30 pairs), but on some
    # pairs the search then ends on a loosely solved answer 1.3% above the one a fixed-c solve at its c finds
    # (tests/test_attack_objective.py), so it stays on (benchmarks/results/engine-torch-cpu-20261205.md).
    # ``candidates=`` sets the number whatever this says.
    several_c: bool = True
    # where c is known but the bracket's loosely solved ends disagree, both are solved on tightly (c_rounds.finished)
    polish_ends: bool = True
    # the rival loss is sharpened (a ten times smaller temperature) and searched again where two rivals tie
    # (c_rounds.sharpen; runs.run_fixed): off, the answer keeps the blur of the soft maximum there
    sharpened_rival: bool = True
    # large batches keep fewer curvature pairs (lbfgs_steps.BATCH_MEMORY): a cheaper iteration for a few more
    batch_memory: bool = True


DEFAULT = Strategies()
