"""Write a scene (advviewer.reading.scene_file.Scene) as the zip docs/scenes.md describes, all or nothing.

The members are the format's encoding (``advviewer.reading.scene_file.scene_members``: scene.json
with floats written by ``repr``, so every float64 comes back bit for bit, and ``.npy`` arrays in
their own dtypes); here they are zipped, deflated. A scene that would not fit in MAX_SCENE_BYTES,
or with a member over MAX_MEMBER_BYTES (the most a reader reads), keeps fewer of the session's
other results: the oldest go first. What would be written is checked by the reader's own code first
(``scene_from_members``): a value a reader refuses is an ExportError here, never a file that does not open.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

from advviewer.errors import ExportError, SceneFileError
from advviewer.reading.scene_file import (
    MAX_MEMBER_BYTES,
    MAX_SCENE_BYTES,
    SCENE_SUFFIX,
    Scene,
    scene_from_members,
    scene_members,
)
from advviewer.writing.atomic_files import write_all_or_nothing


def scene_bytes(scene: Scene) -> bytes:
    """The scene file's bytes; the newest of its kept results that fit within MAX_SCENE_BYTES."""
    while True:
        members = scene_members(scene)
        try:  # never a file that a reader refuses: the reader's own checks on what is about to be written
            scene_from_members(members)
        except SceneFileError as exc:
            raise ExportError(f"the scene cannot be saved: {exc}") from None
        data = _zipped(members)
        if len(data) <= MAX_SCENE_BYTES and max(map(len, members.values())) <= MAX_MEMBER_BYTES:
            return data
        if not scene.kept:
            raise ExportError(f"the scene would take {len(data) / 2**20:.1f} MB; a scene file holds at most "
                              f"{MAX_SCENE_BYTES // 2**20} MB")
        scene = dataclasses.replace(scene, kept=scene.kept[(len(scene.kept) + 1) // 2:])  # the older half goes


def write_scene(path: str | Path, scene: Scene) -> Path:
    """Write ``scene`` to ``path`` (SCENE_SUFFIX added if missing), replacing it whole or not at all."""
    path = Path(path)
    if not path.name.endswith(SCENE_SUFFIX):
        path = path.with_name(path.name + SCENE_SUFFIX)
    return write_all_or_nothing(path.parent, {"scene": (path.name, scene_bytes(scene))})["scene"]


def _zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()
