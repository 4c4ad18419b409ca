"""The desktop program as a person gets it: built once with the README's ``bash tools/dev.sh package``,
then run frozen and offscreen (packaging/smoke.py), installed into a scratch home and removed again.

The build takes several minutes, so every test here shares one bundle; if the build fails, they
all fail. The frozen program is compared with the Python entry point (``python -m advviewer``) on
the same inputs: the bundle must behave like the package it was made from.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

from desktop_files import APP_ID, DESKTOP_FILE, ICON_NAME  # noqa: E402
from icons import SIZES  # noqa: E402
from smoke import Run, offscreen_env, run, smoke, write_digit  # noqa: E402

pytestmark = pytest.mark.slow

BUILD_TIMEOUT = 40 * 60  # CI has 90 minutes in all; a quiet machine builds in about 5


@dataclass
class Bundle:
    appdir: Path
    archive: Path
    version: str

    @property
    def exe(self) -> Path:
        return self.appdir / "advviewer"


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    # the build is long by design: pytest's 300 s hang report would only add noise, and the
    # subprocess timeout below is the guard against a hang
    faulthandler.cancel_dump_traceback_later()
    out = subprocess.run(["bash", str(ROOT / "tools" / "dev.sh"), "package", "--dist", str(dist)],
                         capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT)
    assert out.returncode == 0, f"bash tools/dev.sh package failed (status {out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-8000:]}"
    (archive,) = dist.glob("advviewer-*-linux-x86_64.tar.gz")
    yield Bundle(dist / "advviewer", archive, archive.name.split("-")[1])
    shutil.rmtree(dist, ignore_errors=True)  # about 1 GB


@pytest.fixture
def digit(tmp_path):
    return write_digit(tmp_path)


def python_entry_point(args: list, cwd: Path, env: dict) -> Run:
    return run([sys.executable, "-m", "advviewer", *args], cwd, env)


def assert_clean(result: Run) -> None:
    assert result.returncode == 0 and result.marker is None, result.describe()


def test_smoke_screenshot_predict_attack_train(bundle, tmp_path):
    problems = smoke(bundle.exe, tmp_path)
    assert not problems, "\n\n".join(problems)


def test_window_screenshot_matches_the_python_entry_point(bundle, digit, tmp_path):
    from PIL import Image

    path, label = digit
    env = offscreen_env(tmp_path)
    shots = {}
    for name, runner in (("frozen", lambda a: run([bundle.exe, *a], tmp_path, env)), ("python", lambda a: python_entry_point(a, tmp_path, env))):
        shot = tmp_path / f"{name}.png"
        assert_clean(runner(["--screenshot", shot, "--image", path, "--target", str((label + 5) % 10)]))
        with Image.open(shot) as image:
            shots[name] = np.asarray(image.convert("RGB")).astype(int)
    frozen, python = shots["frozen"], shots["python"]
    assert frozen.shape == python.shape and frozen.shape[0] > 400 and frozen.shape[1] > 600
    assert len(np.unique(frozen.reshape(-1, 3), axis=0)) > 100, "the screenshot is (nearly) one colour, not the window"
    same = np.mean(np.all(np.abs(frozen - python) <= 8, axis=2))
    assert same > 0.97, f"only {same:.1%} of the frozen window's pixels match the Python entry point's"


def test_predict_and_attack_answer_as_the_python_entry_point(bundle, digit, tmp_path):
    path, label = digit
    env = offscreen_env(tmp_path)
    answers = {}
    for name, cmd in (("frozen", [bundle.exe]), ("python", [sys.executable, "-m", "advviewer"])):
        predicted = run([*cmd, "predict", "--json", path.name], tmp_path, env)
        attacked = run([*cmd, "attack", path.name, "--target", str((label + 1) % 10), "--out", f"out-{name}", "--json"], tmp_path, env)
        for result in (predicted, attacked):
            assert_clean(result)
        record = json.loads(attacked.stdout.splitlines()[0])
        answers[name] = (json.loads(predicted.stdout), {k: v for k, v in record.items() if "second" not in k and "time" not in k})
    assert answers["frozen"][0]["class"] == label
    assert answers["frozen"][1]["success"] is True
    assert answers["frozen"] == answers["python"]


def test_training_in_the_bundle_matches_the_python_entry_point(bundle, digit, tmp_path):
    """torch.optim in a frozen torch (needs torch's sources): the same weights, byte for byte, on this machine."""
    path, _ = digit
    env = offscreen_env(tmp_path)
    for name, cmd in (("frozen", [bundle.exe]), ("python", [sys.executable, "-m", "advviewer"])):
        assert_clean(run([*cmd, "train", "fc10-1e-4", "--epochs", "1", "--out", f"{name}.pt"], tmp_path, env))
    digest = {name: hashlib.sha256((tmp_path / f"{name}.pt").read_bytes()).hexdigest() for name in ("frozen", "python")}
    assert digest["frozen"] == digest["python"]
    assert_clean(run([bundle.exe, "predict", "--model", "frozen.pt", path], tmp_path, env))


def test_bundle_opens_a_users_exported_model(bundle, digit, tmp_path):
    """A user's torch.export program (.pt2) runs in the frozen program through our allow-listed
    interpreter and answers exactly as the Python entry point does."""
    import torch

    from advviewer.models import export_classifier

    path, _ = digit
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    export_classifier(model, tmp_path / "mine.pt2")
    env = offscreen_env(tmp_path)
    frozen = run([bundle.exe, "predict", "--json", "--model", "mine.pt2", path.name], tmp_path, env)
    python = python_entry_point(["predict", "--json", "--model", "mine.pt2", path.name], tmp_path, env)
    assert_clean(frozen)
    assert frozen.stdout == python.stdout


def test_without_a_display_the_window_says_so_in_one_line(bundle, tmp_path):
    env = {k: v for k, v in offscreen_env(tmp_path).items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    result = run([bundle.exe], tmp_path, env, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode not in (0, None) and len(lines) == 1 and lines[0].startswith("advviewer: "), result.describe()
    assert result.marker is None, result.describe()


def test_folder_is_an_appdir_with_icons_and_nothing_it_never_uses(bundle):
    from PIL import Image

    appdir = bundle.appdir
    for name in ("AppRun", "install.sh", "uninstall.sh", "advviewer"):
        assert os.access(appdir / name, os.X_OK), name
    assert (appdir / DESKTOP_FILE).is_file()
    assert os.readlink(appdir / ".DirIcon") == f"{ICON_NAME}.png"
    with Image.open(appdir / f"{ICON_NAME}.png") as icon:
        assert icon.size == (256, 256)
    hicolor = appdir / "usr/share/icons/hicolor"
    for size in SIZES:
        with Image.open(hicolor / f"{size}x{size}/apps/{ICON_NAME}.png") as icon:
            alpha = np.asarray(icon.convert("RGBA"))[..., 3]
        assert alpha.shape == (size, size) and 0.5 < np.mean(alpha > 0) < 1.0, f"{size} px icon is blank or has no transparent corners"
    assert (hicolor / f"scalable/apps/{ICON_NAME}.svg").read_bytes().startswith(b"<svg")
    assert (appdir / f"usr/share/metainfo/{APP_ID}.metainfo.xml").is_file()

    internal = appdir / "_internal"
    files = [p.relative_to(internal).as_posix() for p in internal.rglob("*") if p.is_file()]
    cuda_library = re.compile(r"(^|[_-])cuda|^libcu(blas|dnn|fft|rand|solver|sparse|pti|dart|file)|^libnv|nccl")
    cuda = [f for f in files if ".so" in Path(f).name and cuda_library.search(Path(f).name.lower()) or f.startswith("nvidia/")]
    assert not cuda, f"CUDA libraries in the bundle: {cuda}"
    unused = [f for f in files if f.startswith(("tkinter/", "scipy/", "torch/test/", "torch/include/", "PySide6/QtQml", "PySide6/QtQuick",
                                                  "PySide6/QtNetwork", "PySide6/Qt/qml/")) or "_tkinter" in f]
    unused += [f for f in files if f.startswith("torch/bin/") and f != "torch/bin/torch_shm_manager"]
    assert not unused, f"left in although the program never uses them: {unused[:20]}"
    # the contrib torch hook's sources: torch.optim reads them in the frozen program
    assert "torch/optim/adam.py" in files


def test_qt_x11_plugin_brings_its_libraries(bundle):
    """Everything Qt's xcb plugin links against travels with it, except what every X11 desktop has
    (PyInstaller's own list of system libraries: libc, libGL, libX11's core...), so a desktop without
    libxcb-cursor0 or libxcb-icccm4 still opens the window."""
    from PyInstaller.depend.dylib import include_library

    internal = bundle.appdir / "_internal"
    bundled = {p.name for p in internal.rglob("*.so*")}
    missing = set()
    for plugin in (internal / "PySide6/Qt/plugins/platforms/libqxcb.so", internal / "PySide6/Qt/lib/libQt6XcbQpa.so.6"):
        needed = subprocess.run(["readelf", "-d", str(plugin)], capture_output=True, text=True, check=True).stdout
        for name in (line.split("[", 1)[1].rstrip("]") for line in needed.splitlines() if "(NEEDED)" in line):
            if include_library(name) and name not in bundled:
                missing.add(name)
    assert not missing, f"not in the bundle (install them where it is built: tools/dev.sh package_tools): {sorted(missing)}"


def test_desktop_entry_and_appstream_metadata_validate(bundle):
    for tool in ("desktop-file-validate", "appstreamcli"):
        assert shutil.which(tool), f"{tool} missing: apt-get install desktop-file-utils appstream (tools/dev.sh package does)"
    desktop = subprocess.run(["desktop-file-validate", str(bundle.appdir / DESKTOP_FILE)], capture_output=True, text=True)
    assert desktop.returncode == 0 and not desktop.stdout.strip(), desktop.stdout
    metainfo = bundle.appdir / f"usr/share/metainfo/{APP_ID}.metainfo.xml"
    appstream = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", str(metainfo)], capture_output=True, text=True)
    assert appstream.returncode == 0, appstream.stdout + appstream.stderr


def snapshot(home: Path) -> dict[str, str]:
    """Every path under home with what it holds (a file's hash, a link's target, or a folder)."""
    state = {}
    for p in sorted(home.rglob("*")):
        rel = str(p.relative_to(home))
        if p.is_symlink():
            state[rel] = "-> " + os.readlink(p)
        elif p.is_dir():
            state[rel] = "dir"
        else:
            state[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


def test_install_and_uninstall_from_the_archive_in_a_scratch_home(bundle, digit, tmp_path):
    path, label = digit
    with tarfile.open(bundle.archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    unpacked = tmp_path / "unpacked" / f"advviewer-{bundle.version}"
    home = tmp_path / "home"
    (home / ".local/share/applications").mkdir(parents=True)
    (home / ".local/share/applications/someone-else.desktop").write_text("[Desktop Entry]\nType=Application\nName=x\nExec=x\n")
    (home / "notes.txt").write_text("the user's own file\n")
    before = snapshot(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "QT_", "PYTHON"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen")

    for attempt in ("install", "install again (replaces the first)"):
        result = run(["sh", unpacked / "install.sh"], tmp_path, env, timeout=600)
        assert result.returncode == 0, f"{attempt}:\n{result.describe()}"
    data = home / ".local/share"
    entry = data / "applications" / DESKTOP_FILE
    valid = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert valid.returncode == 0 and not valid.stdout.strip(), valid.stdout
    for size in SIZES:
        assert (data / f"icons/hicolor/{size}x{size}/apps/{ICON_NAME}.png").is_file()
    shutil.rmtree(tmp_path / "unpacked")  # the installed copy stands on its own

    # the menu entry's command line, as the desktop would run it (with a sub-command instead of the window)
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    command = shlex.split(exec_line.removeprefix("Exec="))
    assert Path(command[0]).is_relative_to(data / "advviewer")
    for program in (command, [home / ".local/bin/advviewer"]):
        result = run([*program, "predict", "--json", path], tmp_path, env)
        assert_clean(result)
        assert json.loads(result.stdout)["class"] == label

    result = run(["sh", data / "advviewer/program/uninstall.sh"], tmp_path, env, timeout=300)
    assert result.returncode == 0, result.describe()
    assert snapshot(home) == before


def test_install_refuses_to_overwrite_someone_elses_launcher(bundle, tmp_path):
    home = tmp_path / "home"
    (home / ".local/bin").mkdir(parents=True)
    (home / ".local/bin/advviewer").write_text("#!/bin/sh\necho a pip-installed advviewer\n")
    before = snapshot(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    result = run(["sh", bundle.appdir / "install.sh"], tmp_path, env, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and ".local/bin/advviewer already exists" in lines[0], result.describe()
    assert snapshot(home) == before


def test_licence_texts_of_everything_bundled_with_an_index(bundle):
    """Needed before the archive is handed on: every distribution, Python and every system library, with its text."""
    licenses = bundle.appdir / "licenses"
    index = (licenses / "INDEX.txt").read_text()
    listed = [licenses / line.strip() for line in index.splitlines() if line.startswith("    ")]
    empty = [p for p in listed if not p.is_file() or p.stat().st_size == 0]
    assert listed and not empty, empty
    shipped = {p for p in licenses.rglob("*") if p.is_file() and p.name != "INDEX.txt"}
    assert shipped == set(listed), "files in licenses/ that the index does not list, or the other way round"
    components = [line for line in index.splitlines() if line and not line.startswith(" ")]
    for name in ("torch", "PySide6_Essentials", "shiboken6", "numpy", "pillow", "pyqtgraph", "psygnal", "Python"):
        assert any(line.startswith(f"{name} ") for line in components), f"{name} is not in licenses/INDEX.txt"
    lgpl = (licenses / "PySide6_Essentials" / "LGPL-3").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in lgpl and "Version 3" in lgpl
    internal = bundle.appdir / "_internal"
    for info in internal.glob("*.dist-info"):  # the distributions PyInstaller copied metadata of
        name = info.name.split("-")[0].lower().replace("_", "-")
        assert any(line.lower().replace("_", "-").startswith(name + " ") for line in components), f"{info.name} not in the index"
    system = [p.name for p in internal.glob("lib*.so*") if not p.is_symlink() and not p.name.startswith("libpython")]
    assert system and all(f" {name}" in index or f"{name}," in index or f"{name})" in index for name in system), \
        [name for name in system if name not in index]
