"""The attack towards every target (issue 10): one command for the whole table.

    python benchmarks/bench_attack_targets.py --digits 100 [--models cnn fc100-100-10 ae400-10]
        [--batch-pairs 1000] [--no-peers | --speed-only] [--qp [MODEL ...]] [--label after] [--out benchmarks/results]

For each model, the first ``--digits`` correctly classified digits of the bundled test split
(1,000 digits no shipped model was trained on), each towards all 9 other classes, torch on one
thread:

- one image per call, minimal mode (the window's "Find minimal c"), every pair;
- untargeted, one image per call; its L2 against the smallest of the 9 targeted answers;
- all pairs in one batch call, and foolbox's DDN-100 on the same pairs in the same run;
- quality: each pair's L2 over the best of DDN-1000 and FMN-1000 (``L2FMNAttack(steps=1000)``);
- the slider: a fixed-c solve at c* x 1.1 and at c* / 1.1, warm-started from the minimal result;
- a batch of ``--batch-pairs`` pairs in a child process: time per pair and peak memory (RSS);
- the fc10 models (``--qp``): each pair's L2 over the exact minimum, the quadratic programme solved
  through its dual with the duality gap checked (tests/test_attack_exact.py);
- cnn only: the window's core call on the drawn digits of tests/strokes.py, each target and
  "any other class".

Times are wall clock, reported as median, p5, p95 and max in ms and in units u: one plain
forward+backward pass of cnn on one image (autograd, cross-entropy, batch of one), sampled
between the sections of the same run, so that figures stay comparable when other processes
share the machine (the load average is recorded). Results: JSON and markdown in ``--out``.
Runs on an older checkout too (``PYTHONPATH=old/`` for the before figures; see bench_attack_common).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_attack_common import Clock, counts, drawn_digits, peak_rss_mb, peers, ratios, spread, window_call  # noqa: E402

from advviewer import load_model, predict, preprocess  # noqa: E402
from advviewer.attack import lbfgs_attack  # noqa: E402
from advviewer.data import bundled_split  # noqa: E402

SLIDER = 1.1


def test_pairs(model, n_digits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images, labels, and the pairs (digit index, target) over all 9 other classes."""
    images, labels = bundled_split("test")
    digits = images.astype(np.float32) / 255
    correct = np.flatnonzero(predict(model, digits).argmax(1) == labels)[:n_digits]
    img = np.repeat(correct, 9)
    tgt = np.array([t for i in correct for t in range(10) if t != labels[i]])
    return digits, labels, img, tgt


def timed_calls(fn, items, clock: Clock) -> tuple[list, list[float]]:
    results, seconds = [], []
    for item in items:
        start = time.perf_counter()
        results.append(fn(item))
        seconds.append(time.perf_counter() - start)
    clock.tick()
    return results, seconds


@dataclass(frozen=True)
class ModelPairs:
    """One model's held-out pairs: digit ``img[k]`` towards class ``tgt[k]``."""

    name: str
    model: torch.nn.Module
    digits: np.ndarray
    img: np.ndarray
    tgt: np.ndarray

    @property
    def x(self) -> np.ndarray:
        return self.digits[self.img]


def run_model(name: str, args, clock: Clock) -> dict:
    model = load_model(name)
    digits, _, img, tgt = test_pairs(model, args.digits)
    pairs = ModelPairs(name, model, digits, img, tgt)
    out: dict = {"model": name, "digits": int(len(set(img.tolist()))), "pairs": len(img)}
    single, l2_single = one_image_per_call(pairs, clock, out)
    out["untargeted"] = untargeted_calls(pairs, l2_single, clock)
    l2_batch = one_batch(pairs, clock, out)
    out["slider"] = slider_steps(pairs, single, clock)
    if not args.no_peers:
        peer_figures(pairs, args.speed_only, l2_single, l2_batch, clock, out)
    out["batch_large"] = child_batch(name, args.batch_pairs, args.onednn == "on")
    if name == "cnn":
        out["drawn"] = drawn_calls(model, clock)
    return out


def _l2_if_fooled(results) -> np.ndarray:
    return np.array([r.l2 if r.success else np.inf for r in results])


def one_image_per_call(p: ModelPairs, clock: Clock, out: dict) -> tuple[list, np.ndarray]:
    print(f"{p.name}: {len(p.img)} pairs, one image per call ...", flush=True)
    x = p.x
    single, sec = timed_calls(lambda j: lbfgs_attack(p.model, x[j], int(p.tgt[j])), range(len(x)), clock)
    l2_single = _l2_if_fooled(single)
    out["single"] = {"time": sec, "success": float(np.isfinite(l2_single).mean()),
                     "evaluations": [int(r.evaluations) for r in single]}
    return single, l2_single


