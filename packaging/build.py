"""Build the desktop program: dist/advviewer/ (an AppDir) and dist/advviewer-VERSION-linux-x86_64.tar.gz.

Run by ``bash tools/dev.sh package`` with the .venv's Python (PyInstaller from the ``package``
extra). Steps: the wheel unpacked into a staging folder (the layout an installed package has) ->
PyInstaller (packaging/advviewer.spec) -> icons rendered from the package's SVG -> AppDir files ->
the .desktop and AppStream files validated -> the archive. Any failure exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from desktop_files import APP_ID, DESKTOP_FILE, ICON_NAME, write_appdir_files  # noqa: E402
from icons import render_icons  # noqa: E402


def log(message: str) -> None:
    print(f"package: {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> None:
    subprocess.run(cmd, check=True, **kwargs)


def stage_wheel(work: Path) -> tuple[Path, str]:
    """Build the wheel and unpack it; returns the staging folder and the version."""
    wheels, stage = work / "wheel", work / "site"
    for folder in (wheels, stage):
        shutil.rmtree(folder, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("advviewer-*.whl")
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(stage)
    return stage, version


def freeze(stage: Path, work: Path, dist: Path) -> Path:
    env = dict(os.environ, ADVVIEWER_STAGE=str(stage))
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
         "--workpath", str(work / "pyinstaller"), str(HERE / "advviewer.spec")], env=env)
    appdir = dist / "advviewer"
    if not (appdir / "advviewer").is_file():
        raise SystemExit(f"package: PyInstaller did not produce {appdir / 'advviewer'}")
    return appdir


def validate(appdir: Path) -> None:
    """desktop-file-validate and appstreamcli (Debian: desktop-file-utils, appstream), where installed."""
    checks = [
        ["desktop-file-validate", str(appdir / DESKTOP_FILE)],
        ["appstreamcli", "validate", "--no-net", "--pedantic", str(appdir / "usr/share/metainfo" / f"{APP_ID}.metainfo.xml")],
    ]
    for cmd in checks:
        if shutil.which(cmd[0]) is None:
            log(f"note: {cmd[0]} is not installed; {Path(cmd[-1]).name} not validated")
            continue
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0 or (cmd[0] == "desktop-file-validate" and out.stdout.strip()):
            raise SystemExit(f"package: {' '.join(cmd[:-1])} rejects {Path(cmd[-1]).name}:\n{out.stdout}{out.stderr}")


def pack(appdir: Path, version: str) -> Path:
    archive = appdir.parent / f"advviewer-{version}-linux-x86_64.tar.gz"
    partial = archive.with_name(archive.name + ".part")
    # level 6: level 9 takes twice as long for under 1% less (torch's libraries dominate)
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(appdir, arcname=f"advviewer-{version}")
    partial.replace(archive)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "package", help="scratch folder (default: build/package/)")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for old in dist.glob("advviewer-*-linux-x86_64.tar.gz"):
        old.unlink()

    log("building the wheel")
    stage, version = stage_wheel(work)
    log(f"freezing advviewer {version} with PyInstaller (a few minutes)")
    appdir = freeze(stage, work, dist)
    log("rendering icons and laying out the AppDir")
    icons = render_icons(stage / "advviewer" / "resources" / "icons" / "advviewer.svg", appdir / "usr/share/icons/hicolor", ICON_NAME)
    write_appdir_files(appdir, version, icons)
    validate(appdir)
    log("packing the archive")
    archive = pack(appdir, version)
    log(f"done in {time.monotonic() - started:.0f} s: {appdir} and {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
