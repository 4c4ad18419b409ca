"""Our L-BFGS attack against the published implementations of the same attack, on the same pairs.

    pip install -e '.[bench]'        # advertorch 0.2.3, foolbox 3, scipy
    python benchmarks/bench_published_lbfgs.py [--digits 10] [--model cnn] [--label NAME] [--out benchmarks/results]

Szegedy et al.'s box-constrained L-BFGS attack, as published in libraries one can run here:

- **advertorch 0.2.3** (its last release) ``LBFGSAttack``, PyTorch: scipy's ``fmin_l_bfgs_b`` at
  each c, c found by 9 steps of binary search (growing x10 until the first success), 100
  iterations, c0 = 1e-2; its defaults. Its package ``__init__`` files import torchvision (for its
  defences) and every attack, one of which (FAB) needs a torch function torch 2 removed; so the
  packages are made as empty shells and only ``attacks/lbfgs.py`` and what it imports
  (``attacks/base.py``, ``utils.py``) run, unchanged.
- **foolbox 2.4** (the last foolbox with the attack; foolbox 3 dropped it) ``LBFGSAttack``: scipy's
  ``fmin_l_bfgs_b`` (m = 15, 150 iterations) at each c, c doubled from 1e-5 until success, then
  bisected to 1e-5; its defaults. It cannot share a process with foolbox 3, so it runs in a child
  process from a ``pip install --target`` folder (made on first use under ``.bench-cache/``); it
  predates Python 3.10, so ``collections.Iterable`` and friends are aliased to
  ``collections.abc`` for it.
- cleverhans' ``LBFGS`` needs TensorFlow 1 and is not measured.

Pairs: the first ``--digits`` correctly classified digits of the bundled test split, each towards
all 9 other classes; one image per call (the window's use: ours and advertorch's pair by pair,
alternated, so both see the same load) and all pairs in one call (ours batched, advertorch with
``batch_size`` = all pairs: one joint problem). Torch on one thread. Times in ms and in u, one
plain forward+backward pass of cnn on one image measured in the same process
(bench_attack_common.Clock). Quality: success (the adversarial is classified as the target) and
each pair's L2 over ours.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_attack_common import Clock, spread  # noqa: E402
from bench_attack_targets import test_pairs  # noqa: E402

from advviewer import load_model  # noqa: E402
from advviewer.attack import lbfgs_attack  # noqa: E402
from advviewer.training.train import cpu_description  # noqa: E402

FOOLBOX2 = "foolbox==2.4.0"
CACHE = HERE.parent / ".bench-cache" / "foolbox-2.4.0"


@functools.cache
def advertorch_lbfgs():
    """advertorch's LBFGSAttack class, its own code, without its package ``__init__`` files (see the docstring)."""
    spec = importlib.util.find_spec("advertorch")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("advertorch is not installed: pip install -e '.[bench]'")
    root = Path(spec.submodule_search_locations[0])
    for name, path in (("advertorch", root), ("advertorch.attacks", root / "attacks")):
        shell = types.ModuleType(name)
        shell.__path__ = [str(path)]
        sys.modules[name] = shell
    return importlib.import_module("advertorch.attacks.lbfgs").LBFGSAttack


