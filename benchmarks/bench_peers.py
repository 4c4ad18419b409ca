"""Ours against adv-lib's minimal-L2 attacks (issue 23, "Targets"): parity at <= 1/10 of their time.

    python benchmarks/bench_peers.py --digits 100 [--models cnn fc100-100-10 ae400-10 fc10-1e-2]
        [--steps 1000] [--chunk-digits 10] [--batch-pairs 900] [--batch-models cnn fc100-100-10 ae400-10]
        [--batch-repeats 2] [--flush-denormal off|on] [--batch-flush off on] [--label NAME] [--out benchmarks/results]

Run it from a checkout's root with ``PYTHONPATH=.`` (as bench_attack_targets.py, it imports the
advviewer that Python finds first).

The peers are adv-lib's (Rony et al., https://github.com/jeromerony/adversarial-library, PyPI
``adv-lib``) minimal-L2 attacks, targeted, batched, ``--steps`` steps each (one step = one forward
+ backward of each image), with AttackBench's settings (attack_evaluation/attacks/adv_lib/configs.py):

- PDGD: ``pdgd(num_steps=steps)``, adv-lib's defaults otherwise (primal lr 0.1, dual ratio 0.01 ...);
- ALMA: ``alma(distance="l2", num_steps=steps, α=0.9, init_lr_distance=1)``, the P2 penalty;
- FMN: ``fmn(norm=2, steps=steps, α_init=1, γ_init=0.05)``;
- DDN: ``ddn(steps=steps, γ=0.05, init_norm=1, levels=None)``: adv-lib's DDN rounds every step's
  image to 256 grey levels unless ``levels=None``; ours is not quantised, so neither is it here.

For each model, the pairs of bench_attack_targets.py: the first ``--digits`` correctly classified
digits of the bundled test split (1,000 digits no shipped model was trained on), each towards the
9 other classes. The pairs go in chunks of ``--chunk-digits`` digits (x 9 pairs); each chunk is
one batched call of every method, the methods' order rotating from chunk to chunk, so that a
change in the machine's load falls on all of them alike. Torch runs on one thread.

Every method's answers are checked here, the same way: the model on each float32 adversarial
image alone (a batch of one) must give the target, and the image must lie in [0, 1]. A pair a
method does not fool counts as a failure with L2 = inf (adv-lib returns the original image for a
pair it never fooled, and its FMN can end short of the boundary: only points checked here count).

Reported per model: each method's success, median L2 and time per pair (ms, and in u: one
forward+backward of cnn on one image, as in bench_attack_targets.py); per pair, ours over the best
peer (median, p95, max, the share of pairs where a peer beats ours by more than 1%) and over each
peer; ours' time over each peer's. With ``max_evaluations=1000`` (ours' total budget of model
evaluations per pair; the peers' 1,000 steps cost the same), ours over the best peer again, once
the attack has that argument (until then the run says "needs max_evaluations"). Then, for
``--batch-models``, the batch target: ``--batch-pairs`` pairs in one call of ours against one call
of adv-lib's DDN-100 (``levels=None``), ``--batch-repeats`` rounds in the order ours, DDN, DDN,
ours ... (the median of each), under each ``--batch-flush`` mode.

Flush-to-zero: saturated sigmoids give subnormal activations and gradients during an attack, which
make fc100-100-10 and ae400-10 6-9x slower on x86 CPUs whatever the weights (adv-lib's DDN, 200
steps on 18 pairs, here). ``--flush-denormal`` is set before every timed call (off: torch's
default, each method as it runs in a researcher's hands; a method that turns flush-to-zero on
itself keeps what that buys it, and the report counts the calls that left it changed).

Results: JSON (with every pair's L2) and markdown in ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import platform
import sys
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_attack_common import Clock, spread  # noqa: E402
from bench_attack_targets import test_pairs  # noqa: E402

from advviewer import load_model  # noqa: E402
from advviewer.attack import lbfgs_attack_batch  # noqa: E402
from advviewer.data import bundled_split  # noqa: E402

BEATEN_BY = 1.01  # "a peer beats ours": its L2 more than 1% below ours
BUDGET = 1000  # evaluations per pair, the peers' step count
PARITY_MEDIAN, PARITY_P95, TIME_SHARE, BATCH_RATIO = 1.0001, 1.001, 0.1, 1.0  # issue 23's targets


# -- adv-lib -----------------------------------------------------------------------------------


class _Absent(types.ModuleType):
    """Stands in for an optional module adv-lib imports but this benchmark never uses; any use fails."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if f"{self.__name__}.{name}" in sys.modules:  # ``from torchvision import models``
            return sys.modules[f"{self.__name__}.{name}"]
        raise ImportError(f"{self.__name__}.{name}: {self.__name__} is not installed (adv-lib's optional extra, unused here)")


