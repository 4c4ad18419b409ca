"""The attack against DDN and FMN on one device, all pairs in one batch each (issue 23, item 6).

    python3 benchmarks/bench_gpu.py [--device cuda|cpu] [--digits 1000] [--models cnn,cifar]
        [--peers DDN-100,DDN-1000,FMN-1000] [--threads 1] [--api auto|old|new] [--label NAME] [--out benchmarks/results]

    # on the lent GPU machine (torch, numpy and pillow only), from the source tree, files back through $OUT:
    python3 benchmarks/bench_gpu.py --label h100 --out "$OUT/bench_gpu-h100.json"
    # the quick check on a CPU (about 2 minutes on a loaded 2-core machine):
    python3 benchmarks/bench_gpu.py --device cpu --digits 5

For each model, every pair (image, target) of the first ``--digits`` correctly classified images x
the 9 other classes:

- ``cnn``: the zoo's cnn (``advviewer.load_model("cnn")``) on the bundled test digits
  (``advviewer.load_digits("test")``, 1,000 digits no zoo model was trained on), (N, 1, 28, 28);
- ``cifar``: a small convnet on 3x32x32 inputs (CIFAR-10's size), defined below (:func:`cifar_net`) and
  fitted for a few seconds on the CPU, with fixed seeds, to synthetic images in [0, 1]
  (:func:`synthetic_cifar`: ten classes, a disc of one of five hues in the left or the right half,
  over a smooth random colour field crossed by a faint grating, with pixel noise; no download).
  Not CIFAR-10's pictures: a stand-in of its size that the machine without a network can make.

Methods, each one batched call over all pairs on the same device, timed as wall clock with the
device synchronised (after a short warm-up of each on the same batch shape):

- ours: ``lbfgs_attack_batch(model, images, targets)``, minimal mode (no c);
- DDN-100, DDN-1000 (Rony et al. 2019) and FMN-1000 (Pintor et al. 2021, L2), targeted, from
  benchmarks/peers_torch.py: adv-lib 0.2.8's algorithms written out in torch (no adv-lib or foolbox
  on the GPU machine), DDN without adv-lib's 8-bit rounding; ``peers_torch.py --check-adv-lib``
  compares them with adv-lib's own code.

Every method's answer is checked here the same way: the model's class on the returned image and
its L2 distance to the original (float64), a pair counting as solved only if the class is the
target. Reported per model: time per pair, success, L2 (median), the ratio ours / best of the peers
per pair (median, p95, max), and on CUDA the peak GPU memory of each method
(``torch.cuda.max_memory_allocated``, reset before each). JSON (with every pair's L2) and a markdown
table in ``--out``.

Runs from the source tree with torch, numpy and pillow only (advviewer's core, nothing else). The 3x32x32
model needs the generalised attack API (images (N, C, H, W), ``threads=``, ``max_evaluations=``;
``--api auto`` detects it by lbfgs_attack_batch's signature); on a checkout without it (before/after
figures), ``cifar`` runs the peers only and reports ours as waiting for it, and cnn is attacked by
the older (N, 28, 28) numpy call (``--api old`` forces that call, ``--api new`` the generalised one).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the source tree's advviewer, not an installed one
sys.path.insert(0, str(HERE))

from peers_torch import ddn, fmn_l2  # noqa: E402

import advviewer  # noqa: E402

NOT_EXPECTED = ("PySide6", "pyqtgraph", "psygnal", "scipy", "foolbox", "eagerpy", "adv_lib")
GENERALISED_PARAMETERS = ("threads", "max_evaluations")  # the signature of the generalised API (issue 23, item 5)
NEEDS_NEW_API = "needs the generalised API (lbfgs_attack_batch taking (N, C, H, W) images); not run"
CIFAR_TRAIN, CIFAR_FIT_STEPS, CIFAR_FIT_BATCH, CIFAR_FIT_LR = 2048, 150, 64, 1e-2  # ~5 s on one core, ~92% held out
EVAL_CHUNK = 2048
UNSOLVED = 1e300  # stands for inf inside percentiles


def lbfgs_attack_batch_function() -> Callable:
    exported = getattr(advviewer, "lbfgs_attack_batch", None)
    if exported is not None:
        return exported
    from advviewer.attack import lbfgs_attack_batch

    return lbfgs_attack_batch


def has_generalised_api(api: str) -> bool:
    """``--api auto``: the generalised API when lbfgs_attack_batch's signature has its new parameters."""
    if api != "auto":
        return api == "new"
    parameters = inspect.signature(lbfgs_attack_batch_function()).parameters
    return all(p in parameters for p in GENERALISED_PARAMETERS)


