"""``lbfgs_attack``: the box-constrained L-BFGS attack of Szegedy et al. (2013), headless.

Objective (the form with the constant on the loss, equivalent to the paper's ``c|r| + loss``):

    minimise  ||r||^2 + c * CE(f(x + r), target)   subject to  0 <= x + r <= 1

solved by a batched projected L-BFGS with L-BFGS-B's subspace step (lbfgs_steps.py, box_lbfgs.py), whose
every iterate lies in the box. A larger c pulls harder towards the target (and allows a larger
r), so the window's slider reads naturally.

The loss is the ``objective``, for either mode: ``"paper"``, the paper's cross-entropy of the
softmax over all ten classes against the target, or ``"rival"``, the cross-entropy of the target
against its strongest rival only, whose path crosses the decision boundary at the smallest
perturbation (exact for the linear models). A fixed-c solve and a minimal search of one objective
agree: at the c the search found, a fixed-c solve gives the same ||r||. Left out (None), each mode
keeps its default:

- Fixed c: one solve at the given c (one for all images or one per image), the paper's
  cross-entropy over all ten classes, or the loss of ``warm_start`` when that is a result of
  this function (so a slider dragged from a minimal result stays on its path).
- Minimal (no c): the c search of c_search.py and c_bracket.py; returns the smallest successful perturbation found
  and the c that gave it. The rival loss (``refine=True``, the default; ``refine=False`` is the
  paper's loss, the older spelling of ``objective="paper"``).
- Untargeted: every other class is attacked (as one batch) and the smallest success is returned.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from advviewer.attack.answers import image_results
from advviewer.attack.c_bracket import SearchOptions
from advviewer.attack.c_search import History
from advviewer.attack.lbfgs_steps import BATCH_MEMORY, BATCH_MEMORY_FROM, SolverOptions
from advviewer.attack.objective import RIVAL, check_objective, initial_tau
from advviewer.attack.problems import build_problems
from advviewer.attack.reference import ReferenceOptions, reference_answers
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult, AttackResults
from advviewer.attack.runs import fixed_losses, progress_hook, run_fixed, run_minimal
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
from advviewer.errors import AttackInputError
from advviewer.runtime.threads import torch_threads

DEFAULT_MAX_ITER = 500
ENGINES = ("batched", "reference")  # the fast engine, and the paper's method one problem at a time (reference.py)
KEEP_STATE_UP_TO = 16  # results of calls on this many images keep their solver state (about 80 kB each) for warm starts

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
                 record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER, device: str = "cpu",
                 refine: bool | None = None, candidates: int | None = None, objective: str | None = None,
                 engine: str = "batched") -> AttackResult | AttackResults:
    """Attack one image (28, 28) -> :class:`AttackResult`; a batch (N, 28, 28) -> :class:`AttackResults`.

    ``image``: float values in [0, 1] as a numpy array or torch tensor ((N, 1, 28, 28) too).
    ``target``: a class 0..9 (int, numpy or 0-d torch scalar), for a batch one class for all or
    one per image (a sequence, 1-d array or tensor); None with ``untargeted=True``. ``c``: None
    searches the smallest perturbation (minimal mode); a number (or one per image) solves once
    at that c. ``objective``: ``"paper"`` or ``"rival"`` (the module docstring; None: each mode's
    default; each result's ``objective`` says which it solved). ``warm_start``: a previous result (or perturbation) to start from, per image for a
    batch. ``callback(AttackProgress)`` is called after every solver iteration; ``cancel`` (a
    ``threading.Event`` or anything with ``is_set()``) is checked at the same moments and raises
    :class:`AttackCancelled`. Bad arguments raise AttackInputError. A batch of N = 1 is still an
    :class:`AttackResults` (index it, or pass a (28, 28) image for an :class:`AttackResult`).
    ``engine``: ``"batched"`` (the default) or ``"reference"``, the paper's method one problem at a
    time, plainly and slowly (advviewer.attack.reference; the oracle the batched engine is tested against).
    """
    images, single = check_images(image)
    results = _attack(model, images, single, target, c, untargeted, warm_start, callback, cancel, record_history,
                      max_iter, device, refine, candidates, objective, engine)
    return results[0] if single else results


def lbfgs_attack_batch(model: nn.Module, images: Images, targets: Targets, c: Cs = None, *, untargeted: bool = False,
                       warm_start: WarmStarts = None, callback: ProgressCallback | None = None,
                       cancel: CancelFlag | None = None, record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER,
                       device: str = "cpu", refine: bool | None = None, candidates: int | None = None,
                       objective: str | None = None, engine: str = "batched") -> AttackResults:
    """Attack image ``i`` towards ``targets[i]`` for every i, all in one batched solve -> :class:`AttackResults`.

    As :func:`lbfgs_attack`, with a (28, 28) image taken as a batch of one. ``candidates``: c
    values per image solved at once in minimal mode (default: more for fewer images, which
    lowers latency on one image). ``engine="reference"`` solves the problems one by one by the paper's
    method (advviewer.attack.reference) instead. Runs torch on one CPU thread (see
    :func:`advviewer.runtime.threads.torch_threads`).
    """
    arr, _ = check_images(images)
    return _attack(model, arr, False, targets, c, untargeted, warm_start, callback, cancel, record_history, max_iter,
                   device, refine, candidates, objective, engine)


def _attack(model, images: np.ndarray, single: bool, targets, c, untargeted, warm_start, callback, cancel, record_history,
            max_iter, device, refine, candidates, objective, engine="batched") -> AttackResults:
    started = time.perf_counter()
    check_engine(engine, record_history)
    if cancel is not None and cancel.is_set():
        raise AttackCancelled("attack cancelled")
    n_img = len(images)
    raw_targets = check_targets(targets, n_img, single)
    cs = check_c(c, n_img, single)
    warm = check_warm_starts(warm_start, n_img, single)
    max_iter = check_max_iter(max_iter)
    objective = check_objective(objective, refine, cs is None)
    model, dev = prepare_model(model, device)
    with torch_threads(1):
        found, img_of, tgt, probs0, history, start, settled = _solve(
            model, dev, images, raw_targets, cs, untargeted, warm, callback, cancel, record_history, max_iter, objective,
            candidates, engine)
        per_image = np.zeros(n_img)
        np.maximum.at(per_image, np.asarray(img_of), settled - started)
        results = image_results(model, dev, images, probs0, img_of, tgt, found, untargeted, cs is None, per_image, history, start)
    return AttackResults.stack(results, time.perf_counter() - started)


def check_engine(engine: object, record_history: bool) -> None:
    """``engine`` is one of ENGINES (the reference engine records no history)."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise AttackInputError(f"engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}")
    if engine == "reference" and record_history:
        raise AttackInputError("the reference engine records no history; leave record_history off")


