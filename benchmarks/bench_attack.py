"""The attack against its peers (issue 3, section 4), in one run on the same model and images.

    python benchmarks/bench_attack.py [--n 100] [--skip-cw] [--repeats 3] [--out benchmarks/results]

Model ``cnn``; the first ``n`` correctly classified digits of the bundled test split, each
attacked towards its second most likely class by:

- ours, batch: ``lbfgs_attack`` on all images in one call (minimal mode);
- ours, minimal, one image per call (the window's "find minimal c");
- ours, fixed c warm-started from the minimal result at a neighbouring c (c* x 1.05: a slider step);
- foolbox 3 ``L2CarliniWagnerAttack`` (defaults) and ``DDNAttack`` (100 and 1,000 steps).

Foolbox's outputs are checked here, not trusted: each returned image is clipped to [0, 1] and
classified by the model; an image that is not classified as the target counts as a failure
(foolbox hands back all-zero images for failures). Reported per method: success rate, median L2,
each image's L2 ratio to the best of all methods and to the best of the peers (median and worst),
seconds per image and model evaluations per image (forward passes, each image counted once; a
backward pass goes with almost every one). Timings: median and 10th-90th percentile; torch on one
thread (two threads were 10-30x slower on this shared 2-core machine: see the thread section).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from advviewer import load_digits, load_model, predict
from advviewer.attack import lbfgs_attack

NEIGHBOUR = 1.05


class Counting(nn.Module):
    """Counts the images the wrapped model is evaluated on."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.images = 0

    def forward(self, x):
        self.images += x.shape[0]
        return self.model(x)


def spread(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(v)), "p10": float(np.percentile(v, 10)), "p90": float(np.percentile(v, 90)),
            "max": float(v.max())}


def ours_batch(model, x, t, repeats):
    times, results = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        results = lbfgs_attack(model, x, list(t))
        times.append((time.perf_counter() - start) / len(x))
    return results, times, [r.evaluations for r in results]


def ours_single(model, x, t):
    results, times = [], []
    for xi, ti in zip(x, t):
        start = time.perf_counter()
        results.append(lbfgs_attack(model, xi, int(ti)))
        times.append(time.perf_counter() - start)
    return results, times, [r.evaluations for r in results]


def ours_warm(model, x, t, minimal):
    results, times = [], []
    for xi, ti, found in zip(x, t, minimal):
        start = time.perf_counter()
        results.append(lbfgs_attack(model, xi, int(ti), c=found.c * NEIGHBOUR, warm_start=found))
        times.append(time.perf_counter() - start)
    return results, times, [r.evaluations for r in results]


def foolbox_attack(model, x, t, attack):
    import foolbox as fb

    counted = Counting(model).eval()
    fmodel = fb.PyTorchModel(counted, bounds=(0, 1))
    images = torch.as_tensor(x)[:, None]
    criterion = fb.criteria.TargetedMisclassification(torch.as_tensor(t))
    start = time.perf_counter()
    _, clipped, _ = attack(fmodel, images, criterion, epsilons=None)
    seconds = (time.perf_counter() - start) / len(x)
    adv = clipped.detach().clamp(0, 1)[:, 0].numpy().astype(np.float32)
    return adv, [seconds] * len(x), [counted.images / len(x)] * len(x)


def l2_if_success(model, x, t, adv) -> np.ndarray:
    ok = predict(model, adv).argmax(1) == t
    l2 = np.linalg.norm((adv - x).reshape(len(x), -1), axis=1)
    return np.where(ok, l2, np.inf)


