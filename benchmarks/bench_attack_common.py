"""Helpers of bench_attack_targets.py: the time unit, statistics, the peers, the drawn digits.

Written against the attack's oldest public surface (``advviewer.data.bundled_split``, a list
or an ``AttackResults`` from a batch call, ``result.evaluations``) so that the same benchmark runs
on an older checkout (``PYTHONPATH=old/src``) for before/after figures.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import torch

TESTS = Path(__file__).resolve().parent.parent / "tests"


class Clock:
    """The unit u: one plain forward+backward pass of cnn on one image (autograd, cross-entropy, batch of one),
    with torch's default convolutions (oneDNN) whatever the run sets.

    Sampled at every ``tick()`` (between the sections of a run), so the figures in u follow the
    machine's load over the run; all samples together give the unit's median and spread.
    """

    def __init__(self, cnn, image: np.ndarray, reps: int = 100) -> None:
        self.x = torch.as_tensor(image, dtype=torch.float32).view(1, 1, 28, 28)
        self.model, self.reps = cnn, reps
        self.samples: list[float] = []
        self.tick()

    def tick(self) -> None:
        label = torch.tensor([1])
        onednn = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = True  # u is one pass with torch's default convolutions, whatever the run sets
        try:
            for i in range(self.reps + 5):
                x = self.x.clone().requires_grad_(True)
                start = time.perf_counter()
                torch.nn.functional.cross_entropy(self.model(x), label).backward()
                if i >= 5:
                    self.samples.append(time.perf_counter() - start)
        finally:
            torch.backends.mkldnn.enabled = onednn

    @property
    def u(self) -> float:
        return float(np.median(self.samples))


def spread(values, unit: float | None = None) -> dict:
    """Median, p5, p95 and max of seconds, as ms (and in u when ``unit`` is given)."""
    v = np.asarray(values, dtype=np.float64)
    out = {"n": int(v.size)}
    for key, q in (("median", 50), ("p5", 5), ("p95", 95), ("max", 100)):
        s = float(np.percentile(v, q))
        out[f"{key}_ms"] = s * 1e3
        if unit:
            out[f"{key}_u"] = s / unit
    return out


def counts(values) -> dict:
    v = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(v)), "p95": float(np.percentile(v, 95)), "max": float(v.max())}


def ratios(values, reference) -> dict:
    r = np.asarray(values, dtype=np.float64) / np.asarray(reference, dtype=np.float64)
    return {"median": float(np.median(r)), "p95": float(np.percentile(r, 95)), "max": float(r.max()),
            "share_above_1": float(np.mean(r > 1 + 1e-9))}


def l2_if_success(predict, model, x: np.ndarray, t: np.ndarray, adv: np.ndarray) -> np.ndarray:
    ok = predict(model, adv).argmax(1) == t
    l2 = np.linalg.norm((adv - x).reshape(len(x), -1), axis=1)
    return np.where(ok, l2, np.inf)


def foolbox_run(model, x: np.ndarray, t: np.ndarray, attack) -> tuple[np.ndarray, float, float]:
    """Adversarial images (clipped to [0, 1], checked by the caller), the batch's wall time and its CPU time."""
    import foolbox as fb

    fmodel = fb.PyTorchModel(model, bounds=(0, 1))
    criterion = fb.criteria.TargetedMisclassification(torch.as_tensor(t))
    start, cpu = time.perf_counter(), time.process_time()
    _, clipped, _ = attack(fmodel, torch.as_tensor(x)[:, None], criterion, epsilons=None)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    return clipped.detach().clamp(0, 1)[:, 0].numpy().astype(np.float32), seconds, cpu_seconds


def peers(predict, model, x: np.ndarray, t: np.ndarray, steps: tuple[int, ...] = (100, 1000)) -> dict:
    """DDN at each step count and FMN (L2FMNAttack) at the largest, on all pairs in one batch each."""
    import foolbox as fb

    attacks = {f"DDN-{s}": fb.attacks.DDNAttack(steps=s) for s in steps}
    if max(steps) >= 1000:  # the quality yardstick, not needed for a speed run
        attacks[f"FMN-{max(steps)}"] = fb.attacks.L2FMNAttack(steps=max(steps))
    out = {}
    for name, attack in attacks.items():
        print(f"  {name} ...", flush=True)
        adv, seconds, cpu_seconds = foolbox_run(model, x, t, attack)
        out[name] = {"l2": l2_if_success(predict, model, x, t, adv), "seconds": seconds,
                     "cpu_seconds": cpu_seconds}
    return out


def drawn_digits(preprocess) -> list[np.ndarray]:
    """The mouse-style drawings of tests/strokes.py, as the window's canvas hands them to the model."""
    import sys

    sys.path.insert(0, str(TESTS))
    from strokes import draw_digit

    return [preprocess(draw_digit(d)) for d in range(10)]


def window_call(lbfgs_attack, model, x: np.ndarray, target: int | None):
    """The core call the window's "Find minimal c" makes (gui/jobs.attack_job): progress and cancel every iteration."""
    seen = []
    return lbfgs_attack(model, x, target=target, c=None, untargeted=target is None, warm_start=None,
                        callback=seen.append, cancel=threading.Event())


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: getrusage's ru_maxrss of a child started by fork
    and exec reports the parent's peak, 1.5 GB for a call that needs a few hundred MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