def _solve(model, dev, images, raw_targets, cs, untargeted, warm, callback, cancel, record_history, max_iter, objective,
           candidates, engine="batched"):
    """Every (image, target) problem solved; returns the solves and when each problem was settled.

    ``objective``: from check_objective (always set in minimal mode; None at fixed c: follow the warm starts).
    """
    n_img = len(images)
    x_img = images.reshape(n_img, -1).astype(np.float64)
    with torch.no_grad():
        z_img = model(torch.from_numpy(images).to(dev).view(-1, 1, 28, 28)).to(torch.float64).cpu().numpy()
    probs0 = np.exp(z_img - z_img.max(1, keepdims=True))
    probs0 /= probs0.sum(1, keepdims=True)
    orig = probs0.argmax(1)
    checked = [check_target(t, int(orig[i]), untargeted) for i, t in enumerate(raw_targets)]
    starts = [check_warm_start(w, images[i]) for i, w in enumerate(warm)]
    img_of, tgt = build_problems(model, x_img, orig, checked, [s[1] for s in starts], cs is None, objective, dev)
    img_arr = np.asarray(img_of)
    x0, z0, target = x_img[img_arr], z_img[img_arr], np.asarray(tgt)
    start = x0.copy()
    for p, i in enumerate(img_of):
        warm_x = starts[i][0]
        if warm_x is not None:
            start[p] = warm_x.reshape(-1)
    history = History() if record_history else None
    hook = progress_hook(callback, cancel, x0, target, img_arr)
    solver = SolverOptions(max_iter=max_iter)
    keep_state = n_img <= KEEP_STATE_UP_TO
    if engine == "reference":
        found = _reference(model, dev, x0, target, z0, start, cs, img_arr, starts, objective, hook, max_iter)
        settled = np.full(len(tgt), time.perf_counter())
    elif cs is None:
        k = candidates or max(1, min(3, 6 // len(tgt)))
        if len(tgt) >= BATCH_MEMORY_FROM and not keep_state:  # (kept states all have the default memory)
            solver = dataclasses.replace(solver, memory=BATCH_MEMORY)
        opts = SearchOptions(candidates=k, refine=objective == RIVAL, solver=solver)
        found, settled = run_minimal(model, x0, target, z0, start, opts, hook, history, img_arr, dev, keep_state)
    else:
        previous = [starts[i][1] for i in img_of]
        losses = fixed_losses(objective, previous, target, z0)
        found, settled = run_fixed(model, x0, target, start, cs[img_arr], previous, losses, solver, hook, history, dev,
                                   keep_state)
    return found, img_of, tgt, probs0, history, start, settled


def _reference(model, dev, x0, target, z0, start, cs, img_arr, starts, objective, hook, max_iter) -> list[dict]:
    """Every problem solved by the reference method (advviewer.attack.reference), with each mode's loss."""
    opts = ReferenceOptions(max_iter=max_iter)
    if cs is None:
        tau = initial_tau(z0, target) if objective == RIVAL else np.full(len(target), np.nan)
        return reference_answers(model, dev, x0, target, start, None, tau, hook, opts)
    losses = fixed_losses(objective, [starts[i][1] for i in img_arr], target, z0)
    return reference_answers(model, dev, x0, target, start, cs[img_arr], losses.tau, hook, opts)
