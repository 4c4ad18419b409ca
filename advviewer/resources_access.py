"""Where shipped data files live, found with importlib.resources (installed or editable)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Return the filesystem path of a shipped resource.

    Wheels and editable installs both keep resources as plain files (we do not support zip
    imports), so the traversable is a real path.
    """
    return Path(str(resources.files("advviewer.resources").joinpath(*parts)))
