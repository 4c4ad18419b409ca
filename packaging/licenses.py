"""The licence texts of everything the bundle carries, copied into ``licenses/`` with an index.

Called from packaging/advviewer.spec with what PyInstaller's analysis put into the folder:

- Python distributions: each module's top-level package mapped to its distribution
  (importlib.metadata), and the licence files that distribution ships in its ``.dist-info``
  (``License-File`` entries, ``licenses/`` folders, LICENSE/COPYING/NOTICE files). torch's lists
  its vendored third-party code one file each.
- Python itself (the interpreter and standard library in libpython and base_library.zip).
- System libraries taken from the build machine (X11/xcb, glib, ICU, fontconfig, ...): the Debian
  package that owns each (``dpkg -S``) and that package's ``/usr/share/doc/PACKAGE/copyright``.
- A distribution that ships no licence file (PySide6 and shiboken6 wheels ship none) gets the
  texts of the licence its metadata names from Debian's ``/usr/share/common-licenses``.

A bundled distribution whose licence cannot be found stops the build: the archive is not to be
handed on without them. ``licenses/INDEX.txt`` lists every component, its version, its licence and
its files.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

LICENCE_NAME = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|COPYRIGHT)[^/]*$|(^|/)licenses/", re.IGNORECASE)
COMMON_LICENSES = Path("/usr/share/common-licenses")
# texts for licence names in metadata when the wheel carries none (LGPL-3 builds on GPL-3's text)
COMMON_TEXTS = {"LGPL-3.0": ("LGPL-3", "GPL-3"), "GPL-3.0": ("GPL-3",), "GPL-2.0": ("GPL-2",)}
QT_NOTE = ("Qt and PySide6 are used under the GNU LGPL v3: their libraries are separate files in _internal/ "
           "(libQt6*.so.6, PySide6/, shiboken6/) and may be replaced by other builds of the same version.")


def _dist_name(dist: metadata.Distribution) -> str:
    return dist.metadata["Name"]


def _licence_of(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    short = (meta.get("License") or "").strip().splitlines()
    return "; ".join(classifiers) or (short[0][:80] if short else "see the files")


def distributions_of(top_levels: set[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions that provide these top-level modules (``numpy.libs`` counts as numpy)."""
    providers = metadata.packages_distributions()
    found: dict[str, metadata.Distribution] = {}
    for top in sorted(top_levels):
        for name in providers.get(top.removesuffix(".libs"), []):
            dist = metadata.distribution(name)
            found.setdefault(_dist_name(dist).lower(), dist)
    return found


def _copy_dist_licences(dist: metadata.Distribution, dest: Path) -> list[Path]:
    copied = []
    for file in dist.files or []:
        relative = str(file)
        if ".dist-info/" not in relative or not LICENCE_NAME.search(relative.split(".dist-info/", 1)[1]):
            continue
        source = Path(str(dist.locate_file(file)))
        target = dest / relative.split(".dist-info/", 1)[1].removeprefix("licenses/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    if not copied:  # e.g. PySide6_Essentials and shiboken6: the licence is named, its text not shipped
        for spdx, texts in COMMON_TEXTS.items():
            if spdx in _licence_of(dist):
                for text in texts:
                    target = dest / text
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(COMMON_LICENSES / text, target)
                    copied.append(target)
                break
    return copied


def _spellings(library: Path) -> list[Path]:
    """The library and the file it links to, each with and without /usr (dpkg records /lib or /usr/lib, as packaged)."""
    paths = []
    for path in (library, library.resolve()):
        text = str(path)
        paths += [path, Path(text.removeprefix("/usr")) if text.startswith("/usr/lib") else Path("/usr" + text)]
    return list(dict.fromkeys(paths))


def debian_owners(libraries: list[Path]) -> dict[str, list[Path]]:
    """Debian package -> the given system libraries it owns (resolving symlinks); unknown ones under ''."""
    owners: dict[str, list[Path]] = {}
    if not libraries or shutil.which("dpkg") is None:
        return {"": libraries} if libraries else {}
    for library in libraries:
        package = ""
        for candidate in _spellings(library):
            out = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True, check=False)
            if out.returncode == 0 and out.stdout:
                package = out.stdout.split(":", 1)[0].strip()
                break
        owners.setdefault(package, []).append(library)
    return owners


def _debian_version(package: str) -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package.split(",")[0]], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


def write_licenses(dest: Path, top_levels: set[str], system_libraries: list[Path]) -> list[str]:
    """Copy every licence into ``dest`` and write ``dest/INDEX.txt``; returns the problems (empty when complete)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    rows: list[tuple[str, str, str, list[Path]]] = []
    problems = []
    for _key, dist in sorted(distributions_of(top_levels).items()):
        name = _dist_name(dist)
        files = _copy_dist_licences(dist, dest / name)
        if not files:
            problems.append(f"{name} {dist.version}: no licence file in its .dist-info and no known text for {_licence_of(dist)!r}")
        rows.append((name, dist.version, _licence_of(dist), files))
    python_licence = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "LICENSE.txt"
    if python_licence.is_file():
        target = dest / "Python" / "LICENSE.txt"
        target.parent.mkdir()
        shutil.copyfile(python_licence, target)
        rows.append(("Python", sys.version.split()[0], "PSF-2.0", [target]))
    else:
        problems.append(f"Python's licence not found at {python_licence}")
    for package, libraries in sorted(debian_owners(system_libraries).items()):
        names = ", ".join(sorted(p.name for p in libraries))
        copyright_file = Path("/usr/share/doc") / package.split(",")[0] / "copyright" if package else None
        if copyright_file is None or not copyright_file.is_file():
            problems.append(f"no licence found for the system libraries {names}")
            continue
        target = dest / "system" / package.split(",")[0] / "copyright"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copyright_file, target)
        rows.append((f"{package} (Debian; {names})", _debian_version(package), "see copyright", [target]))
    lines = ["Third-party software in this folder, and where its licence texts are (relative to this file).",
             "Generated by packaging/licenses.py when the bundle was built.", "", QT_NOTE, ""]
    for name, version, licence, files in rows:
        lines.append(f"{name} {version}: {licence}")
        lines += [f"    {f.relative_to(dest)}" for f in files]
    (dest / "INDEX.txt").write_text("\n".join(lines) + "\n")
    return problems
