"""The files that make the frozen folder an AppDir and an installable desktop program.

AppDir (what appimagetool expects): AppRun, the .desktop file and the icon at the root, .DirIcon,
usr/share/metainfo and usr/share/icons/hicolor. Next to them: install.sh / uninstall.sh (the
user's menu, icons and a launcher in ~/.local/bin) and a short INSTALL.txt.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent

# AppStream wants a reverse-DNS component id. The .desktop file is named after the executable
# instead: Qt gives a Wayland window the app id "advviewer" (the executable's name) and an X11
# window the class "advviewer", and desktops match a window to its menu entry by that name.
APP_ID = "io.github.advviewer.advviewer"
DESKTOP_FILE = "advviewer.desktop"
ICON_NAME = "advviewer"
EXECUTABLES = ("AppRun", "install.sh", "uninstall.sh")


def metainfo_versions(path: Path) -> list[str]:
    return [release.get("version", "") for release in ET.parse(path).getroot().iter("release")]


def write_appdir_files(appdir: Path, version: str, icons: dict[int, Path]) -> None:
    metainfo = HERE / f"{APP_ID}.metainfo.xml"
    if version not in metainfo_versions(metainfo):
        raise SystemExit(f"package: {metainfo.name} has no <release version=\"{version}\">; add one (newest first)")
    metainfo_dir = appdir / "usr" / "share" / "metainfo"
    metainfo_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(metainfo, metainfo_dir / metainfo.name)
    for name in (DESKTOP_FILE, "INSTALL.txt", *EXECUTABLES):
        shutil.copyfile(HERE / name, appdir / name)
    for name in EXECUTABLES:
        (appdir / name).chmod(0o755)
    shutil.copyfile(icons[256], appdir / f"{ICON_NAME}.png")
    dir_icon = appdir / ".DirIcon"
    if dir_icon.is_symlink() or dir_icon.exists():
        dir_icon.unlink()
    os.symlink(f"{ICON_NAME}.png", dir_icon)
    (appdir / "VERSION").write_text(version + "\n")
