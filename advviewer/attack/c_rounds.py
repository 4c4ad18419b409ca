"""Minimal mode's c search, per problem: folding a round's finished solves into the bracket.

:mod:`advviewer.attack.c_bracket` holds the bracket and picks the next c values; here each round's
answers move its ends (``update``), decide when the search is over (``finished``), solve on the
ends where the loose solves disagree (``_fold_polished``), and sharpen the rival loss where two
rivals are close (``sharpen``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from advviewer.attack.c_bracket import Bracket, SearchOptions, boundary_c
from advviewer.attack.objective import margin_np

# c known to this (log(hi_c / lo_c) below it) does not end the search by itself (the L2 left to gain, SearchOptions.rtol,
# does: regula falsi goes on inside the bracket; stopping here as well saved few evaluations for worse answers in the
# tail, benchmarks/results/budget-precision-20261205.md) ...
C_TOL = 1e-3
# ... but where c is known and the ends' L2 still differ by more than this (relative), both are solved on at the
# fixed-c tolerance first (finished): a loosely solved end can be on the wrong side of the
# boundary, and the worst answers came from there; below the threshold polishing costs more than
# it gains (the figures: benchmarks/results/code-comment-figures-20261205.md)
POLISH_GAP = 1e-3
# once: a second time gains next to nothing for twice the cost. The one re-search costs
# evaluations but keeps the answer exact where rivals tie, which is the point of the rival loss
# (the figures: benchmarks/results/code-comment-figures-20261205.md).
MAX_SHARPEN = 1
SHARPEN_FACTOR = 10.0
SHARPEN_GAP = 7.0  # the second rival's weight in the soft maximum is exp(-gap / tau) < 1e-3 beyond it


@dataclass(frozen=True, eq=False, slots=True)
class RoundAnswer:
    """One finished solve of a problem's round, as the search (c_search) hands it to ``update``."""

    row: int  # the solve's row in the solver pool (its history and kept state)
    c: float
    x: Any  # the answer, a flat image (numpy now; typed loosely for torch tensors)
    z: Any  # the network's logits there
    margin: float  # z_target - max other z
    l2: float  # ||x - x0|| as the network sees it (float32)


def update(b: Bracket, p: int, answers: list[RoundAnswer], opts: SearchOptions) -> None:
    """Fold the finished solves of one round of problem ``p`` into its bracket; sharpen the loss if rivals tie."""
    had_found = b.found_at(p)
    b.new_path[p] = False
    if b.polishing[p]:
        _fold_polished(b, p, answers, opts)
    else:
        _fold_search_round(b, p, answers, had_found, opts)
    if _rivals_blurred(b, p, had_found, opts):
        sharpen(b, p)


def _fold_search_round(b: Bracket, p: int, answers: list[RoundAnswer], had_found: bool, opts: SearchOptions) -> None:
    """A success below hi becomes hi, a failure inside the bracket lo; then whether the margin jumped, and whether it is over."""
    had_bracket, old_lo_m, old_hi_m = had_found and b.lo_c[p] > 0, b.lo_m[p], b.hi_m[p]
    for a in sorted(answers, key=lambda a: a.c):
        if a.margin >= b.min_margin[p]:
            if a.c < b.hi_c[p]:
                _set_hi(b, p, a)
            _keep_best(b, p, a)
        elif b.lo_c[p] < a.c < b.hi_c[p]:
            _set_lo(b, p, a)
    if had_bracket:  # regula falsi closes in on a continuous crossing: some end's margin at least halves
        b.jumped[p] = not (abs(b.hi_m[p]) < 0.5 * abs(old_hi_m) or abs(b.lo_m[p]) < 0.5 * abs(old_lo_m))
    b.done[p] = finished(b, p, opts)


def _rivals_blurred(b: Bracket, p: int, had_found: bool, opts: SearchOptions) -> bool:
    """Whether the rival loss is to be sharpened: its two strongest rivals within SHARPEN_GAP temperatures.

    The soft maximum blurs two rivals that close, so it is sharpened and the search goes on (the
    path moves by about the old temperature). Checked at the first success (the rivals close in
    there already: no point refining c on the blurred path) and at the answer, at most MAX_SHARPEN times.
    """
    if not (opts.refine and opts.sharpen and b.found_at(p) and b.sharpened[p] < MAX_SHARPEN and (b.done[p] or not had_found)):
        return False
    z = b.best_z[p] if b.done[p] else b.hi_z[p]
    strongest, runner_up = two_strongest_rivals(z, int(b.target[p]))
    return float(strongest - runner_up) < SHARPEN_GAP * b.tau[p]


def two_strongest_rivals(z: Any, target: int) -> tuple[Any, Any]:
    """The largest and second largest logits of 1-d ``z`` other than the target's (numpy array or torch tensor).

    Elements of ``z`` itself (numpy scalars or 0-d tensors: their difference is taken in z's
    precision). With one rival only (two classes) the runner-up is -inf: nothing to blur.
    """
    others = z[[i for i in range(len(z)) if i != target]]
    first = int(others.argmax())
    rest = others[[i for i in range(len(others)) if i != first]]
    return others[first], (rest.max() if len(rest) else float("-inf"))


