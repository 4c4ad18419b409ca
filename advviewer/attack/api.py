"""``lbfgs_attack``: the box-constrained L-BFGS attack of Szegedy et al. (2013), headless.

Objective (the form with the constant on the loss, equivalent to the paper's ``c|r| + loss``):

    minimise  ||r||^2 + c * loss(f(x + r), target)   subject to  0 <= x + r <= 1

solved by a batched projected L-BFGS with L-BFGS-B's subspace step (lbfgs_steps.py, box_lbfgs.py), whose
every iterate lies in the box, all in torch on the model's device. A larger c pulls harder towards
the target (and allows a larger r), so the window's slider reads naturally. Any classifier: images
(N, C, H, W), (N, H, W) or (N, D) in [0, 1], K >= 2 classes; the results' images come back in the
input's shape and type (a tensor on the input's device for a tensor).

The loss is the ``objective``, for either mode: ``"paper"``, the paper's cross-entropy of the
softmax over all K classes against the target, or ``"rival"``, the cross-entropy of the target
against its strongest rival only, whose path crosses the decision boundary at the smallest
perturbation (exact for the linear models). A fixed-c solve and a minimal search of one objective
agree: at the c the search found, a fixed-c solve gives the same ||r||. Left out (None), each mode
keeps its default:

- Fixed c: one solve at the given c (one for all images or one per image), the paper's
  cross-entropy, or the loss of ``warm_start`` when that is a result of this function (so a
  slider dragged from a minimal result stays on its path).
- Minimal (no c): the c search of c_search.py and c_bracket.py; returns the smallest successful perturbation found
  and the c that gave it. The rival loss (``refine=True``, the default; ``refine=False`` is the
  paper's loss, the older spelling of ``objective="paper"``).
- Untargeted: every other class is attacked (as one batch) and the smallest success is returned.

``engine="reference"`` solves every problem alone by the paper's method, plainly (reference.py): the
oracle the engine is tested against.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from advviewer.attack.answers import ImageProblems, Solved, image_results, message
from advviewer.attack.c_bracket import BUDGET_RTOL, SearchOptions
from advviewer.attack.c_search import History
from advviewer.attack.lbfgs_steps import BATCH_MEMORY, BATCH_MEMORY_FROM, SolverOptions
from advviewer.attack.objective import PAPER_LOSS, RIVAL, check_objective, initial_tau, margin_goal, margin_np
from advviewer.attack.problems import build_problems
from advviewer.attack.reference import ReferenceOptions, reference_answers
from advviewer.attack.result import AttackCancelled, AttackProgress, AttackResult, AttackResults
from advviewer.attack.runs import Problems, fixed_losses, progress_hook, run_fixed, run_minimal
from advviewer.attack.strategies import DEFAULT, Strategies
from advviewer.attack.validation import (
    CheckedImages,
    check_budget,
    check_c,
    check_confidence,
    check_images,
    check_labels,
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


@dataclass(frozen=True)
class AttackRequest:
    """Everything an attack call asks for besides the model and the images (checked by :func:`_attack`)."""

    targets: Targets
    c: Cs
    untargeted: bool
    labels: Targets
    warm_start: WarmStarts
    callback: ProgressCallback | None
    cancel: CancelFlag | None
    record_history: bool
    max_iter: int
    max_evaluations: int | None
    refine: bool | None
    candidates: int | None
    objective: str | None
    engine: str
    strategies: Strategies = DEFAULT
    confidence: float | None = None


def lbfgs_attack(model: nn.Module, image: Images, target: Targets = None, c: Cs = None, *, untargeted: bool = False,
                 labels: Targets = None, warm_start: WarmStarts = None, callback: ProgressCallback | None = None,
                 cancel: CancelFlag | None = None, record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER,
                 max_evaluations: int | None = None, device: str | torch.device | None = None, threads: int | None = 1,
                 refine: bool | None = None, candidates: int | None = None, objective: str | None = None,
                 engine: str = "batched", strategies: Strategies = DEFAULT,
                 confidence: float | None = None) -> AttackResult | AttackResults:
    """Attack one image (H, W) -> :class:`AttackResult`; a batch (N, H, W) or (N, C, H, W) -> :class:`AttackResults`.

    ``image``: float values in [0, 1] as a numpy array or torch tensor; the model takes (N, 1, H, W) for (H, W)
    images, else the images as given, and returns logits (N, K). ``target``: a class (int, numpy or 0-d torch
    scalar), for a batch one class for all or one per image; None with ``untargeted=True``, where ``labels``
    (one per image) may give the true classes. ``c``: None searches the smallest perturbation (minimal mode); a
    number (or one per image) solves once at that c. ``objective``: ``"paper"`` or ``"rival"`` (the module
    docstring; None: each mode's default; each result's ``objective`` says which it solved). ``warm_start``: a
    previous result (or perturbation) to start from, per image for a batch. ``callback(AttackProgress)`` is
    called after every solver iteration; ``cancel`` (a ``threading.Event`` or anything with ``is_set()``) is
    checked at the same moments and raises :class:`AttackCancelled`. ``max_iter`` bounds each solve;
    ``max_evaluations`` bounds the model evaluations (one forward+backward of one image): in minimal mode per
    image over its whole search (all its classes when untargeted), at fixed c and in the reference per (image,
    class) solve; the best answer found within it is returned (a line search under way may pass it by a few). In
    minimal mode a budget is also spent on precision: the search refines the boundary until the L2 left to gain
    is below 1e-6 of the answer's (1e-4 without one), so a budget it does not reach still buys a slightly
    smaller answer for a few evaluations more. ``device``: where the model and the solver run (None: the model's
    device). ``threads``: torch's intra-op threads during the call (None: leave torch's setting). Bad arguments
    raise AttackInputError; one image whose model already answers the target too (a batch flags such pairs
    instead: ``already_fooled``). ``engine``: ``"batched"`` (the default) or ``"reference"``, the paper's method
    one problem at a time, plainly and slowly (advviewer.attack.reference; the oracle the batched engine is
    tested against). ``strategies``: the engine's speed measures, each switchable (advviewer.attack.strategies).
    ``confidence``: a required probability p of the target: the answer must reach the logit margin
    objective.margin_goal(p, K), at which p(target) >= p whatever the other classes do (None: the decision
    boundary).
    """
    checked = check_images(image)
    request = AttackRequest(target, c, untargeted, labels, warm_start, callback, cancel, record_history, max_iter,
                            max_evaluations, refine, candidates, objective, engine, _checked_strategies(strategies),
                            check_confidence(confidence))
    results = _attack(model, checked, request, device, threads)
    return results[0] if checked.single else results


def lbfgs_attack_batch(model: nn.Module, images: Images, targets: Targets = None, c: Cs = None, *,
                       untargeted: bool = False, labels: Targets = None, warm_start: WarmStarts = None,
                       callback: ProgressCallback | None = None, cancel: CancelFlag | None = None,
                       record_history: bool = False, max_iter: int = DEFAULT_MAX_ITER, max_evaluations: int | None = None,
                       device: str | torch.device | None = None, threads: int | None = 1, refine: bool | None = None,
                       candidates: int | None = None, objective: str | None = None,
                       engine: str = "batched", strategies: Strategies = DEFAULT,
                       confidence: float | None = None) -> AttackResults:
    """Attack image ``i`` towards ``targets[i]`` for every i, all in one batched solve -> :class:`AttackResults`.

    As :func:`lbfgs_attack`, for a batch always: (N, D), (N, H, W) or (N, C, H, W). A pair whose
    model already gives the asked answer (the target; untargeted with ``labels``: another class
    than the label) is not solved: it comes back successful with a zero perturbation, 0
    evaluations and ``already_fooled`` set. ``candidates``: c values per image solved at once in
    minimal mode (default: more for fewer images, which lowers latency on one image; 1 with
    ``Strategies(several_c=False)``).
    """
    checked = check_images(images, batch=True)
    request = AttackRequest(targets, c, untargeted, labels, warm_start, callback, cancel, record_history, max_iter,
                            max_evaluations, refine, candidates, objective, engine, _checked_strategies(strategies),
                            check_confidence(confidence))
    return _attack(model, checked, request, device, threads)


def _checked_strategies(strategies: object) -> Strategies:
    if not isinstance(strategies, Strategies):
        raise AttackInputError(f"strategies must be an advviewer.attack.Strategies, not {type(strategies).__name__}")
    return strategies


def _attack(model, checked: CheckedImages, request: AttackRequest, device, threads: int | None) -> AttackResults:
    started = time.perf_counter()
    check_engine(request.engine, request.record_history)
    check_budget(request.max_evaluations, threads)
    if request.cancel is not None and request.cancel.is_set():
        raise AttackCancelled("attack cancelled")
    model, dev = prepare_model(model, device)
    with torch_threads(threads):
        call = _CallSetup.of(model, dev, checked, request)
        results: list[AttackResult | None] = [None] * call.n_images
        for i in np.flatnonzero(call.already).tolist():
            results[i] = _already_fooled(call, i)
        todo = np.flatnonzero(~call.already)
        if todo.size:
            solved = _solve(model, dev, call.subset(todo), request, started)
            for i, res in zip(todo.tolist(), solved):
                results[i] = res
    stacked = AttackResults.stack([r for r in results if r is not None], time.perf_counter() - started)
    return stacked.with_images_on(checked.tensor_device)


@dataclass(frozen=True)
class _CallSetup:
    """One call's images with the model's first answers, each image's checked target, warm start and c."""

    checked: CheckedImages
    z0: np.ndarray  # (N, K) float64 logits at the images
    targets: list  # per image: a class, or None (untargeted)
    warm: list  # per image: (start point or None, previous result or None)
    cs: np.ndarray | None
    already: np.ndarray  # (N,) bool: the model already gives the asked answer

    @property
    def n_images(self) -> int:
        return len(self.checked.pixels)

    @property
    def probs0(self) -> np.ndarray:
        e = np.exp(self.z0 - self.z0.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    @classmethod
    def of(cls, model, dev: torch.device, checked: CheckedImages, request: AttackRequest) -> _CallSetup:
        n, single = len(checked.pixels), checked.single
        z0 = _logits(model, dev, checked)
        orig = z0.argmax(1)
        raw = check_targets(request.targets, n, single)
        confident = request.confidence is not None
        targets = [check_target(t, int(orig[i]), request.untargeted, z0.shape[1], single, confident)
                   for i, t in enumerate(raw)]
        labels = check_labels(request.labels, n, request.untargeted, z0.shape[1])
        if labels is not None:
            already = np.array([label != o for label, o in zip(labels, orig.tolist())], dtype=bool)
        else:
            goal = margin_goal(request.confidence, z0.shape[1])
            already = np.array([t is not None and t == o and margin_np(z0[i], t)[0] >= goal
                                for i, (t, o) in enumerate(zip(targets, orig.tolist()))], dtype=bool)
        warm = [check_warm_start(w, checked.pixels[i])
                for i, w in enumerate(check_warm_starts(request.warm_start, n, single, checked.pixels.ndim - 1))]
        return cls(checked, z0, targets, warm, check_c(request.c, n, single), already)

    def subset(self, keep: np.ndarray) -> _CallSetup:
        """The images ``keep`` only (those with something to solve)."""
        checked = dataclasses.replace(self.checked, pixels=self.checked.pixels[keep])
        return _CallSetup(checked, self.z0[keep], [self.targets[i] for i in keep], [self.warm[i] for i in keep],
                          None if self.cs is None else self.cs[keep], self.already[keep])


def _logits(model, dev: torch.device, checked: CheckedImages) -> np.ndarray:
    """The model's logits (N, K) at the images, float64; a model that does not give (N, K >= 2) is refused."""
    x = torch.from_numpy(checked.pixels).to(dev).view(-1, *checked.input_shape)
    try:
        with torch.no_grad():
            z = model(x)
    except (RuntimeError, ValueError, TypeError) as e:
        raise AttackInputError(f"the model does not take images of shape {tuple(x.shape)}: "
                               f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[0] != len(x) or z.shape[1] < 2:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise AttackInputError(f"the model must return logits (N, K) with K >= 2 classes, got {got}")
    return z.to(torch.float64).cpu().numpy()


def _already_fooled(call: _CallSetup, i: int) -> AttackResult:
    """The answer of an image whose model already gives the asked answer: itself, successful, nothing solved."""
    x = call.checked.pixels[i]
    probs = call.probs0[i]
    answer = int(probs.argmax())
    res = AttackResult(adversarial=x.copy(), perturbation=np.zeros_like(x), success=True, c=0.0, l2=0.0, linf=0.0,
                       distortion=0.0, target=answer, original_class=answer, adversarial_class=answer,
                       original_probs=probs, adversarial_probs=probs, evaluations=0, iterations=0, seconds=0.0,
                       mode="minimal" if call.cs is None else "fixed-c", untargeted=call.targets[i] is None,
                       loss=PAPER_LOSS, original=x, already_fooled=True)
    res.message = message(res, call.cs is None)
    return res


def check_engine(engine: object, record_history: bool) -> None:
    """``engine`` is one of ENGINES (the reference engine records no history)."""
    if not isinstance(engine, str) or engine not in ENGINES:
        raise AttackInputError(f"engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}")
    if engine == "reference" and record_history:
        raise AttackInputError("the reference engine records no history; leave record_history off")


def _solve(model, dev: torch.device, call: _CallSetup, request: AttackRequest, started: float) -> list[AttackResult]:
    """Every (image, target) problem of the images in ``call`` solved, and each image's answer."""
    checked, n_img = call.checked, call.n_images
    objective = check_objective(request.objective, request.refine, call.cs is None)
    x_img = torch.from_numpy(checked.pixels.reshape(n_img, -1)).to(dev, torch.float64)
    orig = call.z0.argmax(1)
    img_of, tgt = build_problems(model, x_img, orig, call.targets, [w[1] for w in call.warm], call.cs is None, objective,
                                 checked.input_shape, call.z0.shape[1])
    img_arr = np.asarray(img_of)
    rows = torch.from_numpy(img_arr).to(dev)
    start = x_img[rows].clone()
    for p, i in enumerate(img_of):
        warm_x = call.warm[i][0]
        if warm_x is not None:
            start[p] = torch.from_numpy(warm_x.reshape(-1)).to(dev, torch.float64)
    goal = np.full(len(tgt), margin_goal(request.confidence, call.z0.shape[1]))
    problems = Problems(x_img[rows], np.asarray(tgt), call.z0[img_arr], start, img_arr, checked.input_shape,
                        checked.image_shape, goal if request.confidence is not None else None)
    history = History(checked.image_shape) if request.record_history else None
    found, settled = _run_engine(model, dev, problems, call, request, objective, history)
    per_image = np.zeros(n_img)
    np.maximum.at(per_image, img_arr, settled - started)
    image_call = ImageProblems(checked.pixels, call.probs0, img_of, tgt, request.untargeted, call.cs is None,
                               checked.input_shape, goal, request.confidence)
    return image_results(model, image_call, found, per_image, history, start)


def _run_engine(model, dev, problems: Problems, call: _CallSetup, request: AttackRequest, objective: str | None,
                history: History | None) -> tuple[list[Solved], np.ndarray]:
    """The problems solved by the chosen engine in the chosen mode: each one's :class:`Solved`, and when it settled."""
    hook = progress_hook(request.callback, request.cancel, problems)
    use = request.strategies
    solver = SolverOptions(max_iter=check_max_iter(request.max_iter), keep_gram=use.kept_gram)
    keep_state = call.n_images <= KEEP_STATE_UP_TO
    previous = [call.warm[i][1] for i in problems.img_of]
    n_problems = len(problems.target)
    if request.engine == "reference":
        plain = ReferenceOptions(max_iter=solver.max_iter, max_evaluations=request.max_evaluations,
                                 sharpen=use.sharpened_rival)
        found = _reference(model, problems, call.cs, previous, objective, hook, plain)
        return found, np.full(n_problems, time.perf_counter())
    if call.cs is None:
        k = request.candidates or (max(1, min(3, 6 // n_problems)) if use.several_c else 1)
        if use.batch_memory and n_problems >= BATCH_MEMORY_FROM and not keep_state:  # (kept states: default memory)
            solver = dataclasses.replace(solver, memory=BATCH_MEMORY)
        opts = SearchOptions(candidates=k, refine=objective == RIVAL, solver=solver, max_evaluations=request.max_evaluations,
                             warm_starts=use.warm_starts, polish_ends=use.polish_ends, sharpen=use.sharpened_rival)
        if request.max_evaluations is not None:  # a budget is spent on precision (c_bracket.BUDGET_RTOL)
            opts = dataclasses.replace(opts, rtol=BUDGET_RTOL)
        return run_minimal(model, problems, opts, hook, history, keep_state)
    losses = fixed_losses(objective, previous, problems.target, problems.z0, problems.goal)
    return run_fixed(model, problems, call.cs[problems.img_of], previous, losses, solver, hook, history, keep_state,
                     request.max_evaluations, use.sharpened_rival)


def _reference(model, problems: Problems, cs, previous, objective, hook, opts: ReferenceOptions) -> list[Solved]:
    """Every problem solved by the reference method (advviewer.attack.reference), with each mode's loss."""
    if cs is None:
        tau = (initial_tau(problems.z0, problems.target, goal=problems.goal) if objective == RIVAL
               else np.full(len(problems.target), np.nan))
        return reference_answers(model, problems, None, tau, hook, opts)
    losses = fixed_losses(objective, previous, problems.target, problems.z0, problems.goal)
    return reference_answers(model, problems, cs[problems.img_of], losses.tau, hook, opts)