def untargeted_calls(p: ModelPairs, l2_single: np.ndarray, clock: Clock) -> dict:
    print(f"{p.name}: untargeted ...", flush=True)
    firsts = sorted(set(p.img.tolist()))
    unt, sec = timed_calls(lambda i: lbfgs_attack(p.model, p.digits[i], untargeted=True), firsts, clock)
    best_targeted = np.array([l2_single[p.img == i].min() for i in firsts])
    return {"time": sec, "success": float(np.mean([r.success for r in unt])),
            "l2_over_best_targeted": ratios([r.l2 for r in unt], best_targeted)}


def one_batch(p: ModelPairs, clock: Clock, out: dict) -> np.ndarray:
    """All pairs in one call: wall and CPU time (on a shared machine the wall clock also counts other processes)."""
    print(f"{p.name}: all pairs in one batch ...", flush=True)
    start, cpu = time.perf_counter(), time.process_time()
    batch = list(lbfgs_attack(p.model, p.x, [int(t) for t in p.tgt]))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    clock.tick()
    l2_batch = _l2_if_fooled(batch)
    out["batch"] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "success": float(np.isfinite(l2_batch).mean())}
    return l2_batch


def slider_steps(p: ModelPairs, single: list, clock: Clock) -> dict:
    print(f"{p.name}: slider (fixed c, warm from c* x {SLIDER} away) ...", flush=True)
    x = p.x
    steps = [(j, f) for j in range(len(x)) if single[j].success for f in (SLIDER, 1 / SLIDER)]
    _, sec = timed_calls(lambda s: lbfgs_attack(p.model, x[s[0]], int(p.tgt[s[0]]), c=single[s[0]].c * s[1],
                                                warm_start=single[s[0]]), steps, clock)
    return {"time": sec}


def peer_figures(p: ModelPairs, speed_only: bool, l2_single: np.ndarray, l2_batch: np.ndarray, clock: Clock, out: dict) -> None:
    """foolbox's DDN-100 (the batch's yardstick) and, unless ``speed_only``, DDN-1000 and FMN-1000 (the quality ratios)."""
    print(f"{p.name}: peers ...", flush=True)
    found = peers(predict, p.model, p.x, p.tgt, steps=(100,) if speed_only else (100, 1000))
    clock.tick()
    out["peers"] = {k: {"seconds": v["seconds"], "cpu_seconds": v["cpu_seconds"], "success": float(np.isfinite(v["l2"]).mean()),
                        "l2_median": float(np.median(v["l2"]))} for k, v in found.items()}
    if not speed_only:
        best = np.minimum(found["DDN-1000"]["l2"], found["FMN-1000"]["l2"])
        out["quality"] = {"single": ratios(l2_single, best), "batch": ratios(l2_batch, best)}
    out["batch"]["over_ddn100"] = out["batch"]["seconds"] / found["DDN-100"]["seconds"]
    out["batch"]["cpu_over_ddn100"] = out["batch"]["cpu_seconds"] / found["DDN-100"]["cpu_seconds"]


def drawn_calls(model, clock: Clock) -> dict:
    """cnn only: the window's core call on the drawn digits, each target the model does not give and "any other class"."""
    print("cnn: the window's minimal c on drawn digits ...", flush=True)
    drawn = drawn_digits(preprocess)
    calls = [(d, t) for d, xd in enumerate(drawn) for t in [*range(10), None] if t != int(predict(model, xd).argmax())]
    res, sec = timed_calls(lambda dt: window_call(lbfgs_attack, model, drawn[dt[0]], dt[1]), calls, clock)
    return {"time": sec, "success": float(np.mean([r.success for r in res])),
            "time_untargeted": [s for s, (_, t) in zip(sec, calls) if t is None]}