# ---------------------------------------------------------------- the problems


@dataclass
class Problems:
    """All pairs of one model: image ``x[i]`` towards class ``targets[i]`` (tensors on the device)."""

    model_name: str
    description: str
    model: nn.Module
    x: Tensor  # (pairs, C, H, W) float32 in [0, 1]
    targets: Tensor  # (pairs,) int64
    images: int  # distinct images
    image_of: np.ndarray  # (pairs,) each pair's image: its index in the test split (cnn) or the generated set (cifar)


def all_pairs(name: str, description: str, model: nn.Module, images: np.ndarray, labels: np.ndarray, n: int,
              device: torch.device) -> Problems:
    """The first ``n`` correctly classified images, each towards the 9 other classes."""
    with torch.no_grad():
        answers = torch.cat([model(torch.as_tensor(images[i:i + EVAL_CHUNK])).argmax(1) for i in range(0, len(images), EVAL_CHUNK)])
    correct = np.flatnonzero(answers.numpy() == labels)[:n]
    classes = int(labels.max()) + 1
    image_of = np.repeat(correct, classes - 1)
    targets = np.array([t for i in correct for t in range(classes) if t != labels[i]], dtype=np.int64)
    return Problems(name, description, model.to(device), torch.as_tensor(images[image_of]).to(device),
                    torch.as_tensor(targets).to(device), len(correct), image_of)


def cnn_problems(n: int, device: torch.device) -> Problems:
    digits, labels = advviewer.load_digits("test")
    description = "zoo cnn, bundled MNIST test digits (1,000 held out), (N, 1, 28, 28)"
    return all_pairs("cnn", description, advviewer.load_model("cnn"), digits[:, None], labels, n, device)


def cifar_net() -> nn.Sequential:
    """A small convnet for 3x32x32 inputs, the zoo cnn's style: 3 conv (16-32-64) + 2 linear, ~2.9M MAC per image."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.SiLU(), nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.SiLU(), nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.SiLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.SiLU(), nn.Linear(128, 10))


def synthetic_cifar(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 3, 32, 32) float32 in [0, 1] and their labels. Class k: a soft disc of hue
    (k // 2) / 5 (jittered), in the left half of the picture for even k and the right half for odd k
    (random place and radius), over a smooth random colour field (4x4 noise upsampled) crossed by a
    faint grating of random angle, plus pixel noise (sigma 0.03): colour and place, so the net must
    use where things are, not only the mean colour."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    cx = 0.15 + 0.25 * torch.rand(n, generator=g) + 0.45 * (labels % 2)
    cy, radius = 0.2 + 0.6 * torch.rand(n, generator=g), 0.12 + 0.1 * torch.rand(n, generator=g)
    yy, xx = torch.meshgrid((torch.arange(32) + 0.5) / 32, (torch.arange(32) + 0.5) / 32, indexing="ij")
    distance = ((xx[None] - cx[:, None, None]) ** 2 + (yy[None] - cy[:, None, None]) ** 2).sqrt()
    disc = torch.sigmoid((radius[:, None, None] - distance) * 60)[:, None]
    hue = (labels // 2) / 5 + 0.03 * torch.randn(n, generator=g)
    colour = (0.5 + 0.5 * torch.cos(2 * math.pi * (hue[:, None] - torch.tensor([0.0, 1 / 3, 2 / 3]))))[:, :, None, None]
    angle, phase = math.pi * torch.rand(n, generator=g), 2 * math.pi * torch.rand(n, generator=g)
    along = xx[None] * torch.cos(angle)[:, None, None] + yy[None] * torch.sin(angle)[:, None, None]
    grating = (0.1 * torch.sin(2 * math.pi * 4 * along + phase[:, None, None]))[:, None]
    field = nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=32, mode="bilinear", align_corners=False)
    background = 0.2 + 0.6 * field + grating
    images = disc * (0.85 * colour + 0.1) + (1 - disc) * background + 0.03 * torch.randn(n, 3, 32, 32, generator=g)
    return images.clamp(0, 1).numpy().astype(np.float32), labels.numpy().astype(np.int64)


def fit_cifar_net(seed: int) -> tuple[nn.Sequential, float]:
    """cifar_net fitted on the CPU (the same weights whatever --device) for CIFAR_FIT_STEPS Adam steps; its test accuracy."""
    torch.manual_seed(seed)
    model = cifar_net()
    x, y = synthetic_cifar(CIFAR_TRAIN, seed + 1)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    optimiser = torch.optim.Adam(model.parameters(), lr=CIFAR_FIT_LR)
    g = torch.Generator().manual_seed(seed + 2)
    for _ in range(CIFAR_FIT_STEPS):
        batch = torch.randint(0, CIFAR_TRAIN, (CIFAR_FIT_BATCH,), generator=g)
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        optimiser.step()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    test_x, test_y = synthetic_cifar(1000, seed + 3)
    with torch.no_grad():
        accuracy = float((model(torch.as_tensor(test_x)).argmax(1).numpy() == test_y).mean())
    return model, accuracy


def cifar_problems(n: int, device: torch.device, seed: int) -> Problems:
    started = time.perf_counter()
    model, accuracy = fit_cifar_net(seed)
    images, labels = synthetic_cifar(max(2 * n, 100), seed + 4)
    description = (f"3x32x32 convnet (conv 16-32-64, SiLU, avg-pool, linear 1024-128-10; 2.9M MAC/image) fitted with seed {seed} "
                   f"for {CIFAR_FIT_STEPS} Adam steps ({time.perf_counter() - started:.1f} s on the CPU) to synthetic 3x32x32 "
                   f"images in [0, 1] (ten classes: a disc of one of 5 hues in the left or right half, over a smooth random colour "
                   f"field with a faint grating, pixel noise; benchmarks/bench_gpu.py synthetic_cifar), held-out accuracy "
                   f"{accuracy:.1%}; attacked: fresh images of the same generator (seed {seed + 4})")
    return all_pairs("cifar", description, model, images, labels, n, device)


# ---------------------------------------------------------------- the methods


@dataclass
class Timing:
    """One timed call: wall seconds (the device synchronised), this process's CPU seconds, peak CUDA memory."""

    seconds: float = math.nan
    cpu_seconds: float = math.nan
    peak_gpu_mb: float | None = None  # torch.cuda.max_memory_allocated during the call
    peak_gpu_above_start_mb: float | None = None  # ... less what was allocated before it (model, inputs)