def thread_check(model, x) -> dict:
    """Forward+backward of a batch of 1 and of 100 images, torch on one and on two threads."""
    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for n in (1, 100):
            batch = torch.as_tensor(x[:n])[:, None]
            times = []
            for _ in range(30 if n == 1 else 5):
                xb = batch.clone().requires_grad_(True)
                start = time.perf_counter()
                model(xb).logsumexp(1).sum().backward()
                times.append(time.perf_counter() - start)
            out[f"threads{threads}_batch{n}_ms"] = spread(np.asarray(times[1:]) * 1e3)
    torch.set_num_threads(1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the batch run (timing spread)")
    parser.add_argument("--skip-cw", action="store_true", help="leave out Carlini-Wagner (the slow peer)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = load_model("cnn")
    digits, labels = load_digits("test")
    probs = predict(model, digits)
    correct = np.flatnonzero(probs.argmax(1) == labels)[: args.n]
    x, t = digits[correct], np.argsort(probs[correct], 1)[:, -2]

    runs: dict[str, tuple] = {}
    batch, batch_times, batch_evals = ours_batch(model, x, t, args.repeats)
    runs["ours, batch (minimal)"] = ([r.l2 if r.success else np.inf for r in batch], batch_times, batch_evals)
    single, single_times, single_evals = ours_single(model, x, t)
    runs["ours, minimal, one image per call"] = ([r.l2 if r.success else np.inf for r in single], single_times, single_evals)
    warm, warm_times, warm_evals = ours_warm(model, x, t, single)
    runs[f"ours, fixed c warm-started (c* x {NEIGHBOUR})"] = ([r.l2 if r.success else np.inf for r in warm], warm_times, warm_evals)

    import foolbox as fb

    peers = {"DDN, 100 steps": fb.attacks.DDNAttack(steps=100), "DDN, 1,000 steps": fb.attacks.DDNAttack(steps=1000)}
    if not args.skip_cw:
        peers["C&W L2 (foolbox defaults)"] = fb.attacks.L2CarliniWagnerAttack()
    for name, attack in peers.items():
        print(f"running {name} ...", flush=True)
        adv, seconds, evals = foolbox_attack(model, x, t, attack)
        runs[name] = (l2_if_success(model, x, t, adv), seconds, evals)

    table = summarise(runs, [n for n in runs if not n.startswith("ours")])
    report = {"model": "cnn", "images": len(x), "targets": "second most likely class", "torch": torch.__version__,
              "foolbox": fb.__version__, "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread",
              "load_average": list(np.round(__import__("os").getloadavg(), 2)), "methods": table,
              "threads": thread_check(model, x)}
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"bench_attack-{stamp}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / f"bench_attack-{stamp}.md").write_text(text)
    print(text)
    return 0


def summarise(runs: dict, peer_names: list[str]) -> dict:
    l2 = {name: np.asarray(run[0], dtype=np.float64) for name, run in runs.items()}
    best_all = np.min(np.stack(list(l2.values())), 0)
    best_peer = np.min(np.stack([l2[n] for n in peer_names]), 0) if peer_names else best_all
    out = {}
    for name, (_values, seconds, evals) in runs.items():
        v = l2[name]
        ok = np.isfinite(v)
        r_all, r_peer = v / best_all, v / best_peer
        out[name] = {"success_rate": float(ok.mean()), "median_l2": float(np.median(v)),
                     "ratio_to_best_median": float(np.median(r_all)), "ratio_to_best_worst": float(r_all.max()),
                     "ratio_to_best_peer_median": float(np.median(r_peer)), "ratio_to_best_peer_worst": float(r_peer.max()),
                     "seconds_per_image": spread(seconds), "evaluations_per_image": spread(evals)}
    return out


def markdown(report: dict) -> str:
    lines = [f"Model {report['model']}, {report['images']} correctly classified test digits, target: "
             f"{report['targets']}; torch {report['torch']}, foolbox {report['foolbox']}, {report['machine']}, "
             f"load average {report['load_average']}.", "",
             "| method | success | median L2 | L2 / best (median, worst) | L2 / best peer (median, worst) "
             "| s / image (median, p10-p90) | evaluations / image (median) |",
             "|---|---|---|---|---|---|---|"]
    for name, m in report["methods"].items():
        s = m["seconds_per_image"]
        lines.append(f"| {name} | {m['success_rate']:.0%} | {m['median_l2']:.4f} | {m['ratio_to_best_median']:.5f}, "
                     f"{m['ratio_to_best_worst']:.4f} | {m['ratio_to_best_peer_median']:.5f}, {m['ratio_to_best_peer_worst']:.4f} | "
                     f"{s['median']:.4f} ({s['p10']:.4f}-{s['p90']:.4f}) | {m['evaluations_per_image']['median']:.0f} |")
    lines += ["", "Forward+backward of the model (ms, median and p10-p90):", ""]
    for key, s in report["threads"].items():
        lines.append(f"- {key}: {s['median']:.2f} ({s['p10']:.2f}-{s['p90']:.2f})")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
