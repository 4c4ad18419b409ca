"""Budgets of the desktop bundle: sizes, and start-up of the frozen program next to the Python one.

    .venv/bin/python packaging/measure.py [--appdir dist/advviewer] [--repeats 7]

Sizes are apparent bytes (MB = 10^6 bytes). Timings: each run a fresh process, the frozen program
and the Python entry point (``python -m advviewer``) alternated so both see the same machine
load; wall-clock median with 10th-90th percentile, and the processes' CPU time (user + sys), which
other processes on a shared machine disturb less. Not a test: timings on a shared machine are noisy.

The budgets (issue 12): ``predict`` on a digit, launch to exit (a zoo model answers without
torch); the window, launch to its first paint ("window shown", logged by the program with -v from
/proc). Also reported: launch to the first probabilities on screen (torch and the model load in
the background after the paint), the longest the GUI thread waited meanwhile, and, as a
yardstick measured in the same minutes, ``python -c "import torch"`` alone.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from smoke import offscreen_env, run, write_digit  # noqa: E402

BUDGET_MB = {"folder": 700, "archive": 300}
BUDGET_S = {"window shown": 3.0, "predict cold start": 2.0}
WINDOW_LOG = {  # what the program logs with -v (advviewer.gui.app)
    "window shown": r"window shown ([0-9.]+) s after launch",
    "probabilities": r"first probabilities shown ([0-9.]+) s after launch",
    "GUI wait": r"longest wait of the GUI thread while the model loaded: ([0-9.]+) ms",
}


def tree_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def space_users(appdir: Path) -> dict[str, int]:
    """Bytes by what they belong to: the first folder under _internal (torch/lib apart), else the file."""
    internal = appdir / "_internal"
    groups: dict[str, int] = defaultdict(int)
    for p in appdir.rglob("*"):
        if not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(internal).parts if internal in p.parents else ("(AppDir) " + p.relative_to(appdir).parts[0],)
        if rel[0] == "torch":
            key = "torch/lib (C++ libraries)" if rel[1:2] == ("lib",) else "torch (Python sources and data)"
        elif rel[0] == "PySide6":
            key = "PySide6 + Qt"
        elif len(rel) == 1 and ".so" in rel[0]:
            key = "libpython3.11" if rel[0].startswith("libpython") else "system libraries (X11, glib, fonts, ssl, ...)"
        else:
            key = rel[0].replace(".libs", "")
        groups[key] += p.lstat().st_size
    if (appdir / "advviewer").is_file():
        groups["advviewer executable (bootloader + all Python bytecode)"] = groups.pop("(AppDir) advviewer", 0)
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]))


def timed(args: list, cwd: Path, env: dict) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the child) and stderr of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run(args, cwd, env, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"measure: run failed:\n{result.describe()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result.seconds, cpu, result.stderr


def summary(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{np.median(a):.2f} s ({np.percentile(a, 10):.2f}-{np.percentile(a, 90):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appdir", type=Path, default=HERE.parent / "dist" / "advviewer")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    appdir = args.appdir.resolve()
    archives = sorted(appdir.parent.glob("advviewer-*-linux-x86_64.tar.gz"))

    print(f"load average at start: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    folder = tree_bytes(appdir)
    print(f"folder  {folder / 1e6:7.1f} MB   (budget {BUDGET_MB['folder']} MB)  {appdir}")
    if archives:
        print(f"archive {archives[-1].stat().st_size / 1e6:7.1f} MB   (budget {BUDGET_MB['archive']} MB)  {archives[-1].name}")
    print("what takes the space:")
    for name, size in list(space_users(appdir).items())[:12]:
        print(f"  {size / 1e6:7.1f} MB  {name}")

    programs = {"frozen": [str(appdir / "advviewer")], "python": [sys.executable, "-m", "advviewer"]}
    with tempfile.TemporaryDirectory(prefix="advviewer-measure-") as tmp:
        folder_tmp = Path(tmp)
        digit, _ = write_digit(folder_tmp)
        env = offscreen_env(folder_tmp)
        wall, cpu, window = defaultdict(list), defaultdict(list), defaultdict(lambda: defaultdict(list))
        for _ in range(args.repeats):
            for name, cmd in programs.items():
                w, c, _ = timed([*cmd, "predict", digit], folder_tmp, env)
                wall[name].append(w)
                cpu[name].append(c)
                _, c, err = timed([*cmd, "-v", "--screenshot", folder_tmp / "shot.png"], folder_tmp, env)
                window[name]["CPU"].append(c)
                for key, pattern in WINDOW_LOG.items():
                    if match := re.search(pattern, err):
                        window[name][key].append(float(match.group(1)) / (1e3 if key == "GUI wait" else 1.0))
            w, c, _ = timed([sys.executable, "-c", "import torch"], folder_tmp, env)
            wall["import torch"].append(w)
            cpu["import torch"].append(c)
    print(f"\n{args.repeats} runs each, median (p10-p90); load average at end: {os.getloadavg()[0]:.1f}")
    print(f"{'':<44}{'frozen':<24}{'python -m advviewer':<24}budget (frozen)")
    print(f"{'predict cold start, wall':<44}{summary(wall['frozen']):<24}{summary(wall['python']):<24}<= {BUDGET_S['predict cold start']} s")
    print(f"{'predict cold start, CPU':<44}{summary(cpu['frozen']):<24}{summary(cpu['python']):<24}")
    rows = (("window shown", "launch -> window shown (painted)", f"<= {BUDGET_S['window shown']} s"),
            ("probabilities", "launch -> first probabilities shown", ""),
            ("GUI wait", "longest GUI-thread wait while model loads", ""),
            ("CPU", "window run (--screenshot), CPU", ""))
    for key, label, budget in rows:
        if window["frozen"][key]:
            print(f"{label:<44}{summary(window['frozen'][key]):<24}{summary(window['python'][key]):<24}{budget}")
    for label, values in (("wall", wall), ("CPU", cpu)):
        print(f"{'yardstick: python -c import torch, ' + label:<44}{'':<24}{summary(values['import torch']):<24}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
