"""Subnormal and negligible weights before and after issue 23: the zoo's files as shipped at a git revision vs the files now.

    python benchmarks/bench_denormal.py [--old-rev REV] [--repeats N] [--out FILE.md]

For every zoo model, in one process and interleaved (old, new, old, new ...) so both see the same machine:
  - the subnormal float32 values in each file;
  - the predictions of all 5,000 bundled digits: argmax identical, largest absolute logit difference;
  - forward of 900 bundled digits, and one digit's forward + backward to the input (the live path),
    median and 10th-90th percentile over the repeats, torch on one thread, flush-to-zero left off;
  - as a reference, the old weights' forward of 900 under torch.set_flush_denormal(True): how much
    this CPU loses to subnormals at all (some x86 CPUs 10-20x, others nothing).
The old weights are read with ``git show REV:resources/weights/NAME.pt`` (a benchmark's own loading;
the app loads only through advviewer.models.loading).
"""

from __future__ import annotations

import argparse
import io
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's advviewer and resources, not an editable install's elsewhere

from advviewer.data.bundled import load_bundled  # noqa: E402
from advviewer.models.loading import load_model  # noqa: E402
from advviewer.models.zoo import NEGLIGIBLE_WEIGHT, ZOO, build_model  # noqa: E402

OLD_REV = "443551c"  # main before the shipped weights were rewritten with subnormals flushed


@dataclass
class Timing:
    median_ms: float
    p10_ms: float
    p90_ms: float


@dataclass
class ModelResult:
    name: str
    subnormals_old: int
    subnormals_new: int
    argmax_same: int
    digits: int
    max_abs_logit_diff: float
    forward900_old: Timing
    forward900_new: Timing
    forward900_old_ftz: Timing  # the old weights under torch.set_flush_denormal(True): what this CPU loses to subnormals
    live_old: Timing
    live_new: Timing
    negligible_old: int  # weights below zoo.NEGLIGIBLE_WEIGHT (subnormals included)
    negligible_new: int
    attack_old: Timing
    attack_new: Timing
    attack_old_ftz: Timing


def subnormal_count(model: nn.Module) -> int:
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    return sum(int(((t != 0) & (t.abs() < torch.finfo(t.dtype).tiny)).sum()) for t in tensors)


def negligible_count(model: nn.Module) -> int:
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    return sum(int(((t != 0) & (t.abs() < NEGLIGIBLE_WEIGHT)).sum()) for t in tensors)


def old_model(name: str, rev: str) -> nn.Module:
    data = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:resources/weights/{name}.pt"], check=True, capture_output=True).stdout
    payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    model = build_model(payload["arch"])
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.eval()


def timing(seconds: list[float]) -> Timing:
    ms = np.asarray(seconds) * 1000
    return Timing(float(np.median(ms)), float(np.percentile(ms, 10)), float(np.percentile(ms, 90)))


def forward900(model: nn.Module, batch: torch.Tensor) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        model(batch)
    return time.perf_counter() - start


def live(model: nn.Module, image: torch.Tensor) -> float:
    start = time.perf_counter()
    x = image.clone().requires_grad_(True)
    model(x)[0].log_softmax(0)[3].backward()
    return time.perf_counter() - start


def attack_evaluation(model: nn.Module, batch: torch.Tensor) -> float:
    """What the attack's objective does per evaluation: forward, then backward to the input with a seed per logit."""
    start = time.perf_counter()
    x = batch.clone().requires_grad_(True)
    out = model(x)
    torch.autograd.grad((out * torch.ones_like(out)).sum(), x)
    return time.perf_counter() - start


def flushing_denormals(step):
    """``step`` run with the CPU's flush-to-zero on (a reference only: the app never sets this process-wide flag)."""
    def run(model: nn.Module, data: torch.Tensor) -> float:
        torch.set_flush_denormal(True)
        try:
            return step(model, data)
        finally:
            torch.set_flush_denormal(False)
    return run