def success_and_l2(model, x: np.ndarray, t: np.ndarray, adv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each adversarial (in the box) is classified as its target, and its L2 distance."""
    adv = np.asarray(adv, np.float32).reshape(x.shape)
    in_box = (adv.reshape(len(adv), -1).min(1) >= 0) & (adv.reshape(len(adv), -1).max(1) <= 1)
    with torch.no_grad():
        hit = model(torch.as_tensor(adv).view(-1, 1, 28, 28)).argmax(1).numpy() == t
    return hit & in_box, np.linalg.norm((adv - x).reshape(len(adv), -1), axis=1)


def one_by_one(model, x: np.ndarray, t: np.ndarray, clock: Clock) -> dict:
    """Ours and advertorch's, one pair per call, alternated pair by pair."""
    Advertorch = advertorch_lbfgs()
    ours, theirs = np.empty_like(x), np.empty_like(x)
    seconds = {"ours": [], "advertorch": []}
    for i in range(len(x)):
        start = time.perf_counter()
        ours[i] = lbfgs_attack(model, x[i], target=int(t[i])).adversarial
        seconds["ours"].append(time.perf_counter() - start)
        xi = torch.as_tensor(x[i]).view(1, 1, 28, 28)
        start = time.perf_counter()
        theirs[i] = Advertorch(model, 10, targeted=True).perturb(xi, torch.tensor([int(t[i])])).view(28, 28).numpy()
        seconds["advertorch"].append(time.perf_counter() - start)
        if i % 10 == 9:
            clock.tick()
            print(f"  {i + 1}/{len(x)} pairs", file=sys.stderr)
    return {"ours": (ours, seconds["ours"]), "advertorch": (theirs, seconds["advertorch"])}


def batched(model, x: np.ndarray, t: np.ndarray) -> dict:
    Advertorch = advertorch_lbfgs()
    start = time.perf_counter()
    ours = lbfgs_attack(model, x, torch.as_tensor(t)).adversarial
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = Advertorch(model, 10, batch_size=len(x), targeted=True).perturb(
        torch.as_tensor(x).view(-1, 1, 28, 28), torch.as_tensor(t)).view(-1, 28, 28).numpy()
    return {"ours": (ours, ours_s), "advertorch": (theirs, time.perf_counter() - start)}


# --- foolbox 2.4, in a child process ---------------------------------------------------------------

def foolbox2_folder() -> Path:
    if not (CACHE / "foolbox" / "__init__.py").exists():
        print(f"installing {FOOLBOX2} into {CACHE} (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(CACHE), FOOLBOX2], check=True)
    return CACHE


def foolbox2_child(model_name: str, pairs: Path, out: Path) -> None:
    """Runs in the child: foolbox 2.4's LBFGSAttack on every pair, one per call."""
    import collections
    import collections.abc

    for name in ("Iterable", "Sequence", "Mapping", "Callable"):  # foolbox 2.4 predates Python 3.10
        setattr(collections, name, getattr(collections.abc, name))
    import foolbox
    from foolbox.criteria import TargetClass
    from foolbox.models import PyTorchModel
    from foolbox.v1.attacks import LBFGSAttack

    assert foolbox.__version__.startswith("2."), foolbox.__version__
    torch.set_num_threads(1)
    data = np.load(pairs)
    x, t, labels = data["x"], data["t"], data["labels"]
    model = load_model(model_name).eval()
    clock = Clock(load_model("cnn").eval(), x[0])
    fmodel = PyTorchModel(model, bounds=(0, 1), num_classes=10, device="cpu")
    adv, seconds = x.copy(), []
    for i in range(len(x)):
        start = time.perf_counter()
        found = LBFGSAttack(fmodel, criterion=TargetClass(int(t[i])))(x[i][None], int(labels[i]))
        seconds.append(time.perf_counter() - start)
        if found is not None:
            adv[i] = np.asarray(found).reshape(28, 28)
        if i % 10 == 9:
            clock.tick()
            print(f"  foolbox 2.4: {i + 1}/{len(x)} pairs", file=sys.stderr)
    np.savez(out, adv=adv, seconds=np.array(seconds), u=clock.u)


def foolbox2(model_name: str, x: np.ndarray, t: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list, float]:
    folder = foolbox2_folder()
    with tempfile.TemporaryDirectory() as tmp:
        pairs, out = Path(tmp) / "pairs.npz", Path(tmp) / "out.npz"
        np.savez(pairs, x=x, t=t, labels=labels)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(folder), str(HERE.parent)]))
        subprocess.run([sys.executable, __file__, "--foolbox2-child", str(pairs), str(out), "--model", model_name],
                       env=env, check=True)
        got = np.load(out)
        return got["adv"], list(got["seconds"]), float(got["u"])


# --- the report -----------------------------------------------------------------------------------

def row(model, x, t, adv, seconds, u, reference_l2=None) -> dict:
    ok, l2 = success_and_l2(model, x, t, adv)
    out = {"success": float(ok.mean()), "l2_median": float(np.median(l2[ok])) if ok.any() else None,
           "time": spread(seconds, u) if isinstance(seconds, list) else {"per_pair_ms": seconds / len(x) * 1e3,
                                                                          "per_pair_u": seconds / len(x) / u}}
    if reference_l2 is not None:
        both = ok & np.isfinite(reference_l2)
        r = l2[both] / reference_l2[both]
        out["l2_over_ours"] = {"median": float(np.median(r)), "p5": float(np.percentile(r, 5)),
                               "p95": float(np.percentile(r, 95)), "min": float(r.min()),
                               "share_below_1": float(np.mean(r < 1))} if both.any() else None
    return out, l2, ok