@dataclass
class MethodRun:
    """One method on all pairs: its timing, each pair's L2 (inf where the model does not answer the target)."""

    name: str
    timing: Timing = field(default_factory=Timing)
    l2: np.ndarray | None = None
    note: str = ""  # why it was not run, or what went wrong


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Tensor], device: torch.device) -> tuple[Tensor, Timing]:
    """``fn()``'s adversarial images and its :class:`Timing`."""
    synchronise(device)
    start_mb = None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start_mb = torch.cuda.memory_allocated(device) / 2**20
    started, cpu_started = time.perf_counter(), time.process_time()
    adversarial = fn()
    synchronise(device)
    timing = Timing(time.perf_counter() - started, time.process_time() - cpu_started)
    if start_mb is not None:
        timing.peak_gpu_mb = torch.cuda.max_memory_allocated(device) / 2**20
        timing.peak_gpu_above_start_mb = timing.peak_gpu_mb - start_mb
    return adversarial, timing


def l2_if_fooled(p: Problems, adversarial: Tensor) -> np.ndarray:
    """Each pair's L2 (float64) where the model answers the target on an image inside the box, else inf."""
    adversarial = adversarial.to(p.x.device, torch.float32).reshape(p.x.shape)
    out = []
    with torch.no_grad():
        for i in range(0, len(p.x), EVAL_CHUNK):
            adv, x, t = adversarial[i:i + EVAL_CHUNK], p.x[i:i + EVAL_CHUNK], p.targets[i:i + EVAL_CHUNK]
            fooled = p.model(adv).argmax(1) == t
            in_box = (adv.flatten(1).amin(1) >= 0) & (adv.flatten(1).amax(1) <= 1)
            l2 = (adv.double() - x.double()).flatten(1).norm(dim=1)
            out.append(torch.where(fooled & in_box, l2, torch.full_like(l2, math.inf)).cpu().numpy())
    return np.concatenate(out)