def interleaved(arms: list[tuple[nn.Module, object]], data: torch.Tensor, repeats: int) -> list[Timing]:
    """Each (model, step) arm timed in turn, round after round, after three warm-up rounds."""
    seconds: list[list[float]] = [[] for _ in arms]
    for round_index in range(repeats + 3):
        for (model, step), kept in zip(arms, seconds):
            elapsed = step(model, data)
            if round_index >= 3:
                kept.append(elapsed)
    return [timing(s) for s in seconds]


def measure(name: str, rev: str, digits: torch.Tensor, repeats: int) -> ModelResult:
    old, new = old_model(name, rev), load_model(name)
    with torch.no_grad():
        old_logits, new_logits = old(digits), new(digits)
    f_old, f_new, f_ftz = interleaved([(old, forward900), (new, forward900), (old, flushing_denormals(forward900))], digits[:900], repeats)
    l_old, l_new = interleaved([(old, live), (new, live)], digits[:1], repeats * 5)
    perturbed = (digits[:90] + 0.1 * torch.randn(digits[:90].shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    a_old, a_new, a_ftz = interleaved([(old, attack_evaluation), (new, attack_evaluation),
                                       (old, flushing_denormals(attack_evaluation))], perturbed, repeats)
    return ModelResult(name, subnormal_count(old), subnormal_count(new),
                       int((old_logits.argmax(1) == new_logits.argmax(1)).sum()), len(digits),
                       float((old_logits - new_logits).abs().max()), f_old, f_new, f_ftz, l_old, l_new,
                       negligible_count(old), negligible_count(new), a_old, a_new, a_ftz)


def cpu_name() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())
    flags = next((line for line in lines if line.startswith("flags")), "")
    return f"{model} ({'AVX-512' if 'avx512f' in flags.split() else 'no AVX-512'})"


def cell(t: Timing) -> str:
    return f"{t.median_ms:.2f} ({t.p10_ms:.2f}-{t.p90_ms:.2f})"


def report(results: list[ModelResult], rev: str, repeats: int) -> str:
    lines = [f"CPU: {cpu_name()}; torch {torch.__version__}, {torch.get_num_threads()} thread, flush-to-zero off; "
             f"old = resources/weights at {rev}, new = this checkout. Times in ms: median (10th-90th percentile), "
             f"forward of 900 digits over {repeats} repeats, one digit's forward + backward over {repeats * 5}, old and new interleaved.",
             "",
             "| model | subnormals old -> new | below 1e-30 old -> new | argmax same (5,000 digits) | max abs logit diff "
             "| forward 900 old | forward 900 new | speed-up | forward 900 old, flush-to-zero on | fwd+bwd 1 old | fwd+bwd 1 new | speed-up "
             "| attack evaluation of 90 old | new | speed-up | old, flush-to-zero on |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name} | {r.subnormals_old:,} -> {r.subnormals_new:,} | {r.negligible_old:,} -> {r.negligible_new:,} "
                     f"| {r.argmax_same:,}/{r.digits:,} | {r.max_abs_logit_diff:.2e} "
                     f"| {cell(r.forward900_old)} | {cell(r.forward900_new)} | {r.forward900_old.median_ms / r.forward900_new.median_ms:.1f}x "
                     f"| {cell(r.forward900_old_ftz)} "
                     f"| {cell(r.live_old)} | {cell(r.live_new)} | {r.live_old.median_ms / r.live_new.median_ms:.1f}x "
                     f"| {cell(r.attack_old)} | {cell(r.attack_new)} | {r.attack_old.median_ms / r.attack_new.median_ms:.1f}x "
                     f"| {cell(r.attack_old_ftz)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-rev", default=OLD_REV)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--models", nargs="*", default=list(ZOO))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, _ = load_bundled()
    digits = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
    results = [measure(name, args.old_rev, digits, args.repeats) for name in args.models]
    text = report(results, args.old_rev, args.repeats)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
