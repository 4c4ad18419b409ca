"""The window's "Find minimal c" on drawn digits, alone: for before/after figures of one checkout against another.

    python benchmarks/bench_attack_window.py [--label after] [--repeats 2]
    PYTHONPATH=/path/to/old/checkout python benchmarks/bench_attack_window.py --label before

The ten mouse-style drawings of tests/strokes.py, preprocessed as the canvas hands them over,
each towards every class the cnn does not already give and towards "any other class", through
the core call the window makes (advviewer/session/jobs.attack_job: progress callback and cancel event every
iteration), then, where the checkout has it, the c sweep the window draws after a found c
(advviewer.attack.c_sweep, 10 fixed-c solves). One torch thread; times in ms and in u (one forward+backward of cnn on one image,
sampled before and after every repeat in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_attack_common import Clock, drawn_digits, spread, window_call  # noqa: E402

import advviewer  # noqa: E402
from advviewer import load_model, predict, preprocess  # noqa: E402
from advviewer.attack import lbfgs_attack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    from advviewer.runtime.threads import configure

    configure(1)  # as the window runs: one torch thread, torch's own convolutions
    model = load_model("cnn")
    drawn = drawn_digits(preprocess)
    clock = Clock(model, drawn[0])
    calls = [(d, t) for d, xd in enumerate(drawn) for t in [*range(10), None] if t != int(predict(model, xd).argmax())]
    try:
        from advviewer.attack.c_sweep import c_sweep
    except ImportError:  # an older checkout: no sweep in the window yet
        c_sweep = None
    seconds, untargeted, success, sweeps = [], [], [], []
    for _ in range(args.repeats):
        for d, t in calls:
            start = time.perf_counter()
            res = window_call(lbfgs_attack, model, drawn[d], t)
            s = time.perf_counter() - start
            seconds.append(s)
            success.append(bool(res.success))
            if t is None:
                untargeted.append(s)
            if c_sweep is not None and res.success:
                start = time.perf_counter()
                c_sweep(model, res)
                sweeps.append(time.perf_counter() - start)
        clock.tick()
    u = clock.u
    out = {"label": args.label, "code": str(Path(advviewer.__file__).parent), "load_average": os.getloadavg()[0],
           "u_ms": u * 1e3, "calls": len(seconds), "success": float(np.mean(success)),
           "every_call": spread(seconds, u), "any_other_class": spread(untargeted, u)}
    if sweeps:
        out["c_sweep_after"] = spread(sweeps, u)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"bench_attack_window-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-{args.label}" if args.label else "")
    (args.out / f"{stem}.json").write_text(json.dumps(out, indent=1) + "\n")
    for key in [k for k in ("every_call", "any_other_class", "c_sweep_after") if k in out]:
        s = out[key]
        print(f"{args.label} {key}: n {s['n']}, median {s['median_ms']:.1f} ms ({s['median_u']:.0f}u), p95 "
              f"{s['p95_ms']:.1f} ms ({s['p95_u']:.0f}u), max {s['max_ms']:.1f} ms ({s['max_u']:.0f}u)")
    print(f"u = {out['u_ms']:.3f} ms, success {out['success']:.0%}, load {out['load_average']:.2f}, code {out['code']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