@contextmanager
def _without_optional_extras(names: tuple[str, ...]) -> Iterator[None]:
    """adv-lib 0.2.8 imports visdom (its live-plot callback) and torchvision (the LPIPS distance's
    AlexNet) at module level, though an L2 attack without a callback uses neither. Both are left out
    of the benchmark's environment (torchvision would pull another torch); while adv-lib is
    imported, a placeholder stands in for each one that is not installed, and is removed after."""
    absent = {name for name in names if name.split(".")[0] not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is None}
    added = []
    for name in names:
        if name in absent:
            sys.modules[name] = _Absent(name)
            added.append(name)
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


def adv_lib_attacks() -> types.SimpleNamespace:
    if importlib.util.find_spec("adv_lib") is None:
        raise SystemExit("bench_peers: adv-lib is not installed: pip install --no-deps adv-lib==0.2.8 (see pyproject.toml's bench extra)")
    with _without_optional_extras(("visdom", "torchvision", "torchvision.models")):
        from adv_lib.attacks import alma, ddn, fmn, pdgd
    from importlib.metadata import version

    return types.SimpleNamespace(alma=alma, ddn=ddn, fmn=fmn, pdgd=pdgd, version=version("adv-lib"))


# -- the methods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """One attack as the benchmark calls it: (model, images (N, 28, 28), targets (N,)) -> adversarial (N, 28, 28)."""

    name: str
    run: Callable[[nn.Module, np.ndarray, np.ndarray], np.ndarray]
    settings: dict = field(default_factory=dict)


