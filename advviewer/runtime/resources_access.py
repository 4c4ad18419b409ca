"""Where shipped data files live, found with importlib.resources (installed or editable)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the filesystem path of a shipped resource.

    Wheels and editable installs both keep resources as plain files (we do not support zip
    imports), so the traversable is a real path. One part at a time: Python 3.11's
    MultiplexedPath (a namespace package spread over folders) takes a single child per joinpath.
    """
    node = resources.files("advviewer.resources")
    for part in parts:
        node = node.joinpath(part)
    return Path(str(node))