def run_method(name: str, p: Problems, fn: Callable[[], Tensor], warm_up: Callable[[], object]) -> MethodRun:
    print(f"  {name} on {len(p.x)} pairs ...", flush=True)
    device = p.x.device
    warm_up()
    torch.manual_seed(0)
    adversarial, timing = timed(fn, device)
    l2 = l2_if_fooled(p, adversarial)
    print(f"  {name}: {timing.seconds:.2f} s, {timing.seconds / len(p.x) * 1e3:.3f} ms/pair, "
          f"success {np.isfinite(l2).mean():.1%}", flush=True)
    return MethodRun(name, timing, l2)


def peer(name: str) -> Callable[[nn.Module, Tensor, Tensor, int], Tensor]:
    """``DDN-<steps>`` or ``FMN-<steps>`` -> fn(model, x, targets, steps)."""
    kind = name.split("-")[0]
    if kind == "DDN":
        return lambda model, x, t, steps: ddn(model, x, t, steps=steps)
    if kind == "FMN":
        return lambda model, x, t, steps: fmn_l2(model, x, t, steps=steps)
    raise ValueError(f"unknown peer {name!r}: use DDN-<steps> or FMN-<steps>")


def run_peer(name: str, p: Problems) -> MethodRun:
    attack, steps = peer(name), int(name.split("-")[1])
    return run_method(name, p, lambda: attack(p.model, p.x, p.targets, steps), lambda: attack(p.model, p.x, p.targets, 2))


def ours_call(p: Problems, new_api: bool, threads: int) -> Callable[[int], Tensor]:
    """fn(n) -> adversarial images of the first n pairs, by the generalised API (tensors on the model's
    device in and out, the solver on that device) or the older one (``--api old``: (N, 28, 28) numpy in
    and out, torch on one thread whatever --threads)."""
    attack = lbfgs_attack_batch_function()
    targets = p.targets.cpu().numpy()
    if new_api:
        return lambda n: attack(p.model, p.x[:n], targets[:n], threads=threads).adversarial
    x, device = p.x.cpu().numpy()[:, 0], str(p.x.device)
    return lambda n: torch.as_tensor(attack(p.model, x[:n], targets[:n], device=device).adversarial)


def run_ours(p: Problems, new_api: bool, threads: int) -> MethodRun:
    if not new_api and tuple(p.x.shape[1:]) != (1, 28, 28):
        print(f"  ours: {NEEDS_NEW_API}", flush=True)
        return MethodRun("ours", note=NEEDS_NEW_API)
    call = ours_call(p, new_api, threads)
    try:
        return run_method("ours", p, lambda: call(len(p.x)), lambda: call(min(9, len(p.x))))
    except Exception as error:  # e.g. the current API's gradient path on a CUDA model: reported, the peers still run
        note = f"failed: {type(error).__name__}: {' '.join(str(error).split())[:300]}"
        if p.x.device.type == "cuda":
            torch.cuda.empty_cache()  # after an out-of-memory error, the peers get the memory back
        print(f"  ours {note}", flush=True)
        return MethodRun("ours", note=note)


# ---------------------------------------------------------------- the figures


