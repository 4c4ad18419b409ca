"""The two modes on the solver -- minimal (the c search) and fixed c -- and the per-iteration hook.

Every solve ends with a :class:`SolverState` (its point, value, gradient, curvature memory, c and
loss). A result keeps it (for small calls) so that a fixed-c solve warm-started from the result
-- the window's slider -- begins with everything carried over to its c: f, g and the curvature
pairs of ||r||^2 + c * loss are linear in c, so the first step is already the tangent of the
path, and a step of 10% in c takes a few iterations instead of a cold start's dozens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from advviewer.attack.box_lbfgs import BoxLBFGS
from advviewer.attack.c_bracket import SearchOptions
from advviewer.attack.c_search import minimal_search
from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import PAPER_LOSS, RIVAL_LOSS, PenaltyObjective, margin
from advviewer.attack.result import AttackCancelled, AttackProgress
from advviewer.attack.warm_states import rescaled


@dataclass(frozen=True)
class SolverState:
    """Where a solve ended, enough to continue it exactly at another c (same image, target and loss)."""

    x: np.ndarray  # (784,) float64, on float32's grid
    f: float
    g: np.ndarray  # (784,) float64
    z: np.ndarray  # (10,) logits
    S: np.ndarray  # (m, 784) float32 curvature pairs
    Y: np.ndarray
    theta: float
    c: float
    loss: str
    tau: float | None
    target: int


def progress_hook(callback, cancel, x0: np.ndarray, target: np.ndarray, img_of: np.ndarray):
    """The solver's per-iteration hook: cancellation, and progress for the most advanced solve."""
    if callback is None and cancel is None:
        return None

    n_images = int(img_of.max()) + 1 if img_of.size else 0

    def hook(iteration, rows, problems, cs, x, z, settled=None):
        if cancel is not None and cancel.is_set():
            raise AttackCancelled("attack cancelled")
        if callback is None:
            return
        t = target[problems]
        l2 = np.linalg.norm(x - x0[problems], axis=1)
        e = np.exp(z - z.max(1, keepdims=True))
        prob = e[np.arange(len(t)), t] / e.sum(1)
        ok = margin(z, t) > 0
        # report the smallest successful iterate, else the one closest to its target
        i = int(np.where(ok, l2, np.inf).argmin()) if ok.any() else int(prob.argmax())
        adv = x[i].astype(np.float32).reshape(28, 28)
        done = None if settled is None else n_images - np.unique(img_of[~settled]).size  # images with every problem final
        callback(AttackProgress(int(iteration), float(cs[i]), float(l2[i]), float(prob[i]), int(img_of[problems[i]]), adv,
                                done))

    return hook


def run_minimal(model, x0, target, z0, start, opts: SearchOptions, hook, history, groups, device, keep_state: bool):
    """Minimal mode for every problem: per problem its answer (dict) and when it was settled."""
    b = minimal_search(model, x0, target, z0, opts, hook=hook, history=history, start=start, groups=groups, device=device)
    loss = RIVAL_LOSS if opts.refine else PAPER_LOSS
    out = []
    for p in range(x0.shape[0]):
        ok = bool(b.success[p])
        row = int(b.best_parent[p]) if ok else int(b.lo_parent[p])
        tau = float(b.tau[p]) if opts.refine else None
        state = None
        if keep_state and row in b.states:
            f, g, S, Y, theta, z = b.states[row][:6]
            x = b.best_x[p] if ok else b.lo_x[p]
            state = SolverState(x, float(f), g, z, S, Y, float(theta), float(b.best_c[p] if ok else b.lo_c[p]), loss, tau,
                                int(target[p]))
        out.append(dict(x=b.best_x[p] if ok else b.lo_x[p], c=float(b.best_c[p]) if ok else float(b.lo_c[p]), row=row,
                        evaluations=int(b.evaluations[p]), iterations=int(b.iterations[p]), loss=loss, tau=tau, state=state))
    return out, b.settled_at


def run_fixed(model, x0, target, start, cs: np.ndarray, previous, solver: SolverOptions, hook, history, device,
              keep_state: bool):
    """One solve per problem at its c; the loss of a previous result is kept (same path), and its state if it has one."""
    rival = [prev is not None and prev.loss == RIVAL_LOSS and prev.target == t for prev, t in zip(previous, target.tolist())]
    out: list[dict] = [{} for _ in range(x0.shape[0])]
    settled = np.zeros(x0.shape[0])
    for use_rival in (False, True):
        rows = [p for p, r in enumerate(rival) if r == use_rival]
        if not rows:
            continue
        idx = np.asarray(rows)
        obj = PenaltyObjective(model, x0[idx], target[idx], rival=use_rival, device=device)
        taus = np.array([previous[p].tau for p in rows]) if use_rival else None
        ids = obj.add_rows(np.arange(len(rows)), cs[idx], taus)
        if history is not None:
            history.begin(rows, [-1] * len(rows))

        def on_iteration(it, r, x, f, z, obj=obj, idx=idx):
            if history is not None:
                history.add(idx[r], x)
            if hook is not None:
                hook(it, r, idx[obj.problem[r]], obj.c[r], x, z)

        pool = BoxLBFGS(obj, solver, on_iteration)
        _start(pool, ids, idx, target, start, x0, cs, [previous[p] for p in rows], use_rival)
        while len(pool):
            fin = pool.step()
            if fin is None:
                continue
            now = time.perf_counter()
            for j, row in enumerate(fin.ids.tolist()):
                p = rows[row]
                settled[p] = now
                loss = RIVAL_LOSS if use_rival else PAPER_LOSS
                tau = previous[p].tau if use_rival else None
                state = SolverState(fin.x[j], float(fin.f[j]), fin.g[j], fin.aux[j], fin.S[j], fin.Y[j], float(fin.theta[j]),
                                    float(cs[p]), loss, tau, int(target[p])) if keep_state else None
                out[p] = dict(x=fin.x[j], c=float(cs[p]), row=p if history is not None else -1, evaluations=int(fin.evaluations[j]),
                              iterations=int(fin.iterations[j]), loss=loss, tau=tau, state=state)
    return out, settled


def _start(pool: BoxLBFGS, ids, idx, target, start, x0, cs, previous, use_rival: bool) -> None:
    """Rows whose previous result carries a state of the same loss continue it; the others start from their point."""
    carried: list[int] = []
    fresh: list[int] = []
    for j, (p, prev) in enumerate(zip(idx.tolist(), previous)):
        st = getattr(prev, "state", None)
        same = (st is not None and (st.loss == RIVAL_LOSS) == use_rival and st.target == int(target[p])
                and st.tau == (prev.tau if use_rival else None) and prev.original is not None
                and np.array_equal(prev.original.reshape(-1).astype(np.float64), x0[p]))
        (carried if same else fresh).append(j)
    if fresh:
        pool.add(ids[fresh], start[idx[fresh]])
    if carried:
        parts = []
        for j in carried:
            st = previous[j].state
            parts.append(rescaled((st.f, st.g, st.S, st.Y, st.theta), st.x, x0[idx[j]], st.c, float(cs[idx[j]])))
        f, g, S, Y, theta = (np.stack(v) for v in zip(*parts))
        aux = np.stack([previous[j].state.z for j in carried])
        x = np.stack([previous[j].state.x for j in carried])
        pool.add(ids[carried], x, start=(f, g, aux), memory=(S, Y, theta))
