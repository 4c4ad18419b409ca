"""Minimal mode's c search, per problem: folding a round's finished solves into the bracket.

:mod:`advviewer.attack.c_bracket` holds the bracket and picks the next c values; here each round's
answers move its ends (``update``), decide when the search is over (``finished``), solve on the
ends where the loose solves disagree (``_fold_polished``), and sharpen the rival loss where two
rivals are close (``sharpen``).
"""

from __future__ import annotations

import numpy as np

from advviewer.attack.c_bracket import Bracket, SearchOptions, boundary_c
from advviewer.attack.objective import margin_np

C_TOL = 1e-3  # stop when log(hi_c / lo_c) is below this
# ... unless the ends' L2 still differ by more than this (relative): then both are solved on at the
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


def update(b: Bracket, p: int, rows: list[tuple[int, float, np.ndarray, np.ndarray, float, float]], opts: SearchOptions) -> None:
    """Fold the finished solves ``(row, c, x, z, margin, L2)`` of one round of problem ``p`` into its bracket."""
    had_found = b.found_at(p)
    b.new_path[p] = False
    if b.polishing[p]:
        _fold_polished(b, p, rows, opts)
    else:
        had_bracket, old_lo_m, old_hi_m = had_found and b.lo_c[p] > 0, b.lo_m[p], b.hi_m[p]
        for r in sorted(rows, key=lambda r: r[1]):
            c, m = r[1], r[4]
            if m >= b.min_margin[p]:
                if c < b.hi_c[p]:
                    _set_hi(b, p, r)
                _keep_best(b, p, r)
            elif b.lo_c[p] < c < b.hi_c[p]:
                _set_lo(b, p, r)
        if had_bracket:  # regula falsi closes in on a continuous crossing: some end's margin at least halves
            b.jumped[p] = not (abs(b.hi_m[p]) < 0.5 * abs(old_hi_m) or abs(b.lo_m[p]) < 0.5 * abs(old_lo_m))
        b.done[p] = finished(b, p, opts)
    if opts.refine and b.found_at(p) and b.sharpened[p] < MAX_SHARPEN and (b.done[p] or not had_found):
        # two rivals close: the soft maximum blurs them, so sharpen it and search on (the path
        # moves by about the old temperature). Checked at the first success (the rivals close in
        # there already: no point refining c on the blurred path) and at the answer.
        z = b.best_z[p] if b.done[p] else b.hi_z[p]
        top2 = np.sort(np.delete(z, b.target[p]))[-2:]
        if float(top2[1] - top2[0]) < SHARPEN_GAP * b.tau[p]:
            sharpen(b, p)


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
        m = float(margin_np(b.best_z[p], b.target[p])[0])
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
        b.polishing[p] = True
    return False


def _fold_polished(b: Bracket, p: int, rows: list, opts: SearchOptions) -> None:
    """The bracket's ends solved on tightly (``finished``): the answers they give, or where the loose solves misled.

    A failure at lo's c that succeeds, solved on, had stopped short: no failure is known any more
    and the search steps down from it as from a first success. A success at hi's c that fails,
    solved on, was a point off the path (still an adversarial image: ``best`` keeps it): lo moves
    up to it and c grows again. (A success at lo drops hi's solve: c_search.drop_dominated.)
    """
    b.polishing[p] = False
    ends = {r[1]: r for r in rows}
    for r in rows:
        if r[4] >= b.min_margin[p]:
            _keep_best(b, p, r)
    lo, hi = ends.get(b.lo_c[p]), ends.get(b.hi_c[p])
    if lo is not None and lo[4] >= b.min_margin[p]:
        _set_hi(b, p, lo)
        b.clear_lo(p)
    elif hi is not None and hi[4] < b.min_margin[p]:
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


def _set_hi(b: Bracket, p: int, r: tuple, keep_prev: bool = True) -> None:
    row, c, x, z, m, l2 = r
    if keep_prev and np.isfinite(b.hi_c[p]):
        b.prev_hi_c[p], b.prev_hi_m[p] = b.hi_c[p], b.hi_m[p]
    b.hi_c[p], b.hi_m[p], b.hi_l2[p], b.hi_x[p], b.hi_parent[p], b.hi_z[p] = c, m, l2, x, row, z


def _set_lo(b: Bracket, p: int, r: tuple, keep_prev: bool = True) -> None:
    row, c, x, z, m, l2 = r
    if keep_prev:
        b.prev_c[p], b.prev_m[p] = b.lo_c[p], b.lo_m[p]
    b.lo_c[p], b.lo_m[p], b.lo_l2[p], b.lo_x[p], b.lo_parent[p], b.lo_z[p] = c, m, l2, x, row, z


def _keep_best(b: Bracket, p: int, r: tuple) -> None:
    row, c, x, z, m, l2 = r
    if l2 < b.best_l2[p]:
        b.best_c[p], b.best_l2[p], b.best_x[p], b.best_z[p], b.best_parent[p] = c, l2, x, z, row
