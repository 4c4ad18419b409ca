"""The hicolor icon set (PNG 16..512 px plus the SVG under scalable/) rendered from the app's SVG.

Rendered with Qt's QSvgRenderer from the PySide6 the program already depends on: no extra system
package (rsvg-convert would need librsvg2-bin), and the same renderer that draws the window's
icon, so menu and window icons look alike.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def render_icons(svg: Path, hicolor: Path, name: str) -> dict[int, Path]:
    """Write hicolor/NxN/apps/NAME.png for every size and hicolor/scalable/apps/NAME.svg; returns the PNGs by size."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (QPainter wants one for some paint engines)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"package: {svg} is not an SVG that Qt can render")
    written = {}
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = hicolor / f"{size}x{size}" / "apps" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"package: could not write {path}")
        written[size] = path
    scalable = hicolor / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    return written
