"""A model together with the sha256 of the weights it was built from, for the record an export writes.

A JSON record that names a model file's hash must describe the model that made the result, not
whatever the file holds when the result is exported (it may have been retrained, replaced by a
FIFO or by ``/dev/zero`` since). So the hash is taken when the model is loaded: a zoo model's is
the one in its card (:func:`~advviewer.models.loading.load_model` refuses shipped weights that do
not match it); a model file is hashed, through the same bounded reader as the loader, just before
and just after it is loaded, and a file that changed in between is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from torch import nn

from advviewer.errors import ModelLoadError
from advviewer.files import read_regular_file, shown
from advviewer.models.loading import MAX_MODEL_BYTES, load_model
from advviewer.models.zoo_cards import ZOO, model_card


def card_sha256(name: str) -> str | None:
    """The weights sha256 in zoo model ``name``'s card (None if the card holds no string there)."""
    value = model_card(name).get("weights_sha256")
    return value if isinstance(value, str) else None


def model_file_sha256(path: str | Path) -> str:
    """The sha256 of a model file, read as the loader reads it: a regular file of at most MAX_MODEL_BYTES."""
    return hashlib.sha256(read_regular_file(path, MAX_MODEL_BYTES, ModelLoadError, "a model file")).hexdigest()


def load_identified_model(name_or_path: str | Path) -> tuple[nn.Module, str | None]:
    """(:func:`load_model`'s model, the sha256 of the weights it was built from); ModelLoadError as load_model."""
    name = str(name_or_path)
    if name in ZOO:
        return load_model(name), card_sha256(name)
    before = model_file_sha256(name_or_path) if Path(name).is_file() else None  # else load_model names the problem
    module = load_model(name_or_path)
    if before is None or model_file_sha256(name_or_path) != before:
        raise ModelLoadError(f"{shown(name_or_path)}: the file changed while it was being loaded; load it again")
    return module, before