def quantiles(values: np.ndarray) -> dict:
    """Median, p95 and max; an unsolved pair (inf) stays inf (numpy's interpolation would turn it into nan)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"median": None, "p95": None, "max": None}
    median, p95, top = np.percentile(np.where(np.isfinite(v), v, UNSOLVED), [50, 95, 100])
    return {k: float(q) if q < UNSOLVED / 2 else math.inf for k, q in (("median", median), ("p95", p95), ("max", top))}


def method_summary(run: MethodRun, pairs: int) -> dict:
    out: dict = {"note": run.note} if run.note else {}
    if run.l2 is None:
        return out
    solved = run.l2[np.isfinite(run.l2)]
    out.update({**asdict(run.timing), "ms_per_pair": run.timing.seconds / pairs * 1e3, "success": float(np.isfinite(run.l2).mean()),
                "l2_median_solved": float(np.median(solved)) if solved.size else None})
    return out


def comparison(runs: dict[str, MethodRun]) -> dict:
    """Ours / the best peer per pair, over the pairs some peer solved (ours unsolved: inf); ours' time over each peer's."""
    ours, ours_l2 = runs["ours"], runs["ours"].l2
    peers = {n: (r, r.l2) for n, r in runs.items() if n != "ours" and r.l2 is not None}
    if ours_l2 is None or not peers:
        return {}
    best = np.min(np.stack([l2 for _, l2 in peers.values()]), axis=0)
    compared = np.isfinite(best)
    ratio = ours_l2[compared] / best[compared]
    out: dict[str, Any] = {"l2_over_best_peer": {**quantiles(ratio), "pairs": int(compared.sum()),
                                 "pairs_no_peer_solved": int((~compared).sum()),
                                 "share_above_1.001": float(np.mean(ratio > 1.001)) if ratio.size else None,
                                 "share_below_0.999": float(np.mean(ratio < 0.999)) if ratio.size else None}}
    for name, (r, l2) in peers.items():
        both = np.isfinite(l2) & np.isfinite(ours_l2)
        out[f"l2_over_{name}_median"] = float(np.median(ours_l2[both] / l2[both])) if both.any() else None
        out[f"time_over_{name}"] = ours.timing.seconds / r.timing.seconds
        out[f"cpu_time_over_{name}"] = ours.timing.cpu_seconds / r.timing.cpu_seconds
    return out


def l2_list(l2: np.ndarray | None) -> list | None:
    return None if l2 is None else [round(float(v), 7) if np.isfinite(v) else None for v in l2]


def run_model(name: str, args, device: torch.device, new_api: bool) -> dict:
    p = cnn_problems(args.digits, device) if name == "cnn" else cifar_problems(args.digits, device, args.seed)
    print(f"{name}: {p.images} images x {len(p.x) // max(p.images, 1)} targets = {len(p.x)} pairs; {p.description}", flush=True)
    runs = {"ours": run_ours(p, new_api, args.threads)}
    for peer_name in args.peers:
        runs[peer_name] = run_peer(peer_name, p)
    return {"description": p.description, "images": p.images, "pairs": len(p.x), "input_shape": list(p.x.shape[1:]),
            "methods": {n: method_summary(r, len(p.x)) for n, r in runs.items()}, "comparison": comparison(runs),
            "per_pair": {"image": p.image_of.tolist(), "target": p.targets.cpu().tolist(),
                         **{f"l2_{n}": l2_list(r.l2) for n, r in runs.items()}}}


# ---------------------------------------------------------------- report


def environment(device: torch.device, args, new_api: bool) -> dict:
    env = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "label": args.label, "torch": torch.__version__,
           "numpy": np.__version__, "python": platform.python_version(), "platform": platform.platform(),
           "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(), "device": str(device),
           "torch_threads": torch.get_num_threads(), "digits": args.digits, "models": args.models, "peers": args.peers,
           "attack_api": "generalised (N, C, H, W), threads=" + str(args.threads) if new_api else
           "current (N, 28, 28) numpy; torch on one thread inside the call whatever --threads",
           "load_average": list(os.getloadavg())}
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


def cell(m: dict, key: str, fmt: str) -> str:
    value = m.get(key)
    return "" if value is None else format(value, fmt)


def markdown(report: dict) -> str:
    env = report["environment"]
    gpu = f" ({env['gpu']}, CUDA {env['cuda']})" if "gpu" in env else ""
    lines = [f"# bench_gpu {env['label'] or ''}".rstrip(), "",
             f"Started {env['started']} on {env['device']}{gpu}; torch {env['torch']}, {env['torch_threads']} torch thread(s), "
             f"{env['cpu_count']} CPUs, load average {', '.join(f'{v:.2f}' for v in env['load_average'])}. Attack API: {env['attack_api']}. "
             f"Modules not expected but loaded: {report['unexpected_modules'] or 'none'}.", ""]
    for name, m in report["models"].items():
        lines += [f"## {name}: {m['images']} images x 9 targets = {m['pairs']} pairs, input {'x'.join(map(str, m['input_shape']))}", "",
                  m["description"], "",
                  "| method | wall s | CPU s | ms / pair | success | median L2 (solved) | peak GPU MB (above start) | note |",
                  "|---|---|---|---|---|---|---|---|"]
        for method, s in m["methods"].items():
            peak = "" if s.get("peak_gpu_mb") is None else f"{s['peak_gpu_mb']:.0f} ({s['peak_gpu_above_start_mb']:.0f})"
            success = "" if "success" not in s else f"{s['success']:.1%}"
            lines.append(f"| {method} | {cell(s, 'seconds', '.2f')} | {cell(s, 'cpu_seconds', '.2f')} | {cell(s, 'ms_per_pair', '.3f')} | "
                         f"{success} | "
                         f"{cell(s, 'l2_median_solved', '.4f')} | {peak} | {s.get('note', '')} |")
        lines += ["", comparison_line(m), ""]
    return "\n".join(lines) + "\n"


def comparison_line(m: dict) -> str:
    c = m["comparison"]
    if not c:
        return f"No comparison: ours: {m['methods']['ours'].get('note') or 'ran'}; peers: {len(m['methods']) - 1}."
    r = c["l2_over_best_peer"]
    times = ", ".join(f"{k[len('time_over_'):]} {v:.3f}x" for k, v in c.items() if k.startswith("time_over_"))
    cpu_times = ", ".join(f"{k[len('cpu_time_over_'):]} {v:.3f}x" for k, v in c.items() if k.startswith("cpu_time_over_"))
    medians = ", ".join(f"{k[len('l2_over_'):-len('_median')]} {v:.5f}" for k, v in c.items() if k.endswith("_median") and v is not None)
    quality = "no peer solved any pair" if not r["pairs"] else (
        f"median {r['median']:.5f}, p95 {r['p95']:.5f}, max {r['max']:.4f}; above 1.001 on {r['share_above_1.001']:.1%}, "
        f"below 0.999 on {r['share_below_0.999']:.1%}")
    return (f"L2 ours / best of the peers, per pair ({r['pairs']} pairs a peer solved; {r['pairs_no_peer_solved']} no peer solved): "
            f"{quality}. Median L2 ratio to each peer: {medians or 'none'}. "
            f"Ours' wall time over: {times}; process CPU time over: {cpu_times}.")


def json_text(report: dict) -> str:
    """The report as JSON, indented, except each model's per-pair lists: one line each (9,000 numbers)."""
    per_pair = {name: m.pop("per_pair") for name, m in report["models"].items()}
    head = json.dumps(report, indent=1)
    for name, m in report["models"].items():
        m["per_pair"] = per_pair[name]
    lists = ",\n".join(f'  "{name}": {{\n' + ",\n".join(f"   {json.dumps(key)}: {json.dumps(values)}" for key, values in pairs.items())
                       + "\n  }" for name, pairs in per_pair.items())
    return head[:-2] + ',\n "per_pair": {\n' + lists + "\n }\n}\n"


