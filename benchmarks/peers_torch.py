"""Batched, targeted minimal-L2 peers in plain torch: DDN (Rony et al. 2019) and FMN-L2 (Pintor et al. 2021).

benchmarks/bench_gpu.py runs them on the machine with a GPU, which has torch, numpy and pillow and
nothing else: no adv-lib, no foolbox. They are written here, step for step after adv-lib 0.2.8
(Jérôme Rony's library, whose FMN is adapted from the FMN authors' repository):

- :func:`ddn`: adv-lib's ``attacks.decoupled_direction_norm.ddn`` with ``targeted=True``. The
  benchmark passes ``levels=None`` (adv-lib's default, 256, rounds every iterate to 8-bit grey levels,
  which costs L2 in a minimal-norm comparison); ``advviewer/explore/baselines.py`` has DDN for one
  problem at a time only (foolbox's step, shape (1, 1, 28, 28)), so it cannot serve a batch.
- :func:`fmn_l2`: adv-lib's ``attacks.fast_minimum_norm.fmn`` with ``norm=2, targeted=True`` and no
  starting points. As in adv-lib (and the authors' code), the L2 "projection" rescales delta onto the
  sphere of radius epsilon (``delta * eps / ||delta||``, then values clamped at 1), not onto the ball
  the paper's Algorithm 1 names; this is what the published numbers were measured with.

Both return the smallest adversarial input seen over the steps (the original where none was found),
as adv-lib does. Inputs: any (N, ...) float tensor in [0, 1], on any device; ``targets`` (N,) int64
on the same device; the model maps the batch to logits (N, K).

Agreement with adv-lib (a throwaway install, never a dependency of the benchmark)::

    pip install --target /tmp/advlib-inst adv-lib --no-deps
    PYTHONPATH=/tmp/advlib-inst python3 benchmarks/peers_torch.py --check-adv-lib [--digits 10] [--models cnn,cifar]

runs both implementations on the same pairs of bench_gpu.py's models on the CPU and prints, per attack and step count,
the largest difference of the returned images and of the per-pair L2, and the success agreement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _batch_view(tensor: Tensor, like: Tensor) -> Tensor:
    return tensor.view(len(like), *[1] * (like.ndim - 1))


def ddn(model: nn.Module, inputs: Tensor, targets: Tensor, steps: int = 100, gamma: float = 0.05, init_norm: float = 1.0,
        levels: int | None = None) -> Tensor:
    """Targeted Decoupled Direction and Norm: step along the normalised gradient of -CE(target), then
    rescale the perturbation to an L2 norm eps that shrinks by (1 - gamma) while the point fools the
    model and grows by (1 + gamma) while it does not; cosine-annealed step size 1 -> 0.01."""
    delta = torch.zeros_like(inputs, requires_grad=True)
    eps = torch.full((len(inputs),), init_norm, device=inputs.device, dtype=torch.float)
    worst_norm = torch.max(inputs, 1 - inputs).flatten(1).norm(p=2, dim=1)
    best_l2 = worst_norm.clone()
    best_adv = inputs.clone()
    for i in range(steps):
        l2 = delta.data.flatten(1).norm(p=2, dim=1)
        adv_inputs = inputs + delta
        logits = model(adv_inputs)
        is_adv = logits.argmax(1) == targets
        loss = -F.cross_entropy(logits, targets, reduction="none")
        is_both = is_adv & (l2 < best_l2)
        best_l2 = torch.where(is_both, l2, best_l2)
        best_adv = torch.where(_batch_view(is_both, inputs), adv_inputs.detach(), best_adv)

        grad = torch.autograd.grad(loss.sum(), delta, only_inputs=True)[0]
        grad_norms = grad.flatten(1).norm(p=2, dim=1)
        grad.div_(_batch_view(grad_norms, inputs))
        if (zero_grad := grad_norms < 1e-12).any():  # a vanishing gradient: a random direction, as adv-lib
            grad[zero_grad] = torch.randn_like(grad[zero_grad])
        alpha = 0.01 + (1 - 0.01) * (1 + math.cos(math.pi * i / steps)) / 2
        delta.data.add_(grad, alpha=alpha)

        eps = torch.where(is_adv, (1 - gamma) * eps, (1 + gamma) * eps)
        eps = torch.minimum(eps, worst_norm)
        delta.data.mul_(_batch_view(eps / delta.data.flatten(1).norm(p=2, dim=1), inputs))
        delta.data.add_(inputs).clamp_(min=0, max=1)
        if levels is not None:
            delta.data.mul_(levels - 1).round_().div_(levels - 1)
        delta.data.sub_(inputs)
    return best_adv


def _logit_margin(logits: Tensor, targets: Tensor, targets_infhot: Tensor) -> Tensor:
    """The target's logit minus the largest other logit (adv-lib's ``difference_of_logits``)."""
    target_logits = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    return target_logits - (logits - targets_infhot).amax(dim=1)


def fmn_l2(model: nn.Module, inputs: Tensor, targets: Tensor, steps: int = 1000, alpha_init: float = 1.0,
           alpha_final: float | None = None, gamma_init: float = 0.05, gamma_final: float = 0.001) -> Tensor:
    """Targeted Fast Minimum-Norm, L2: a normalised gradient step on the logit margin, then the
    perturbation rescaled to a norm eps that shrinks towards the best norm found while the point fools
    the model, and before the first success jumps to the linearised distance to the boundary
    (||delta|| + |margin| / ||grad||); alpha and gamma cosine-annealed."""
    alpha_final = alpha_init / 100 if alpha_final is None else alpha_final
    delta = torch.zeros_like(inputs, requires_grad=True)
    eps = torch.full((len(inputs),), float("inf"), device=inputs.device)
    worst_norm = torch.maximum(inputs, 1 - inputs).flatten(1).norm(p=2, dim=1)
    best_norm = worst_norm.clone()
    best_adv = inputs.clone()
    adv_found = torch.zeros(len(inputs), dtype=torch.bool, device=inputs.device)
    targets_infhot: Tensor | None = None
    for i in range(steps):
        cosine = (1 + math.cos(math.pi * i / steps)) / 2
        alpha = alpha_final + (alpha_init - alpha_final) * cosine
        gamma = gamma_final + (gamma_init - gamma_final) * cosine

        delta_norm = delta.data.flatten(1).norm(p=2, dim=1)
        adv_inputs = inputs + delta
        logits = model(adv_inputs)
        if targets_infhot is None:
            targets_infhot = torch.zeros_like(logits).scatter_(1, targets.unsqueeze(1), float("inf"))
        loss = _logit_margin(logits, targets, targets_infhot)
        grad = torch.autograd.grad(loss.sum(), delta, only_inputs=True)[0]

        is_adv = logits.argmax(dim=1) == targets
        is_both = is_adv & (delta_norm < best_norm)
        adv_found.logical_or_(is_adv)
        best_norm = torch.where(is_both, delta_norm, best_norm)
        best_adv = torch.where(_batch_view(is_both, inputs), adv_inputs.detach(), best_adv)

        distance_to_boundary = loss.detach().abs_().div_(grad.flatten(1).norm(p=2, dim=1).clamp_(min=1e-12))
        eps = torch.where(is_adv, torch.minimum(eps * (1 - gamma), best_norm),
                          torch.where(adv_found, eps * (1 + gamma), delta_norm + distance_to_boundary))
        eps = torch.minimum(eps, worst_norm)

        grad_l2_norms = grad.flatten(1).norm(p=2, dim=1).clamp_(min=1e-12)
        delta.data.addcdiv_(grad, _batch_view(grad_l2_norms, inputs), value=alpha)
        flat = delta.data.flatten(1)  # adv-lib's l2_projection_: onto the sphere of radius eps, values <= 1
        flat.mul_(eps.unsqueeze(1) / flat.norm(p=2, dim=1, keepdim=True).clamp_(min=1e-12)).clamp_(max=1)
        delta.data.add_(inputs).clamp_(min=0, max=1).sub_(inputs)
    return best_adv


def _load_adv_lib():
    """adv-lib's ddn and fmn without its package ``__init__`` (which needs torchvision) and with a stub
    visdom (only its logger, unused here, imports it)."""
    import importlib
    import importlib.util
    import sys
    import types

    sys.modules.setdefault("visdom", types.ModuleType("visdom"))
    spec = importlib.util.find_spec("adv_lib")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("adv-lib is not importable: pip install --target /tmp/advlib-inst adv-lib --no-deps; "
                         "PYTHONPATH=/tmp/advlib-inst python3 benchmarks/peers_torch.py --check-adv-lib")
    root = list(spec.submodule_search_locations)[0]
    attacks = types.ModuleType("adv_lib.attacks")
    attacks.__path__ = [f"{root}/attacks"]
    sys.modules["adv_lib.attacks"] = attacks
    ddn_mod = importlib.import_module("adv_lib.attacks.decoupled_direction_norm")
    fmn_mod = importlib.import_module("adv_lib.attacks.fast_minimum_norm")
    return ddn_mod.ddn, fmn_mod.fmn


def check_adv_lib(model_name: str, n_images: int, step_counts: tuple[int, ...]) -> list[dict]:
    """Ours and adv-lib's DDN and FMN-L2 on the same pairs of bench_gpu.py (``cnn`` or ``cifar``: the
    first correctly classified images x their 9 other classes), CPU, one thread: the differences, per
    attack and step count."""
    import bench_gpu

    their_ddn, their_fmn = _load_adv_lib()
    torch.set_num_threads(1)
    cpu = torch.device("cpu")
    problems = bench_gpu.cnn_problems(n_images, cpu) if model_name == "cnn" else bench_gpu.cifar_problems(n_images, cpu, 23)
    model, x, tgt = problems.model, problems.x, problems.targets
    print(f"{model_name}: {len(x)} pairs", flush=True)
    runs = []
    for steps in step_counts:
        pairs = [("DDN", lambda: ddn(model, x, tgt, steps=steps),
                  lambda: their_ddn(model, x, tgt, targeted=True, steps=steps, levels=None)),
                 ("FMN-L2", lambda: fmn_l2(model, x, tgt, steps=steps),
                  lambda: their_fmn(model, x, tgt, norm=2, targeted=True, steps=steps))]
        for name, ours_fn, theirs_fn in pairs:
            torch.manual_seed(0)
            ours = ours_fn()
            torch.manual_seed(0)
            theirs = theirs_fn()
            runs.append(_agreement(f"{name}-{steps}", model, x, tgt, ours, theirs))
            print(_agreement_line(runs[-1]), flush=True)
    return runs


def _agreement(name: str, model: nn.Module, x: Tensor, tgt: Tensor, ours: Tensor, theirs: Tensor) -> dict:
    with torch.no_grad():
        ok_ours = model(ours).argmax(1) == tgt
        ok_theirs = model(theirs).argmax(1) == tgt
    l2_ours = (ours - x).flatten(1).norm(dim=1).double()
    l2_theirs = (theirs - x).flatten(1).norm(dim=1).double()
    both = ok_ours & ok_theirs
    rel = ((l2_ours - l2_theirs).abs() / l2_theirs.clamp_min(1e-12))[both]
    return {"attack": name, "pairs": len(x), "success_ours": int(ok_ours.sum()), "success_adv_lib": int(ok_theirs.sum()),
            "success_agree": int((ok_ours == ok_theirs).sum()), "max_abs_image_diff": float((ours - theirs).abs().max()),
            "identical_pairs": int(((ours - theirs).flatten(1).abs().amax(1) == 0).sum()),
            "max_rel_l2_diff": float(rel.max()) if len(rel) else 0.0,
            "median_l2_ours": float(l2_ours[ok_ours].median()) if ok_ours.any() else float("nan"),
            "median_l2_adv_lib": float(l2_theirs[ok_theirs].median()) if ok_theirs.any() else float("nan")}


def _agreement_line(a: dict) -> str:
    return (f"{a['attack']:>10}: {a['pairs']} pairs, success ours {a['success_ours']} adv-lib {a['success_adv_lib']} "
            f"(agree on {a['success_agree']}), identical images {a['identical_pairs']}/{a['pairs']}, "
            f"max |image diff| {a['max_abs_image_diff']:.3g}, max relative L2 diff {a['max_rel_l2_diff']:.3g}, "
            f"median L2 ours {a['median_l2_ours']:.5f} adv-lib {a['median_l2_adv_lib']:.5f}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check-adv-lib", action="store_true", required=True,
                        help="compare with adv-lib's ddn and fmn (adv-lib on PYTHONPATH, a throwaway install)")
    parser.add_argument("--models", default="cnn,cifar", help="bench_gpu.py's models to check on (default cnn,cifar)")
    parser.add_argument("--digits", type=int, default=10, help="images per model, each x its 9 other classes (default 10)")
    parser.add_argument("--steps", default="100,1000", help="comma-separated step counts (default 100,1000)")
    args = parser.parse_args()
    for name in args.models.split(","):
        check_adv_lib(name, args.digits, tuple(int(s) for s in args.steps.split(",")))