def _peer(name: str, attack: Callable, settings: dict) -> Method:
    def run(model: nn.Module, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        adv = attack(model, torch.from_numpy(x)[:, None].contiguous(), torch.from_numpy(t).long(), targeted=True, **settings)
        return adv.detach()[:, 0].numpy().astype(np.float32)

    return Method(name, run, {"attack": f"adv_lib.attacks.{attack.__name__}", **{k: str(v) for k, v in settings.items()}})


def peer_methods(lib: types.SimpleNamespace, steps: int) -> list[Method]:
    return [
        _peer(f"PDGD-{steps}", lib.pdgd, {"num_steps": steps}),
        _peer(f"ALMA-{steps}", lib.alma, {"distance": "l2", "num_steps": steps, "α": 0.9, "init_lr_distance": 1.0}),
        _peer(f"FMN-{steps}", lib.fmn, {"norm": 2, "steps": steps, "α_init": 1.0, "γ_init": 0.05}),
        _peer(f"DDN-{steps}", lib.ddn, {"steps": steps, "γ": 0.05, "init_norm": 1.0, "levels": None}),
    ]


@dataclass(frozen=True)
class OursApi:
    """What today's ``lbfgs_attack_batch`` accepts: issue 23's API takes (N, C, H, W) images, ``threads`` and
    ``max_evaluations``; the API before it takes (N, 28, 28) and puts torch on one thread itself."""

    channels_first: bool
    max_evaluations: bool

    @classmethod
    def today(cls) -> OursApi:
        params = inspect.signature(lbfgs_attack_batch).parameters
        return cls(channels_first="threads" in params, max_evaluations="max_evaluations" in params)

    def call(self, model: nn.Module, x: np.ndarray, t: np.ndarray, **options):
        if self.channels_first:
            return lbfgs_attack_batch(model, torch.from_numpy(x)[:, None].contiguous(), [int(v) for v in t], **{"threads": 1, **options})
        return lbfgs_attack_batch(model, x, [int(v) for v in t], **options)


@dataclass
class OursRecord:
    """What ours says of its own answers (beside the benchmark's own check), per pair, in pair order."""

    success: list[bool] = field(default_factory=list)
    evaluations: list[int] = field(default_factory=list)

    def clear(self) -> None:
        self.success.clear()
        self.evaluations.clear()

    def summary(self, checked_l2: np.ndarray) -> dict:
        evaluations = np.asarray(self.evaluations)
        return {"success": float(np.mean(self.success)),
                "claimed_but_not_fooled": int(np.sum(np.array(self.success) & ~np.isfinite(checked_l2))),
                "evaluations": {"median": float(np.median(evaluations)), "p95": float(np.percentile(evaluations, 95)),
                                "max": int(evaluations.max())}}


def ours_method(api: OursApi, name: str, record: OursRecord, **options) -> Method:
    def run(model: nn.Module, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        res = api.call(model, x, t, **options)
        record.success += [bool(v) for v in np.asarray(res.success)]
        record.evaluations += [int(v) for v in np.asarray(res.evaluations)]
        adv = res.adversarial.detach().cpu().numpy() if isinstance(res.adversarial, torch.Tensor) else np.asarray(res.adversarial)
        return adv.reshape(len(x), 28, 28).astype(np.float32)

    return Method(name, run, {"call": "lbfgs_attack_batch", **{k: str(v) for k, v in options.items()}})


# -- running and checking ----------------------------------------------------------------------


@dataclass
class MethodRun:
    """One method's answers on all pairs of a model, and the time its calls took."""

    adversarial: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    chunk_seconds: list[float] = field(default_factory=list)
    changed_flush: int = 0  # calls after which flush-to-zero was not as set before the call


def flush_to_zero_is_on() -> bool:
    """Whether the CPU flushes subnormal floats to zero now (torch.set_flush_denormal has no getter)."""
    return (torch.tensor([1e-39], dtype=torch.float32) * 1.5).item() == 0.0


def timed_call(m: Method, model: nn.Module, x: np.ndarray, t: np.ndarray, flush: bool, run: MethodRun) -> np.ndarray:
    """One call of ``m``, flush-to-zero set to ``flush`` first (a method may set it itself: noted in ``run``).

    Subnormal activations and gradients (saturated sigmoids) make fc100-100-10 and ae400-10 6-9x
    slower without flush-to-zero on an x86 CPU, whatever the weights; a mode left on by one call
    would otherwise carry over to the next method's."""
    torch.set_flush_denormal(flush)
    wall, cpu = time.perf_counter(), time.process_time()
    adv = m.run(model, x, t)
    run.chunk_seconds.append(time.perf_counter() - wall)
    run.seconds += run.chunk_seconds[-1]
    run.cpu_seconds += time.process_time() - cpu
    run.adversarial.append(adv)
    run.changed_flush += flush_to_zero_is_on() != flush
    return adv


def run_interleaved(model: nn.Module, x: np.ndarray, t: np.ndarray, methods: list[Method], chunk: int,
                    flush: bool) -> dict[str, MethodRun]:
    """Every method on every chunk of pairs, one batched call each, the order rotating from chunk to chunk."""
    runs = {m.name: MethodRun() for m in methods}
    for k, start in enumerate(range(0, len(x), chunk)):
        xs, ts = x[start:start + chunk], t[start:start + chunk]
        for m in methods[k % len(methods):] + methods[:k % len(methods)]:
            timed_call(m, model, xs, ts, flush, runs[m.name])
        print(f"  chunk {k + 1}: pairs {start}-{start + len(xs) - 1} " + ", ".join(
            f"{m.name} {runs[m.name].chunk_seconds[-1]:.1f} s" for m in methods), flush=True)
    return runs


def checked_l2(model: nn.Module, x: np.ndarray, t: np.ndarray, adv: np.ndarray) -> np.ndarray:
    """Each pair's L2 where the model, on the float32 adversarial image alone, gives the target inside the box; else inf."""
    in_box = (adv >= 0).all(axis=(1, 2)) & (adv <= 1).all(axis=(1, 2))
    with torch.no_grad():
        answer = np.array([int(model(torch.from_numpy(a.astype(np.float32))[None, None]).argmax(1)) for a in adv])
    l2 = np.linalg.norm((adv.astype(np.float64) - x.astype(np.float64)).reshape(len(x), -1), axis=1)
    return np.where(in_box & (answer == t), l2, np.inf)


def warm_up(model: nn.Module, x: np.ndarray, t: np.ndarray, methods: list[Method]) -> None:
    """One small call of each method first, so that no timed call pays a first call's set-up."""
    for m in methods:
        m.run(model, x[:2], t[:2])


# -- statistics --------------------------------------------------------------------------------


def l2_ratios(ours: np.ndarray, other: np.ndarray) -> dict:
    """Per pair ours / other, over the pairs the other fooled (a pair only ours failed counts as inf).

    The pairs the other failed are left out and counted: a failed peer is no yardstick, and a
    ratio of 0 would pull the median down."""
    other_ok = np.isfinite(other)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isfinite(ours), ours / other, np.inf)[other_ok]
    r = np.where(np.isnan(r), 1.0, r)  # 0 / 0: both at the original image
    out = {"pairs": int(r.size), "other_failed": int((~other_ok).sum()), "ours_failed": int(np.isinf(r).sum())}
    if not r.size:  # no pair to compare: NaN, which no target meets
        return out | dict.fromkeys(("median", "p95", "max", "share_beaten_by_1pct"), float("nan"))
    return out | {"median": float(np.median(r)), "p95": float(np.percentile(r, 95)), "max": float(r.max()),
                  "share_beaten_by_1pct": float(np.mean(r > BEATEN_BY))}


def method_summary(l2: np.ndarray, run: MethodRun, x: np.ndarray) -> dict:
    """Success, median L2, time; ``moved_not_fooled``: pairs whose answer is not the original image yet not
    the target (adv-lib returns the original image where it never fooled the model)."""
    ok, pairs = np.isfinite(l2), len(x)
    moved = (np.concatenate(run.adversarial) != x).any(axis=(1, 2))
    return {"success": float(ok.mean()), "l2_median": float(np.median(l2[ok])) if ok.any() else None,
            "moved_not_fooled": int(np.sum(moved & ~ok)), "changed_flush_to_zero": run.changed_flush,
            "seconds": run.seconds, "cpu_seconds": run.cpu_seconds, "seconds_per_pair": run.seconds / pairs,
            "chunk_seconds": run.chunk_seconds}


def _json_l2(l2: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in l2]


# -- the batch target: all pairs in one call against DDN-100 ----------------------------------


def batch_vs_ddn100(model: nn.Module, x: np.ndarray, t: np.ndarray, ours: Method, ddn100: Method, repeats: int, flush: bool) -> dict:
    """``repeats`` rounds of one call each, in the order ours, DDN, DDN, ours, ... (ABBA); the median of each."""
    runs = {ours.name: MethodRun(), ddn100.name: MethodRun()}
    for k in range(repeats):
        for m in (ours, ddn100) if k % 2 == 0 else (ddn100, ours):
            timed_call(m, model, x, t, flush, runs[m.name])
            print(f"  batch of {len(x)}, flush-to-zero {'on' if flush else 'off'}: {m.name} {runs[m.name].chunk_seconds[-1]:.1f} s", flush=True)
    success = {k: float(np.isfinite(checked_l2(model, x, t, r.adversarial[-1])).mean()) for k, r in runs.items()}
    ours_s, ddn_s = (float(np.median(runs[k].chunk_seconds)) for k in (ours.name, ddn100.name))
    return {"pairs": len(x), "flush_to_zero": flush, "ours_seconds": runs[ours.name].chunk_seconds,
            "ddn100_seconds": runs[ddn100.name].chunk_seconds, "ours_success": success[ours.name],
            "ddn100_success": success[ddn100.name], "ours_changed_flush": runs[ours.name].changed_flush, "ratio": ours_s / ddn_s}


# -- one model ---------------------------------------------------------------------------------


def run_model(name: str, args, lib: types.SimpleNamespace, api: OursApi, clock: Clock) -> dict:
    model = load_model(name)
    digits, _, img, tgt = test_pairs(model, args.digits)
    x, n = digits[img], len(img)
    ours_record, budget_record = OursRecord(), OursRecord()
    ours = ours_method(api, "ours", ours_record)
    peers = peer_methods(lib, args.steps)
    methods = [ours, *peers]
    if api.max_evaluations:
        methods.append(ours_method(api, f"ours-{BUDGET}", budget_record, max_evaluations=BUDGET))
    print(f"{name}: {n} pairs, chunks of {9 * args.chunk_digits}: " + ", ".join(m.name for m in methods), flush=True)
    torch.set_flush_denormal(args.flush_denormal == "on")
    warm_up(model, x, tgt, methods)
    ours_record.clear()
    budget_record.clear()
    runs = run_interleaved(model, x, tgt, methods, 9 * args.chunk_digits, args.flush_denormal == "on")
    clock.tick()
    l2 = {m.name: checked_l2(model, x, tgt, np.concatenate(runs[m.name].adversarial)) for m in methods}
    out: dict = {"model": name, "digits": int(len(set(img.tolist()))), "pairs": n, "chunk_pairs": 9 * args.chunk_digits,
                 "image_index": img.tolist(), "target": tgt.tolist(),
                 "methods": {m.name: {"settings": m.settings, **method_summary(l2[m.name], runs[m.name], x)} for m in methods},
                 "l2": {k: _json_l2(v) for k, v in l2.items()}}
    out["ours_claims"] = ours_record.summary(l2["ours"])
    out["comparison"] = compare(l2, runs, [m.name for m in peers])
    if api.max_evaluations:
        best = np.min([l2[p.name] for p in peers], axis=0)
        out["budget"] = {"over_best_peer": l2_ratios(l2[f"ours-{BUDGET}"], best), "claims": budget_record.summary(l2[f"ours-{BUDGET}"])}
    if name in args.batch_models:
        bx, bt = batch_pairs(model, args.batch_pairs)
        ddn100 = _peer("DDN-100", lib.ddn, {"steps": 100, "γ": 0.05, "init_norm": 1.0, "levels": None})
        out["batch_vs_ddn100"] = [batch_vs_ddn100(model, bx, bt, ours_method(api, "ours", OursRecord()), ddn100, args.batch_repeats, mode == "on")
                                  for mode in args.batch_flush]
        clock.tick()
    return out


def compare(l2: dict[str, np.ndarray], runs: dict[str, MethodRun], peers: list[str]) -> dict:
    """Ours over the best peer per pair and over each peer; ours' time over each peer's."""
    best = np.min([l2[p] for p in peers], axis=0)
    return {"peers": peers, "over_best_peer": l2_ratios(l2["ours"], best),
            "best_peer_success": float(np.isfinite(best).mean()),
            "over_each": {p: l2_ratios(l2["ours"], l2[p]) for p in peers},
            "time_over_each": {p: runs["ours"].seconds / runs[p].seconds for p in peers},
            "wins": {p: int(np.sum(l2[p] == best)) for p in peers}}


def batch_pairs(model: nn.Module, pairs: int) -> tuple[np.ndarray, np.ndarray]:
    digits, _, img, tgt = test_pairs(model, (pairs + 8) // 9)
    return digits[img[:pairs]], tgt[:pairs]


# -- the report --------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _time(seconds: float, u: float) -> str:
    return f"{seconds * 1e3:.2f} ms ({seconds / u:.0f}u)"


def _method_rows(m: dict, u: float) -> list[str]:
    c = m["comparison"]
    rows = ["| method | success | moved, not fooled | median L2 | ours / it per pair: median | p95 | max | it beats ours by > 1% "
            "| time per pair | ours' time / its |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in m["methods"].items():
        median = f"{s['l2_median']:.4f}" if s["l2_median"] is not None else "-"
        if name in c["over_each"]:
            r = c["over_each"][name]
            cells = (f"{r['median']:.5f} | {r['p95']:.5f} | {r['max']:.4f} | {r['share_beaten_by_1pct']:.1%} | "
                     f"{_time(s['seconds_per_pair'], u)} | {c['time_over_each'][name]:.3f}")
        else:
            cells = f" | | | | {_time(s['seconds_per_pair'], u)} | "
        rows.append(f"| {name} | {s['success']:.1%} | {s['moved_not_fooled']} | {median} | {cells} |")
    return rows


def _parity_lines(m: dict) -> list[str]:
    c, b = m["comparison"], m["comparison"]["over_best_peer"]
    ours_ok = m["methods"]["ours"]["success"]
    fastest = min(c["time_over_each"], key=lambda p: m["methods"][p]["seconds"])
    slowest = max(c["time_over_each"], key=lambda p: m["methods"][p]["seconds"])
    share_of_fastest = c["time_over_each"][fastest]
    lines = [f"Ours over the best of {', '.join(c['peers'])} per pair: median {b['median']:.5f} (target <= {PARITY_MEDIAN}: "
             f"{_verdict(b['median'] <= PARITY_MEDIAN)}), p95 {b['p95']:.5f} (<= {PARITY_P95}: {_verdict(b['p95'] <= PARITY_P95)}), "
             f"max {b['max']:.4f}; a peer beats ours by more than 1% on {b['share_beaten_by_1pct']:.1%} of pairs. "
             f"Success: ours {ours_ok:.1%} (target 100%: {_verdict(ours_ok == 1.0)}), the best peer {c['best_peer_success']:.1%}. "
             f"Best peer per pair: " + ", ".join(f"{p} {k}" for p, k in c["wins"].items()) + ".",
             f"Time: ours / the fastest peer ({fastest}) {share_of_fastest:.3f}, / the slowest ({slowest}) "
             f"{c['time_over_each'][slowest]:.3f} (target <= {TIME_SHARE} of each: {_verdict(share_of_fastest <= TIME_SHARE)}). "
             f"Ours' evaluations per pair (its own count): median {m['ours_claims']['evaluations']['median']:.0f}, "
             f"p95 {m['ours_claims']['evaluations']['p95']:.0f}, max {m['ours_claims']['evaluations']['max']}; "
             f"pairs ours called fooled that the check did not: {m['ours_claims']['claimed_but_not_fooled']}."]
    if "budget" in m:
        r = m["budget"]["over_best_peer"]
        lines.append(f"With max_evaluations={BUDGET} (the peers' {BUDGET} steps): ours over the best peer median {r['median']:.5f}, "
                     f"p95 {r['p95']:.5f}, max {r['max']:.4f}, a peer better by > 1% on {r['share_beaten_by_1pct']:.1%} "
                     f"(target: median <= 1.0, the best of them or better: {_verdict(r['median'] <= 1.0)}); "
                     f"evaluations used: median {m['budget']['claims']['evaluations']['median']:.0f}, "
                     f"max {m['budget']['claims']['evaluations']['max']}; pairs it called fooled that the check did not: "
                     f"{m['budget']['claims']['claimed_but_not_fooled']}.")
    else:
        lines.append(f"With max_evaluations={BUDGET}: needs max_evaluations (today's lbfgs_attack_batch has no such argument).")
    return lines


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _batch_line(b: dict) -> str:
    changed = f"; ours' calls left flush-to-zero changed {b['ours_changed_flush']} times" if b["ours_changed_flush"] else ""
    return (f"All {b['pairs']} pairs in one call, flush-to-zero {_on_off(b['flush_to_zero'])}: ours {np.median(b['ours_seconds']):.2f} s, "
            f"adv-lib DDN-100 (levels=None) {np.median(b['ddn100_seconds']):.2f} s (medians of {len(b['ours_seconds'])}, ABBA), "
            f"ratio {b['ratio']:.3f} (target <= {BATCH_RATIO}: {_verdict(b['ratio'] <= BATCH_RATIO)}); success ours "
            f"{b['ours_success']:.1%}, DDN-100 {b['ddn100_success']:.1%}{changed}.")


def markdown(r: dict) -> str:
    u = r["u_seconds"]
    lines = [f"Run {r['label'] or '(unlabelled)'} started {r['started']}, torch {r['torch']}, adv-lib {r['adv_lib']}, {r['cpu']}, "
             f"one torch thread, flush-to-zero {r['flush_denormal']} before every call of the interleaved methods. "
             f"u = one forward+backward of cnn on one image: median {u['median_ms']:.3f} ms "
             f"(p5-p95 {u['p5_ms']:.3f}-{u['p95_ms']:.3f}). Load average (1 min) at the start and after each model: "
             f"{r['load_average']}. Success and L2 as checked here (the model on each float32 image alone, inside [0, 1]); "
             "'moved, not fooled': answers other than the original image that the check rejects.", ""]
    for name, m in r["models"].items():
        lines += [f"### {name}: {m['digits']} test digits x 9 targets = {m['pairs']} pairs, chunks of {m['chunk_pairs']}, "
                  "methods interleaved", "", *_method_rows(m, u["median_ms"] / 1e3), "", *_parity_lines(m)]
        changed = [k for k, v in m["methods"].items() if v["changed_flush_to_zero"]]
        if changed:
            lines.append("Calls that left flush-to-zero changed: " + ", ".join(f"{k} {m['methods'][k]['changed_flush_to_zero']}" for k in changed))
        lines += [_batch_line(b) for b in m.get("batch_vs_ddn100", [])]
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=100)
    parser.add_argument("--models", nargs="+", default=["cnn", "fc100-100-10", "ae400-10", "fc10-1e-2"])
    parser.add_argument("--steps", type=int, default=1000, help="the peers' steps (forward+backward per image)")
    parser.add_argument("--chunk-digits", type=int, default=10, help="digits per interleaved chunk (x 9 pairs per call)")
    parser.add_argument("--batch-pairs", type=int, default=900, help="pairs in the one-call comparison with DDN-100")
    parser.add_argument("--batch-models", nargs="*", default=["cnn", "fc100-100-10", "ae400-10"],
                        help="models of the one-call comparison with DDN-100 (none: leave it out)")
    parser.add_argument("--batch-repeats", type=int, default=2)
    parser.add_argument("--flush-denormal", choices=("off", "on"), default="off",
                        help="flush-to-zero of subnormal floats, set before every timed call (off: torch's default)")
    parser.add_argument("--batch-flush", nargs="+", choices=("off", "on"), default=["off", "on"],
                        help="the one-call comparison with DDN-100 under each of these flush-to-zero modes")
    parser.add_argument("--label", default="", help="a name for this run")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lib, api = adv_lib_attacks(), OursApi.today()
    if not api.max_evaluations:
        print(f"needs max_evaluations: lbfgs_attack_batch has no budget argument yet; the {BUDGET}-evaluation comparison is left out")
    digits, _ = bundled_split("test")
    clock = Clock(load_model("cnn"), digits[0].astype(np.float32) / 255)
    report: dict = {"label": args.label, "torch": torch.__version__, "adv_lib": lib.version, "ours_api": asdict(api),
                    "cpu": platform.processor() or platform.machine(), "started": time.strftime("%Y-%m-%d %H:%M"),
                    "argv": sys.argv[1:], "flush_denormal": args.flush_denormal, "models": {}}
    load = [os.getloadavg()]
    for name in args.models:
        report["models"][name] = run_model(name, args, lib, api, clock)
        load.append(os.getloadavg())
    report["u_seconds"], report["load_average"] = spread(clock.samples), [round(v[0], 2) for v in load]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_peers-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-{args.label}" if args.label else "")
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    text = markdown(report)
    (args.out / f"{stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
