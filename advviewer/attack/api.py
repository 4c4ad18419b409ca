"""``lbfgs_attack``: the box-constrained L-BFGS attack of Szegedy et al. (2013), headless.

Objective (the form with the constant on the loss, equivalent to the paper's ``c|r| + loss``):

    minimise  ||r||^2 + c * CE(f(x + r), target)   subject to  0 <= x + r <= 1

solved by a batched projected L-BFGS with L-BFGS-B's subspace step (lbfgs_steps.py, box_lbfgs.py), whose
every iterate lies in the box. A larger c pulls harder towards the target (and allows a larger
r), so the window's slider reads naturally.

- Fixed c: one solve at the given c (one for all images or one per image), the paper's
  cross-entropy over all ten classes, or the loss of ``warm_start`` when that is a result of
  this function (so a slider dragged from a minimal result stays on its path).
- Minimal (no c): the c search of c_search.py and c_bracket.py; returns the smallest successful perturbation found
  and the c that gave it. With ``refine=True`` (default) the loss is the cross-entropy of the
  target against its strongest rival, whose path crosses the decision boundary at the smallest
  perturbation (exact for the linear models); ``refine=False`` keeps the paper's loss.
- Untargeted: every other class is attacked (as one batch) and the smallest success is returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advviewer.attack.answers import image_results
from advviewer.attack.box_lbfgs import BoxLBFGS
from advviewer.attack.c_bracket import SearchOptions
from advviewer.attack.c_search import History, minimal_search
from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import PAPER_LOSS, RIVAL_LOSS, PenaltyObjective, margin
from advviewer.attack.problems import build_problems
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult, AttackResults
from advviewer.attack.validation import (
    check_c,
    check_images,
    check_max_iter,
    check_target,
    check_targets,
    check_warm_start,
    check_warm_starts,
    prepare_model,
)
from advviewer.threads import torch_threads

DEFAULT_MAX_ITER = 500

# what the public functions accept (numpy arrays, torch tensors on any device, or nested sequences)
Images = np.ndarray | torch.Tensor | Sequence[Any]
Targets = int | np.integer | np.ndarray | torch.Tensor | Sequence[Any] | None
Cs = float | np.floating | np.ndarray | torch.Tensor | Sequence[float] | None
WarmStarts = AttackResult | AttackResults | np.ndarray | torch.Tensor | Sequence[Any] | None
ProgressCallback = Callable[[AttackProgress], object]


class CancelFlag(Protocol):
    """Anything with ``is_set()``, e.g. a ``threading.Event``."""

    def is_set(self) -> bool: ...


def lbfgs_attack(model: nn.Module, image: Images, target: Targets = None, c: Cs = None, *, untargeted: bool = False,
                 warm_start: WarmStarts = None, callback: ProgressCallback | None = None, cancel: CancelFlag | None = None,
                 record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER, device: str = "cpu", refine: bool = True,
                 candidates: int | None = None) -> AttackResult | AttackResults:
    """Attack one image (28, 28) -> :class:`AttackResult`; a batch (N, 28, 28) -> :class:`AttackResults`.

    ``image``: float values in [0, 1] as a numpy array or torch tensor ((N, 1, 28, 28) too).
    ``target``: a class 0..9 (int, numpy or 0-d torch scalar), for a batch one class for all or
    one per image (a sequence, 1-d array or tensor); None with ``untargeted=True``. ``c``: None
    searches the smallest perturbation (minimal mode); a number (or one per image) solves once
    at that c. ``warm_start``: a previous result (or perturbation) to start from, per image for a
    batch. ``callback(AttackProgress)`` is called after every solver iteration; ``cancel`` (a
    ``threading.Event`` or anything with ``is_set()``) is checked at the same moments and raises
    :class:`AttackCancelled`. Bad arguments raise AttackInputError. A batch of N = 1 is still an
    :class:`AttackResults` (index it, or pass a (28, 28) image for an :class:`AttackResult`).
    """
    images, single = check_images(image)
    results = _attack(model, images, single, target, c, untargeted, warm_start, callback, cancel, record_history,
                      max_iter, device, refine, candidates)
    return results[0] if single else results


def lbfgs_attack_batch(model: nn.Module, images: Images, targets: Targets, c: Cs = None, *, untargeted: bool = False,
                       warm_start: WarmStarts = None, callback: ProgressCallback | None = None,
                       cancel: CancelFlag | None = None, record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER,
                       device: str = "cpu", refine: bool = True, candidates: int | None = None) -> AttackResults:
    """Attack image ``i`` towards ``targets[i]`` for every i, all in one batched solve -> :class:`AttackResults`.

    As :func:`lbfgs_attack`, with a (28, 28) image taken as a batch of one. ``candidates``: c
    values per image solved at once in minimal mode (default: more for fewer images, which
    lowers latency on one image). Runs torch on one CPU thread (see
    :func:`advviewer.threads.torch_threads`).
    """
    arr, _ = check_images(images)
    return _attack(model, arr, False, targets, c, untargeted, warm_start, callback, cancel, record_history, max_iter,
                   device, refine, candidates)


def _attack(model, images: np.ndarray, single: bool, targets, c, untargeted, warm_start, callback, cancel, record_history,
            max_iter, device, refine, candidates) -> AttackResults:
    started = time.perf_counter()
    if cancel is not None and cancel.is_set():
        raise AttackCancelled("attack cancelled")
    n_img = len(images)
    raw_targets = check_targets(targets, n_img, single)
    cs = check_c(c, n_img, single)
    warm = check_warm_starts(warm_start, n_img, single)
    max_iter = check_max_iter(max_iter)
    model, dev = prepare_model(model, device)
    with torch_threads(1):
        found, img_of, tgt, probs0, history, start, settled = _solve(
            model, dev, images, raw_targets, cs, untargeted, warm, callback, cancel, record_history, max_iter, refine,
            candidates)
        per_image = np.zeros(n_img)
        np.maximum.at(per_image, np.asarray(img_of), settled - started)
        results = image_results(model, images, probs0, img_of, tgt, found, untargeted, cs is None, per_image, history, start)
    return AttackResults.stack(results, time.perf_counter() - started)


def _solve(model, dev, images, raw_targets, cs, untargeted, warm, callback, cancel, record_history, max_iter, refine,
           candidates):
    """Every (image, target) problem solved; returns the solves and when each problem was settled."""
    n_img = len(images)
    x_img = torch.as_tensor(images, device=dev).view(n_img, -1)
    with torch.no_grad():
        probs0 = F.softmax(model(x_img.view(-1, 1, 28, 28)).to(torch.float64), 1).cpu().numpy()
    orig = probs0.argmax(1)
    checked = [check_target(t, int(orig[i]), untargeted) for i, t in enumerate(raw_targets)]
    starts = [check_warm_start(w, images[i]) for i, w in enumerate(warm)]
    img_of, tgt = build_problems(model, x_img, orig, checked, [s[1] for s in starts], cs is None, refine)
    img_of_t = torch.as_tensor(img_of, device=dev)
    x0 = x_img[img_of_t].to(torch.float64)
    target = torch.as_tensor(tgt, device=dev)
    start = x0.clone()
    for p, i in enumerate(img_of):
        if starts[i][0] is not None:
            start[p] = torch.as_tensor(starts[i][0], device=dev).view(-1).to(torch.float64)
    history = History() if record_history else None
    hook = _hook(callback, cancel, x0, target, img_of_t)
    solver = SolverOptions(max_iter=max_iter)
    if cs is None:
        k = candidates or max(1, min(3, 6 // len(tgt)))
        opts = SearchOptions(candidates=k, refine=refine, solver=solver)
        found, settled = _run_minimal(model, x0, target, start, opts, hook, history, np.asarray(img_of))
    else:
        previous = [starts[i][1] for i in img_of]
        found, settled = _run_fixed(model, x0, target, start, cs[img_of], previous, solver, hook, history)
    return found, img_of, tgt, probs0, history, start, settled


def _hook(callback, cancel, x0, target, img_of):
    """The solver's per-iteration hook: cancellation, and progress for the most advanced solve."""
    if callback is None and cancel is None:
        return None

    def hook(iteration, rows, problems, cs, x, z):
        if cancel is not None and cancel.is_set():
            raise AttackCancelled("attack cancelled")
        if callback is None:
            return
        t = target[problems]
        l2 = (x - x0[problems]).norm(dim=1)
        prob = F.softmax(z, 1).gather(1, t[:, None])[:, 0]
        ok = margin(z, t) > 0
        # report the smallest successful iterate, else the one closest to its target
        i = int(torch.where(ok, l2, torch.inf).argmin()) if ok.any() else int(prob.argmax())
        adv = x[i].to(torch.float32).view(28, 28).cpu().numpy().copy()
        callback(AttackProgress(int(iteration), float(cs[i]), float(l2[i]), float(prob[i]), int(img_of[problems[i]]), adv))

    return hook