def sharpen(b: Bracket, p: int) -> None:
    """A ten times smaller temperature, and a new search from the best answer.

    The sharper soft maximum lowers the margin at a given c by about half the old temperature
    (the rivals' blur it no longer adds); the bracket's slope of the margin in log c turns that
    into the first c to try, from the boundary crossing the bracket predicts.
    """
    c_guess = b.best_c[p]
    shift = 0.5 * b.tau[p]
    if b.lo_c[p] == 0 and b.refine:
        # no failure yet: the boundary's c on the sharper path, from the best answer's stationarity
        # (starting there at the perturbation's predicted size instead took as many evaluations)
        m = float(margin_np(b.best_z[p], b.target[p])[0]) - b.goal[p]
        aim = max(1.5 * b.min_margin[p], 0.1 * m)
        est = boundary_c(b, p, b.best_c[p], m, b.best_l2[p], b.best_z[p], b.tau[p] / SHARPEN_FACTOR, aim)
        if np.isfinite(est) and est > 0:
            c_guess = est
    elif b.lo_c[p] > 0 and b.hi_m[p] > b.lo_m[p]:
        u_lo, u_hi = np.log(b.lo_c[p]), np.log(b.hi_c[p])
        slope = (b.hi_m[p] - b.lo_m[p]) / (u_hi - u_lo)
        crossing = u_lo - b.lo_m[p] / slope
        c_guess = float(np.exp(crossing + np.clip(shift / slope, 0.0, np.log(2.0))))
    b.tau[p] /= SHARPEN_FACTOR
    b.sharpened[p] += 1
    b.reseed(p, c_guess)


def finished(b: Bracket, p: int, opts: SearchOptions) -> bool:
    """Whether problem ``p``'s search on its path is over (or, c being known, its ends are to be solved on)."""
    if not b.found_at(p):
        return b.lo_c[p] >= opts.c_max
    w = np.log(b.hi_c[p] / b.lo_c[p]) if b.lo_c[p] > 0 else np.inf
    gain = b.hi_m[p] / (b.hi_m[p] - b.lo_m[p]) * (b.hi_l2[p] - b.lo_l2[p])
    if gain <= opts.rtol * b.hi_l2[p]:
        return True
    if w < C_TOL and gain > POLISH_GAP * b.hi_l2[p]:
        # c is known to 0.1%, yet the two ends' L2 differ by more than POLISH_GAP: on a continuous path
        # they would not, so a solve stopped short at the search's loose tolerance
        # (c_search.SEARCH_DTOL); a failure so found is no proof (a success is). One more round:
        # both ends solved on from their own states at the fixed-c tolerance (update).
        if not opts.polish_ends:
            return True
        b.polishing[p] = True
    return False


def _fold_polished(b: Bracket, p: int, answers: list[RoundAnswer], opts: SearchOptions) -> None:
    """The bracket's ends solved on tightly (``finished``): the answers they give, or where the loose solves misled.

    A failure at lo's c that succeeds, solved on, had stopped short: no failure is known any more
    and the search steps down from it as from a first success. A success at hi's c that fails,
    solved on, was a point off the path (still an adversarial image: ``best`` keeps it): lo moves
    up to it and c grows again. (A success at lo drops hi's solve: c_search.drop_dominated.)
    """
    b.polishing[p] = False
    ends = {a.c: a for a in answers}
    for a in answers:
        if a.margin >= b.min_margin[p]:
            _keep_best(b, p, a)
    lo, hi = ends.get(b.lo_c[p]), ends.get(b.hi_c[p])
    if lo is not None and lo.margin >= b.min_margin[p]:
        _set_hi(b, p, lo)
        b.clear_lo(p)
    elif hi is not None and hi.margin < b.min_margin[p]:
        _set_lo(b, p, hi)
        b.clear_hi(p)
    else:  # both confirmed: the answers at the ends, solved tightly
        for end, setter in ((lo, _set_lo), (hi, _set_hi)):
            if end is not None:
                setter(b, p, end, keep_prev=False)
        b.done[p] = True
        return
    b.jumped[p] = False
    b.done[p] = finished(b, p, opts)


def _set_hi(b: Bracket, p: int, a: RoundAnswer, keep_prev: bool = True) -> None:
    if keep_prev and np.isfinite(b.hi_c[p]):
        b.prev_hi_c[p], b.prev_hi_m[p] = b.hi_c[p], b.hi_m[p]
    b.hi_c[p], b.hi_m[p], b.hi_l2[p], b.hi_x[p], b.hi_parent[p], b.hi_z[p] = a.c, a.margin, a.l2, a.x, a.row, a.z


def _set_lo(b: Bracket, p: int, a: RoundAnswer, keep_prev: bool = True) -> None:
    if keep_prev:
        b.prev_c[p], b.prev_m[p] = b.lo_c[p], b.lo_m[p]
    b.lo_c[p], b.lo_m[p], b.lo_l2[p], b.lo_x[p], b.lo_parent[p], b.lo_z[p] = a.c, a.margin, a.l2, a.x, a.row, a.z


def _keep_best(b: Bracket, p: int, a: RoundAnswer) -> None:
    if a.l2 < b.best_l2[p]:
        b.best_c[p], b.best_l2[p], b.best_x[p], b.best_z[p], b.best_parent[p] = a.c, a.l2, a.x, a.z, a.row
