"""Each problem's solve (:class:`Solved`), and each image's answer from its solves (one per target for an
untargeted attack), as AttackResults."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from advviewer.attack.result import AttackResult


@dataclass
class Solved:
    """What one (image, target) problem's solve ended with, by either engine."""

    x: torch.Tensor  # (n,) float64, the answer's image (flattened) on the solver's device
    c: float
    row: int  # the objective row that gave it (the history's key; -1: none)
    evaluations: int
    iterations: int
    loss: str
    tau: float | None
    state: object | None = None  # runs.SolverState, for warm starts from the result
    z: np.ndarray | None = None  # (K,) the logits at x, where the solver kept them
    already: bool = False  # the model already gave the asked answer at the start: nothing was solved


@dataclass(frozen=True)
class ImageProblems:
    """The images of a call and their problems: ``img_of[p]`` is problem p's image, ``tgt[p]`` its class."""

    images: np.ndarray  # (N, *input_shape) float32
    probs0: np.ndarray  # (N, K) the model's probabilities at the images
    img_of: list[int]
    tgt: list[int]
    untargeted: bool
    minimal: bool
    input_shape: tuple[int, ...]  # what the model takes per image
    goal: np.ndarray  # (P,) each problem's required logit margin (0: the decision boundary)
    confidence: float | None  # the required p(target) the goal stands for (None: none)

    def fooled(self, p: int, probs: np.ndarray) -> bool:
        """Whether the model's probabilities ``probs`` (K,) give problem ``p``'s target with its required margin."""
        if self.goal[p] <= 0:
            return bool(probs.argmax() == self.tgt[p])
        with np.errstate(divide="ignore"):
            logp = np.log(probs)
        return bool(logp[self.tgt[p]] - np.delete(logp, self.tgt[p]).max() >= self.goal[p])


def image_results(model, call: ImageProblems, found: list[Solved], seconds: np.ndarray, history,
                  start: torch.Tensor) -> list[AttackResult]:
    """Classify every final image once (as returned: float32) and pick each image's answer.

    ``seconds[i]``: image i's latency within the call; ``start``: each problem's start point (P, n).
    """
    shape = call.images.shape[1:]
    xs_dev = torch.stack([f.x for f in found]).to(torch.float32)
    with torch.no_grad():
        probs = F.softmax(model(xs_dev.view(-1, *call.input_shape)).to(torch.float64), 1).cpu().numpy()
    xs = xs_dev.cpu().numpy().reshape(-1, *shape)
    by_image: list[list[int]] = [[] for _ in range(len(call.images))]
    for p, i in enumerate(call.img_of):
        by_image[i].append(p)
    results = []
    for i, ps in enumerate(by_image):
        best = _answer(call, ps, probs, xs, i)
        f = found[best]
        hist = hist_c = None
        if history is not None:  # step 0 is the start point, before any solve: no c
            hist = [start[best].to(torch.float32).cpu().numpy().reshape(shape)] + history.chain(f.row)
            hist_c = [float("nan")] + history.chain_c(f.row)
        results.append(_result(call, i, ps, best, found, probs, xs[best], hist))
        results[-1].history_c = hist_c
        results[-1].seconds = float(seconds[i])
    return results


def _answer(call: ImageProblems, ps: list[int], probs: np.ndarray, xs: np.ndarray, i: int) -> int:
    """The problem whose answer image ``i`` returns: the smallest that fools the model, else the closest attempt."""
    ok = [p for p in ps if call.fooled(p, probs[p])]
    if not ok:
        return max(ps, key=lambda p: probs[p][call.tgt[p]])
    return min(ok, key=lambda p: float(np.linalg.norm(xs[p] - call.images[i])))


def _result(call: ImageProblems, i: int, ps: list[int], best: int, found: list[Solved], probs: np.ndarray,
            adv: np.ndarray, hist) -> AttackResult:
    f = found[best]
    r = adv - call.images[i]
    l2 = float(np.linalg.norm(r))
    ok = call.fooled(best, probs[best])
    res = AttackResult(
        adversarial=adv, perturbation=r, success=ok, c=f.c, l2=l2, linf=float(np.abs(r).max()),
        distortion=l2 / np.sqrt(r.size), target=call.tgt[best], original_class=int(call.probs0[i].argmax()),
        adversarial_class=int(probs[best].argmax()), original_probs=call.probs0[i], adversarial_probs=probs[best],
        evaluations=sum(found[p].evaluations for p in ps), iterations=sum(found[p].iterations for p in ps),
        seconds=0.0, history=hist, mode="minimal" if call.minimal else "fixed-c", untargeted=call.untargeted,
        loss=f.loss, tau=f.tau, original=call.images[i], state=f.state, already_fooled=f.already,
        confidence=call.confidence)
    res.message = message(res, call.minimal)
    return res


def message(res: AttackResult, minimal: bool) -> str:
    to = "the nearest other class" if res.untargeted else f"class {res.target}"
    if res.already_fooled:
        return (f"nothing to do: the model already answers {res.adversarial_class} for this image "
                f"({'not its label' if res.untargeted else 'the target'}); the perturbation is zero")
    if res.success:
        how = "the smallest c that fools it" if minimal else "the chosen c"
        if res.confidence is not None:
            how = f"the smallest c that reaches p >= {res.confidence:g}" if minimal else "the chosen c"
        reached = f"class {res.target} (the nearest other class)" if res.untargeted else f"class {res.target}"
        return (f"the model now answers {reached} with probability {res.adversarial_probs[res.target]:.3f}, "
                f"at c = {res.c:.4g} ({how}); L2 {res.l2:.4f}, distortion {res.distortion:.4f}")
    if minimal:
        return (f"failed: could not reach {to} within the budget (c up to {res.c:.3g}); the model still answers "
                f"{res.adversarial_class}, target probability {res.adversarial_probs[res.target]:.3f}")
    return (f"not adversarial at c={res.c:.4g}: the model answers {res.adversarial_class} "
            f"(target {res.target} has p={res.adversarial_probs[res.target]:.3f}); a larger c pulls harder")