def _run_minimal(model, x0, target, start, opts, hook, history, groups):
    b = minimal_search(model, x0, target, opts, hook=hook, history=history, start=start, groups=groups)
    loss = RIVAL_LOSS if opts.refine else PAPER_LOSS
    out = []
    for p in range(x0.shape[0]):
        ok = bool(b.success[p])
        x = b.best_x[p] if ok else b.lo_x[p]
        c = float(b.best_c[p]) if ok else float(b.lo_c[p])
        row = int(b.best_parent[p]) if ok else int(b.lo_parent[p])
        tau = float(b.tau[p]) if opts.refine else None
        out.append(dict(x=x, c=c, row=row, evaluations=int(b.evaluations[p]), iterations=int(b.iterations[p]),
                        loss=loss, tau=tau))
    return out, b.settled_at


def _run_fixed(model, x0, target, start, cs: np.ndarray, previous, solver, hook, history):
    """One solve per problem at its c; the loss of a previous result is kept (same path)."""
    rival = [prev is not None and prev.loss == RIVAL_LOSS and prev.target == t for prev, t in zip(previous, target.tolist())]
    out: list[dict] = [{} for _ in range(x0.shape[0])]
    settled = np.zeros(x0.shape[0])
    for use_rival in (False, True):
        rows = [p for p, r in enumerate(rival) if r == use_rival]
        if not rows:
            continue
        idx = torch.as_tensor(rows, device=x0.device)
        obj = PenaltyObjective(model, x0[idx], target[idx], rival=use_rival)
        taus = torch.tensor([previous[p].tau for p in rows], dtype=torch.float64) if use_rival else None
        obj.add_rows(torch.arange(len(rows)), torch.as_tensor(cs[rows], dtype=torch.float64), taus)
        if history is not None:
            history.begin(rows, [-1] * len(rows))

        def on_iteration(it, r, x, f, z, obj=obj, idx=idx):
            if history is not None:
                history.add(idx[r], x)
            if hook is not None:
                hook(it, r, idx[obj.problem[r]], obj.c[r], x, z)

        pool = BoxLBFGS(obj, solver, on_iteration)
        pool.add(torch.arange(len(rows), device=x0.device), start[idx])
        while len(pool):
            fin = pool.step()
            if fin is None:
                continue
            now = time.perf_counter()
            for j, row in enumerate(fin.ids.tolist()):
                p = rows[row]
                settled[p] = now
                out[p] = dict(x=fin.x[j], c=float(cs[p]), row=p if history is not None else -1,
                              evaluations=int(fin.evaluations[j]), iterations=int(fin.iterations[j]),
                              loss=RIVAL_LOSS if use_rival else PAPER_LOSS, tau=previous[p].tau if use_rival else None)
    return out, settled
