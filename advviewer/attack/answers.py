"""Each image's answer from its solves (one per target for an untargeted attack), as AttackResults."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from advviewer.attack.result import AttackResult


def image_results(model, device, images: np.ndarray, probs0: np.ndarray, img_of: list[int], tgt: list[int], found: list[dict],
                  untargeted: bool, minimal: bool, seconds: np.ndarray, history, start: np.ndarray) -> list[AttackResult]:
    """Classify every final image once (as returned: float32) and pick each image's answer.

    ``found[p]``: problem p's solve (x, c, row, evaluations, iterations, loss, tau); ``img_of[p]``
    its image, ``tgt[p]`` its target; ``seconds[i]``: image i's latency within the call.
    """
    xs = np.stack([f["x"] for f in found]).astype(np.float32).reshape(-1, 28, 28)
    with torch.no_grad():
        probs = F.softmax(model(torch.from_numpy(xs).to(device)[:, None]).to(torch.float64), 1).cpu().numpy()
    by_image: list[list[int]] = [[] for _ in range(len(images))]
    for p, i in enumerate(img_of):
        by_image[i].append(p)
    results = []
    for i, ps in enumerate(by_image):
        ok = [p for p in ps if probs[p].argmax() == tgt[p]]
        norms = {p: float(np.linalg.norm(xs[p] - images[i])) for p in ps}
        best = min(ok, key=lambda p: norms[p]) if ok else max(ps, key=lambda p: probs[p][tgt[p]])
        f = found[best]
        adv = xs[best]
        r = adv - images[i]
        l2 = float(np.linalg.norm(r))
        hist = None
        if history is not None:
            hist = [start[best].astype(np.float32).reshape(28, 28)] + history.chain(f["row"])
        res = AttackResult(
            adversarial=adv, perturbation=r, success=bool(ok), c=f["c"], l2=l2, linf=float(np.abs(r).max()),
            distortion=l2 / 28.0, target=tgt[best], original_class=int(probs0[i].argmax()),
            adversarial_class=int(probs[best].argmax()), original_probs=probs0[i], adversarial_probs=probs[best],
            evaluations=sum(found[p]["evaluations"] for p in ps), iterations=sum(found[p]["iterations"] for p in ps),
            seconds=float(seconds[i]), history=hist, mode="minimal" if minimal else "fixed-c", untargeted=untargeted,
            loss=f["loss"], tau=f["tau"], original=images[i], state=f.get("state"))
        res.message = message(res, minimal)
        results.append(res)
    return results


def message(res: AttackResult, minimal: bool) -> str:
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