def output_paths(out: str, device: torch.device, label: str) -> tuple[Path, Path]:
    path = Path(out)
    if path.suffix != ".json":
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        path = path / f"bench_gpu-{stamp}-{device.type}{'-' + label if label else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.with_suffix(".md")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cuda (default if available) or cpu")
    parser.add_argument("--digits", type=int, default=1000, help="images per model, each x its 9 other classes (default 1000)")
    parser.add_argument("--models", default="cnn,cifar", help="comma-separated: cnn, cifar (default both)")
    parser.add_argument("--peers", default="DDN-100,DDN-1000,FMN-1000", help="comma-separated DDN-<steps>/FMN-<steps>")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--api", choices=("auto", "old", "new"), default="auto",
                        help="the attack's API: auto (detect the generalised one), old (28x28 numpy), new (N, C, H, W)")
    parser.add_argument("--seed", type=int, default=23, help="seed of the cifar model and images (default 23)")
    parser.add_argument("--label", default="", help="a word for the file name and the report's title")
    parser.add_argument("--out", default=str(HERE / "results"), help="a folder, or a .json path (the .md beside it)")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.peers = [p for p in args.peers.split(",") if p]
    unknown = set(args.models) - {"cnn", "cifar"}
    if unknown or args.digits < 1 or args.threads < 1:
        parser.error(f"models must be cnn and/or cifar (got {sorted(unknown)}), --digits and --threads at least 1")
    bad_peers = [p for p in args.peers if not re.fullmatch(r"(DDN|FMN)-[1-9][0-9]*", p)]
    if bad_peers:
        parser.error(f"peers are DDN-<steps> or FMN-<steps>, not {', '.join(bad_peers)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU here; use --device cpu")
    torch.set_num_threads(args.threads)
    new_api = has_generalised_api(args.api)
    report: dict[str, Any] = {"environment": environment(device, args, new_api), "models": {}}
    for name in args.models:
        report["models"][name] = run_model(name, args, device, new_api)
    report["unexpected_modules"] = sorted(m for m in NOT_EXPECTED if m in sys.modules)
    json_path, md_path = output_paths(args.out, device, args.label)
    json_path.write_text(json_text(report))
    md_path.write_text(markdown(report))
    print(markdown(report))
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
