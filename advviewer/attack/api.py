"""``lbfgs_attack``: the box-constrained L-BFGS attack of Szegedy et al. (2013), headless.

Objective (the form with the constant on the loss, equivalent to the paper's ``c|r| + loss``):

    minimise  ||r||^2 + c * CE(f(x + r), target)   subject to  0 <= x + r <= 1

solved by a batched projected L-BFGS with L-BFGS-B's subspace step (lbfgs_steps.py, box_lbfgs.py), whose
every iterate lies in the box. A larger c pulls harder towards the target (and allows a larger
r), so the window's slider reads naturally.

- Fixed c: one solve at the given c, the paper's cross-entropy over all ten classes, or the
  loss of ``warm_start`` when that is a result of this function (so a slider dragged from a
  minimal result stays on its path).
- Minimal (no c): the c search of c_search.py and c_bracket.py; returns the smallest successful perturbation found
  and the c that gave it. With ``refine=True`` (default) the loss is the cross-entropy of the
  target against its strongest rival, whose path crosses the decision boundary at the smallest
  perturbation (exact for the linear models); ``refine=False`` keeps the paper's loss.
- Untargeted: every other class is attacked (as one batch) and the smallest success is returned.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from advviewer.attack.box_lbfgs import minimize_box
from advviewer.attack.c_bracket import SearchOptions
from advviewer.attack.c_search import History, minimal_search
from advviewer.attack.lbfgs_steps import SolverOptions
from advviewer.attack.objective import PenaltyObjective, margin
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult
from advviewer.attack.validation import check_c, check_images, check_max_iter, check_target, check_warm_start, prepare_model
from advviewer.errors import AttackInputError
from advviewer.threads import torch_threads

DEFAULT_MAX_ITER = 500
RIVAL_LOSS = "rival cross-entropy"
PAPER_LOSS = "cross-entropy"


def lbfgs_attack(model, image, target=None, c=None, *, untargeted=False, warm_start=None, callback=None, cancel=None,
                 record_history=False, max_iter=DEFAULT_MAX_ITER, device="cpu", refine=True, candidates=None):
    """Attack one image (28, 28) -> :class:`AttackResult`, or a batch (N, 28, 28) -> list of them.

    For a batch, ``target`` is one class for all images or a sequence of N (see
    :func:`lbfgs_attack_batch`). ``callback(AttackProgress)`` is called after every solver
    iteration; ``cancel`` (a ``threading.Event`` or anything with ``is_set()``) is checked at the
    same moments and raises :class:`AttackCancelled`. Bad arguments raise AttackInputError.
    """
    images, single = check_images(image)
    if single:
        targets = [target]
        warm = [warm_start]
    else:
        targets = list(target) if isinstance(target, Sequence | np.ndarray) else [target] * len(images)
        warm = list(warm_start) if isinstance(warm_start, Sequence) else [warm_start] * len(images)
    results = lbfgs_attack_batch(model, images, targets, c, untargeted=untargeted, warm_start=warm, callback=callback,
                                 cancel=cancel, record_history=record_history, max_iter=max_iter, device=device,
                                 refine=refine, candidates=candidates)
    return results[0] if single else results


def lbfgs_attack_batch(model, images, targets, c=None, *, untargeted=False, warm_start=None, callback=None, cancel=None,
                       record_history=False, max_iter=DEFAULT_MAX_ITER, device="cpu", refine=True, candidates=None):
    """Attack image ``i`` towards ``targets[i]`` for every i, all in one batched solve; a list of results.

    ``targets``: N classes, or one class for all (None with ``untargeted=True``). ``warm_start``: None or N
    entries. ``candidates``: c values per image solved at once in minimal mode (default: more for
    fewer images, which lowers latency on one image). ``seconds`` shares the batch's time equally.
    Runs torch on one CPU thread (see :func:`advviewer.threads.torch_threads`).
    """
    with torch_threads(1):
        return _attack_batch(model, images, targets, c, untargeted, warm_start, callback, cancel, record_history,
                             max_iter, device, refine, candidates)


def _attack_batch(model, images, targets, c, untargeted, warm_start, callback, cancel, record_history, max_iter,
                  device, refine, candidates):
    started = time.perf_counter()
    if cancel is not None and cancel.is_set():
        raise AttackCancelled("attack cancelled")
    images, _ = check_images(images)
    n_img = len(images)
    if targets is None or isinstance(targets, numbers.Integral):
        targets = [targets] * n_img
    if len(targets) != n_img:
        raise AttackInputError(f"{n_img} images but {len(targets)} targets")
    c = check_c(c)
    max_iter = check_max_iter(max_iter)
    model, dev = prepare_model(model, device)
    x_img = torch.as_tensor(images, device=dev).view(n_img, -1)
    with torch.no_grad():
        probs0 = F.softmax(model(x_img.view(-1, 1, 28, 28)).to(torch.float64), 1).cpu().numpy()
    orig = probs0.argmax(1)
    checked = [check_target(t, int(orig[i]), untargeted) for i, t in enumerate(targets)]
    warm = [None] * n_img if warm_start is None else list(warm_start)
    starts = [check_warm_start(w, images[i]) for i, w in enumerate(warm)]
    # problems: one per (image, target); untargeted images get one per other class
    img_of, tgt = [], []
    for i, t in enumerate(checked):
        for k in ([t] if t is not None else [k for k in range(10) if k != orig[i]]):
            img_of.append(i)
            tgt.append(k)
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
    if c is None:
        k = candidates or max(1, min(3, 6 // len(tgt)))
        opts = SearchOptions(candidates=k, refine=refine, solver=solver)
        found = _run_minimal(model, x0, target, start, opts, hook, history, np.asarray(img_of))
    else:
        previous = [starts[i][1] for i in img_of]
        found = _run_fixed(model, x0, target, start, c, previous, solver, hook, history)
    seconds = (time.perf_counter() - started) / n_img
    return _results(model, images, probs0, img_of, tgt, found, untargeted, c is None, seconds, history, start)


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
    return out


def _run_fixed(model, x0, target, start, c, previous, solver, hook, history):
    """One solve per problem at ``c``; the loss of a previous result is kept (same path)."""
    rival = [prev is not None and prev.loss == RIVAL_LOSS and prev.target == int(t) for prev, t in zip(previous, target.tolist())]
    out: list[dict] = [{} for _ in range(x0.shape[0])]
    for use_rival in (False, True):
        rows = [p for p, r in enumerate(rival) if r == use_rival]
        if not rows:
            continue
        idx = torch.as_tensor(rows, device=x0.device)
        obj = PenaltyObjective(model, x0[idx], target[idx], rival=use_rival)
        taus = torch.tensor([previous[p].tau for p in rows], dtype=torch.float64) if use_rival else None
        ids = obj.add_rows(torch.arange(len(rows)), torch.full((len(rows),), c, dtype=torch.float64), taus)
        if history is not None:
            history.begin([int(idx[i]) for i in ids.tolist()], [-1] * len(rows))

        def on_iteration(it, r, x, f, z, obj=obj, idx=idx):
            if history is not None:
                history.add(idx[r], x)
            if hook is not None:
                hook(it, r, idx[obj.problem[r]], obj.c[r], x, z)

        fin = minimize_box(obj, start[idx], solver, on_iteration)
        for j, p in enumerate(rows):
            out[p] = dict(x=fin.x[j], c=c, row=p if history is not None else -1, evaluations=int(fin.evaluations[j]),
                          iterations=int(fin.iterations[j]), loss=RIVAL_LOSS if use_rival else PAPER_LOSS,
                          tau=previous[p].tau if use_rival else None)
    return out


def _results(model, images, probs0, img_of, tgt, found, untargeted, minimal, seconds, history, start):
    """Classify every final image once (as returned: float32) and pick each image's answer."""
    finals = torch.stack([f["x"] for f in found]).to(torch.float32)
    with torch.no_grad():
        probs = F.softmax(model(finals.view(-1, 1, 28, 28)).to(torch.float64), 1).cpu().numpy()
    xs = finals.view(-1, 28, 28).cpu().numpy()
    results = []
    for i in range(len(images)):
        ps = [p for p, j in enumerate(img_of) if j == i]
        ok = [p for p in ps if probs[p].argmax() == tgt[p]]
        norms = {p: float(np.linalg.norm(xs[p] - images[i])) for p in ps}
        best = min(ok, key=lambda p: norms[p]) if ok else max(ps, key=lambda p: probs[p][tgt[p]])
        f = found[best]
        adv = xs[best]
        r = adv - images[i]
        l2 = float(np.linalg.norm(r))
        hist = None
        if history is not None:
            hist = [start[best].to(torch.float32).view(28, 28).cpu().numpy()] + history.chain(f["row"])
        res = AttackResult(
            adversarial=adv, perturbation=r, success=bool(ok), c=f["c"], l2=l2, linf=float(np.abs(r).max()),
            distortion=l2 / 28.0, target=tgt[best], original_class=int(probs0[i].argmax()),
            adversarial_class=int(probs[best].argmax()), original_probs=probs0[i], adversarial_probs=probs[best],
            evaluations=sum(found[p]["evaluations"] for p in ps), iterations=sum(found[p]["iterations"] for p in ps),
            seconds=seconds, history=hist, mode="minimal" if minimal else "fixed-c", untargeted=untargeted,
            loss=f["loss"], tau=f["tau"], original=images[i])
        res.message = _message(res, f, minimal)
        results.append(res)
    return results


def _message(res: AttackResult, f: dict, minimal: bool) -> str:
    to = "the nearest other class" if res.untargeted else f"class {res.target}"
    if res.success:
        how = "the smallest c that fools it" if minimal else "the chosen c"
        reached = f"class {res.target} (the nearest other class)" if res.untargeted else f"class {res.target}"
        return (f"the model now answers {reached} with probability {res.adversarial_probs[res.target]:.3f}, "
                f"at c = {res.c:.4g} ({how}); L2 {res.l2:.4f}, distortion {res.distortion:.4f}")
    if minimal:
        return (f"failed: could not reach {to} within the budget (c up to {res.c:.3g}); the model still answers "
                f"{res.adversarial_class}, target probability {res.adversarial_probs[res.target]:.3f}")
    return (f"not adversarial at c={res.c:.4g}: the model answers {res.adversarial_class} "
            f"(target {res.target} has p={res.adversarial_probs[res.target]:.3f}); a larger c pulls harder")
