"""Before Qt opens an X11 window: does its xcb platform plugin have every shared library it needs?

When one is missing (a fresh Debian lacks libxcb-icccm4 and libxcb-keysyms1), Qt prints "no Qt
platform plugin could be initialized" and aborts the process. :func:`xcb_problem` finds the
plugin through importlib (no Qt is imported) and loads it the way Qt will (``dlopen``, cheap
when it works; Qt then finds it loaded). Only when that fails does it ask ``ldd`` (a process)
which of its libraries do not resolve, and return one line naming them and the Debian
packages that provide them. ``tools/dev.sh run``
uses the same lists (``python -m advviewer.gui.xcb_check --debian-packages``) to install them.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
_SONAME = re.compile(r"^lib(?P<name>.+?)\.so\.(?P<version>[0-9][0-9.]*)$")


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, or None when PySide6 or the plugin is not installed."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(library: Path) -> list[str]:
    """The shared libraries ``library`` needs (directly or through others) that the loader cannot find.

    Empty when ``ldd`` is not available or fails: then nothing is known to be missing.
    """
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(library)], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({m.group(1) for line in out.splitlines() if (m := _NOT_FOUND.match(line))})


def loads(library: Path) -> bool:
    """Whether the dynamic loader can load ``library`` with everything it links (it stays loaded)."""
    try:
        ctypes.CDLL(str(library), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def debian_packages(soname: str) -> list[str]:
    """Debian package names that may provide ``soname``, most likely first (Debian's library naming).

    ``libxcb-icccm.so.4`` -> libxcb-icccm4; ``libxkbcommon-x11.so.0`` -> libxkbcommon-x11-0 (a
    name ending in a digit takes a hyphen); newer releases add ``t64``; ``libglib-2.0.so.0`` is
    packaged as libglib2.0-0.
    """
    match = _SONAME.match(soname)
    if match is None:
        return []
    name, version = match.group("name").lower(), match.group("version").split(".")[0]
    names = [name, name.replace("-", "", 1)] if re.search(r"-\d", name) else [name]
    candidates = []
    for base in names:
        package = f"lib{base}-{version}" if base[-1].isdigit() else f"lib{base}{version}"
        candidates += [package, package + "t64"]
    return list(dict.fromkeys(candidates))


def known_package(candidates: list[str]) -> str | None:
    """The first of ``candidates`` apt knows (the first one when apt is not there to ask)."""
    apt_cache = shutil.which("apt-cache")
    for package in candidates:
        if apt_cache is None:
            return package
        try:
            if subprocess.run([apt_cache, "show", package], capture_output=True, timeout=20, check=False).returncode == 0:
                return package
        except (OSError, subprocess.SubprocessError):
            return package
    return None


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will pick its X11 (xcb) plugin in this environment."""
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":", 1)[0].split(";", 1)[0] == "xcb"
    wayland = bool(environ.get("WAYLAND_DISPLAY")) and environ.get("XDG_SESSION_TYPE") == "wayland"
    return sys.platform.startswith("linux") and bool(environ.get("DISPLAY")) and not wayland


def xcb_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """One line saying which libraries the X11 window lacks, or None when it should open (or Qt will say)."""
    if not uses_xcb(environ):
        return None
    plugin = xcb_plugin()
    if plugin is None or loads(plugin):
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    packages = [known_package(debian_packages(s)) or s for s in missing]
    return (f"the window cannot open: Qt's X11 plugin needs libraries this system lacks: {', '.join(missing)} "
            f"(Debian/Ubuntu: sudo apt-get install {' '.join(packages)}; or run bash tools/dev.sh run)")


def main(argv: list[str]) -> int:
    """``--debian-packages``: one line per missing library: the soname, then candidate packages."""
    plugin = xcb_plugin()
    if plugin is None:
        print("PySide6's xcb plugin is not installed", file=sys.stderr)
        return 1
    for soname in missing_libraries(plugin):
        print(" ".join([soname, *debian_packages(soname)]) if "--debian-packages" in argv else soname)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