def markdown(report: dict) -> str:
    lines = [f"# Published L-BFGS attacks against ours ({report['label']})", "",
             f"`python benchmarks/bench_published_lbfgs.py --digits {report['digits']}`: {report['model']}, "
             f"{report['pairs']} pairs (each digit towards all 9 other classes), torch on one thread, "
             f"{report['cpu']}, load average {report['load']}. u = cnn forward+backward on one image, same process: "
             f"{report['u_ms']:.2f} ms (foolbox 2.4's child process: {report['u_ms_foolbox2']:.2f} ms).", "",
             "| method | call | success | median L2 | L2 / ours: median (p5-p95) | time per pair: median (p5-p95) | "
             "how many times faster ours is (one per call: median over pairs) |", "|---|---|---|---|---|---|---|"]
    for name, r in report["rows"].items():
        method, call = name.split(", ")
        t = r["time"]
        if "median_ms" in t:
            time_text = f"{t['median_ms']:.0f} ms, {t['median_u']:.0f}u ({t['p5_u']:.0f}-{t['p95_u']:.0f}u)"
        else:
            time_text = f"{t['per_pair_ms']:.1f} ms, {t['per_pair_u']:.1f}u"
        ratio = r.get("l2_over_ours")
        ratio_text = f"{ratio['median']:.4f} ({ratio['p5']:.4f}-{ratio['p95']:.4f})" if ratio else "-"
        speed = f"{r['speedup_median']:.1f}x" if "speedup_median" in r else "-"
        lines.append(f"| {method} | {call} | {r['success']:.0%} | {r['l2_median']:.4f} | {ratio_text} | {time_text} | {speed} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=10)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-foolbox2", action="store_true", help="leave out foolbox 2.4 (its install and ~4 s per pair)")
    parser.add_argument("--foolbox2-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.foolbox2_child:
        foolbox2_child(args.model, *args.foolbox2_child)
        return
    torch.set_num_threads(1)
    model = load_model(args.model).eval()
    digits, labels, img, tgt = test_pairs(model, args.digits)
    x, t = digits[img], tgt
    clock = Clock(load_model("cnn").eval(), x[0])
    print(f"{len(x)} pairs, one per call", file=sys.stderr)
    single = one_by_one(model, x, t, clock)
    print("all pairs in one call", file=sys.stderr)
    batch = batched(model, x, t)
    clock.tick()
    u = clock.u
    rows, per_pair = {}, {}
    rows["ours, one per call"], ours_l2, ours_ok = row(model, x, t, *single["ours"], u)
    ours_l2 = np.where(ours_ok, ours_l2, np.nan)
    rows["advertorch 0.2.3, one per call"], _, _ = row(model, x, t, *single["advertorch"], u, ours_l2)
    per_pair["advertorch 0.2.3, one per call"] = np.array(single["advertorch"][1])
    rows["ours, all pairs in one call"], _, _ = row(model, x, t, *batch["ours"], u, ours_l2)
    rows["advertorch 0.2.3, all pairs in one call"], _, _ = row(model, x, t, *batch["advertorch"], u, ours_l2)
    u_fb2 = float("nan")
    if not args.no_foolbox2:
        adv, seconds, u_fb2 = foolbox2(args.model, x, t, labels[img])
        rows["foolbox 2.4, one per call"], _, _ = row(model, x, t, adv, seconds, u_fb2, ours_l2)
        per_pair["foolbox 2.4, one per call"] = np.array(seconds) / u_fb2 * u  # in this process's u, as seconds
    ours_seconds = np.array(single["ours"][1])
    for name, seconds in per_pair.items():
        rows[name]["speedup_median"] = float(np.median(seconds / ours_seconds))
    rows["advertorch 0.2.3, all pairs in one call"]["speedup_median"] = batch["advertorch"][1] / batch["ours"][1]
    report = {"label": args.label, "model": args.model, "digits": args.digits, "pairs": len(x), "u_ms": u * 1e3,
              "u_ms_foolbox2": u_fb2 * 1e3, "cpu": cpu_description()["model"],
              "load": " ".join(f"{v:.1f}" for v in os.getloadavg()), "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench_published_lbfgs-{time.strftime('%Y%m%d-%H%M%S')}-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    stem.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
