"""Smoke test of the frozen program, in the manner of Friture's scripts/smoke_test.py.

Runs the bundle's ``advviewer`` offscreen the way a person would use it and checks that each run
really worked: the window rendered to a PNG after an attack, ``predict`` on a digit, ``attack
--target``, ``train MODEL --epochs 1`` (torch.optim in a frozen torch). Every run's output is
scanned for the markers of a broken bundle (a module or shared library left out, a torch source
file missing). By hand::

    .venv/bin/python packaging/smoke.py dist/advviewer/advviewer

tests/test_package.py builds the bundle with ``bash tools/dev.sh package`` and uses these helpers.
Exit status 0 = pass, 1 = fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 300  # a cold start on a loaded 2-core machine plus an attack or one epoch

# Text that means the bundle is broken even when the program found a way to carry on.
FAILURE_MARKERS = (
    "ModuleNotFoundError",
    "ImportError",
    "Fatal Python error",
    "could not load the Qt platform plugin",
    "Could not load the Qt platform plugin",
    "Could not find the Qt platform plugin",
    "error while loading shared libraries",
    "could not get source code",
    "cannot open shared object file",
    "undefined symbol",
    "Traceback (most recent call last)",
    "Failed to execute script",
    "core dumped",
)


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def marker(self) -> str | None:
        """The first failure marker in the output, if any."""
        text = self.stdout + "\n" + self.stderr
        return next((m for m in FAILURE_MARKERS if m in text), None)

    def describe(self) -> str:
        return (f"$ {' '.join(self.args)}\nexit status {self.returncode} after {self.seconds:.1f} s\n"
                f"--- stdout (tail) ---\n{self.stdout[-1500:]}\n--- stderr (tail) ---\n{self.stderr[-3000:]}")


def offscreen_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a run: offscreen Qt, settings in a scratch folder when given one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QT_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if home is not None:
        env["XDG_CONFIG_HOME"] = str(home / "config")
        env["XDG_DATA_HOME"] = str(home / "data")
        env["XDG_CACHE_HOME"] = str(home / "cache")
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = TIMEOUT_SECONDS) -> Run:
    """Run a command in its own session (so a hang kills its helpers too) and capture everything."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(a) for a in args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += f"\nsmoke: killed after {timeout:.0f} s"
    return Run([str(a) for a in args], proc.returncode, stdout, stderr, time.perf_counter() - started)


def write_digit(folder: Path) -> tuple[Path, int]:
    """A bundled test digit as a PNG, and its label (written with the development install)."""
    from PIL import Image

    from advviewer.data import bundled_split

    images, labels = bundled_split("test")
    path = folder / "digit.png"
    Image.fromarray(images[0]).save(path)
    return path, int(labels[0])


def smoke(exe: Path, folder: Path) -> list[str]:
    """The four runs of the issue; returns the problems found (empty: pass)."""
    digit, label = write_digit(folder)
    target = (label + 3) % 10
    env = offscreen_env(folder)
    problems = []

    def check(name: str, result: Run, ok: bool) -> None:
        verdict = "ok" if ok and result.returncode == 0 and result.marker is None else "FAIL"
        print(f"{name:<28} {verdict:<5} {result.seconds:6.1f} s   marker: {result.marker or 'none'}")
        if verdict == "FAIL":
            problems.append(f"{name}:\n{result.describe()}")

    shot = folder / "window.png"
    r = run([exe, "--screenshot", shot, "--image", digit, "--target", str(target)], folder, env)
    check("window --screenshot + attack", r, shot.is_file() and shot.stat().st_size > 10_000)
    r = run([exe, "predict", "--json", digit], folder, env)
    check("predict", r, r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["class"] == label)
    r = run([exe, "attack", digit, "--target", str(target), "--out", folder / "attack", "--json"], folder, env)
    record = json.loads(r.stdout.splitlines()[0]) if r.returncode == 0 and r.stdout.strip() else {}
    check("attack --target", r, record.get("success") is True and all((folder / "attack" / f).is_file() for f in record.get("files", [""])))
    r = run([exe, "train", "fc10-1e-4", "--epochs", "1", "--out", folder / "trained.pt"], folder, env)
    check("train --epochs 1", r, (folder / "trained.pt").is_file())
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: smoke.py PATH/TO/advviewer", file=sys.stderr)
        return 2
    exe = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory(prefix="advviewer-smoke-") as tmp:
        problems = smoke(exe, Path(tmp))
    for problem in problems:
        print(f"\n{problem}")
    print(f"---- RESULT: {'FAIL' if problems else 'PASS'} ----")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