def qp_exactness(name: str, n_digits: int) -> dict:
    """A linear model's every-target answers over the exact QP minimum (minimal mode, one batch)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from test_attack_exact import exact_min_l2

    model = load_model(name)
    digits, _, img, tgt = test_pairs(model, n_digits)
    res = lbfgs_attack(model, digits[img], [int(t) for t in tgt])
    W = model[1].weight.detach().double().numpy()
    b = model[1].bias.detach().double().numpy()
    exact = [exact_min_l2(W, b, digits[i].astype(np.float64).ravel(), int(t)) for i, t in zip(img, tgt)]
    return {"pairs": len(tgt), "success": float(np.mean(res.success)), "l2_over_qp": ratios(res.l2, exact)}


def child_batch(name: str, pairs: int, onednn: bool = True) -> dict:
    """The large batch in a fresh process, so that its peak memory is its own."""
    here = str(Path(__file__).resolve().parent)
    code = (f"import sys, json; sys.path.insert(0, {here!r}); import bench_attack_targets as b; "
            f"print(json.dumps(b.large_batch({name!r}, {pairs}, {onednn!r})))")
    # run from the benchmarks folder: ``python -c`` puts the working directory first on sys.path, and
    # started from a checkout it would import that checkout's advviewer instead of PYTHONPATH's
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here)
    return json.loads(done.stdout.strip().splitlines()[-1])


def large_batch(name: str, pairs: int, onednn: bool = True) -> dict:
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = onednn
    model = load_model(name)
    digits, _, img, tgt = test_pairs(model, (pairs + 8) // 9)
    x, t = digits[img[:pairs]], tgt[:pairs]
    before = peak_rss_mb()
    start = time.perf_counter()
    res = list(lbfgs_attack(model, x, [int(v) for v in t]))
    seconds = time.perf_counter() - start
    return {"pairs": len(t), "seconds_per_pair": seconds / len(t), "success": float(np.mean([r.success for r in res])),
            "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=100)
    parser.add_argument("--models", nargs="*", default=["cnn", "fc100-100-10", "ae400-10"], help="none: the QP check alone")
    parser.add_argument("--batch-pairs", type=int, default=1000)
    parser.add_argument("--qp", nargs="*", default=["fc10-1e-4", "fc10-1e-2", "fc10-1"],
                        help="linear models checked against the exact QP minimum (none: leave out)")
    parser.add_argument("--speed-only", action="store_true",
                        help="of the peers only DDN-100 (the batch's yardstick): no quality ratios, 20 minutes less on cnn")
    parser.add_argument("--no-peers", action="store_true", help="leave out foolbox (no quality ratios, no DDN-100 time)")
    parser.add_argument("--label", default="", help="a name for this run (e.g. before, after)")
    parser.add_argument("--onednn", choices=["on", "off"], default="on",
                        help="torch's oneDNN convolutions: on (torch's default, as every run before 2026-12-05) or off "
                             "(as the window and the CLI run since; advviewer.runtime.threads); u is always measured with it on")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = args.onednn == "on"
    digits, _ = bundled_split("test")
    clock = Clock(load_model("cnn"), digits[0].astype(np.float32) / 255)
    load = [os.getloadavg()]
    report: dict = {"label": args.label, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
                    "started": time.strftime("%Y-%m-%d %H:%M"), "onednn": args.onednn, "models": {}}
    for name in args.models:
        report["models"][name] = run_model(name, args, clock)
        load.append(os.getloadavg())
    report["qp"] = {name: qp_exactness(name, args.digits) for name in args.qp}
    report["u_seconds"] = spread(clock.samples)
    report["load_average"] = [round(v[0], 2) for v in load]
    summary = summarise(report, clock.u)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_attack_targets-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-{args.label}" if args.label else "")
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=1) + "\n")
    text = markdown(summary)
    (args.out / f"{stem}.md").write_text(text)
    print(text)
    return 0


def summarise(report: dict, u: float) -> dict:
    """Raw per-call times become spreads in ms and u; everything else is kept."""
    for m in report["models"].values():
        for key in ("single", "untargeted", "slider", "drawn"):
            if key in m:
                m[key]["time"] = spread(m[key]["time"], u)
                if "evaluations" in m[key]:
                    m[key]["evaluations"] = counts(m[key]["evaluations"])
        if "drawn" in m:
            m["drawn"]["time_untargeted"] = spread(m["drawn"]["time_untargeted"], u)
        b = m["batch"]
        b["per_pair"] = spread([b["seconds"] / m["pairs"]], u)
        if "peers" in m:
            b["ddn100_per_pair"] = spread([m["peers"]["DDN-100"]["seconds"] / m["pairs"]], u)
        m["batch_large"]["per_pair"] = spread([m["batch_large"]["seconds_per_pair"]], u)
    report["u_ms"] = u * 1e3
    return report


def markdown(r: dict) -> str:
    from bench_attack_report import table

    return table(r)


if __name__ == "__main__":
    raise SystemExit(main())
