"""advviewer: see how neural networks are fooled.

Public API (no Qt is imported by any of it)::

    from advviewer import available_models, load_model, load_digits, load_image, preprocess, predict, input_gradient
    from advviewer import lbfgs_attack, lbfgs_attack_batch

- ``available_models()``: names of the shipped models (``cnn`` first, the default).
- ``load_model(name_or_path)``: eval-mode ``torch.nn.Module``, (N, 1, 28, 28) in [0, 1] -> logits (N, 10).
- ``load_digits(split="test")``: the bundled MNIST digits, float32 (N, 28, 28) in [0, 1], and labels.
- ``load_image(path)`` / ``preprocess(array)``: any picture of a digit -> 28x28 float32 in [0, 1], MNIST-style.
- ``predict(model, image)``: softmax probabilities.
- ``input_gradient(model, image, cls, method="autograd" | "finite-difference")``: d CE(f(x), cls) / dx.
- ``lbfgs_attack(model, image, ...)``: the box-constrained L-BFGS attack of Szegedy et al.;
  ``AttackResult`` for one image, ``AttackResults`` (stacked arrays, iterable) for a batch.
- ``lbfgs_attack_batch(model, images, targets, ...)``: the same on any classifier's batch,
  (N, C, H, W), (N, H, W) or (N, D), on the model's device; images back in the input's type.

Errors caused by input are subclasses of :class:`advviewer.errors.AdvViewerError`.

Where things live (each folder a room; only ``errors`` is loose at the top)::

    reading/     a file a user names, made safe: files, sandbox (decoding in a child with limits),
                 image_structure, npy_read, image_io (pictures in), preprocess (pixels -> the 28x28 input)
    data/        the bundled MNIST digits and IDX files
    models/      the zoo, its cards, loading a user's model safely
    calculus/    the network's calculus: probabilities and the input gradient
    attack/      the box-constrained L-BFGS attack
    explore/     what the Explore dock shows: all targets, transfer, trajectory, baselines, noise
    writing/     results out: export (files of one result), eight_bit, figure, pixels, atomic_files
    training/    training the zoo: train, augment, drawn_digits
    reproduce/   the paper's tables (``advviewer reproduce``)
    runtime/     torch_import, threads, resources_access: what the running program needs of its machine
    text/        wording shared by the window and the command line
    session/     the window's state, rules and jobs, without Qt
    gui/         the window: widgets/ (passive), bindings/ (widget <-> state), the glue beside them
    cli/         the command line

The core (everything but session/, gui/ and cli/) never imports Qt, the session, the window or the
command line; reading/ never imports writing/, training/ or the attack (pyproject.toml's
import-linter contracts). No module imports another that imports it back.

Lazy imports (inside a function, on purpose; every other import is at the top of its module).
``import torch`` takes seconds on a cold start (docs/performance.md) and the window paints before
it (tests/gui/test_gui_startup.py), so these wait until they are used:

- torch, and every module that imports it (attack/, calculus/, explore/, models' loading, writing's
  export and eight_bit, training/, reproduce's run): in this file's table, ``advviewer.models``'
  table, the session's jobs, rules and state (``advviewer.session.jobs`` imports torch on a
  background thread first, :mod:`advviewer.runtime.torch_import`), ``session.export`` and
  ``runtime.threads``;
- a command's own modules in cli/ (the sandbox, image_io, the attack, export, training,
  reproduce's run): ``advviewer --help`` and ``advviewer predict`` on a zoo model (a numpy forward
  pass) never import torch, and a command that reads a model file starts the file-reading server
  before this process imports torch;
- Qt in ``cli.main`` and ``gui.app``: the command line runs without Qt, and a broken Qt install is
  reported in one line (``gui.app.qt_binding_problem`` tries the import itself);
- ``image_io`` in the session's picture job (read when a user opens a file), tqdm in
  ``cli.progress`` (only when a bar is drawn);
- ``advviewer.session`` and ``advviewer.gui`` name their main classes lazily: a widget importing
  ``session.choices`` does not load the state's modules, and ``import advviewer.gui`` does not import Qt.
"""

from typing import TYPE_CHECKING

from advviewer.errors import AdvViewerError, AttackInputError, DataFormatError, ExportError, ImageLoadError, ModelLoadError
from advviewer.reading.preprocess import preprocess  # eager: numpy and Pillow only, no torch

if TYPE_CHECKING:
    from advviewer.attack import AttackResult, AttackResults, lbfgs_attack, lbfgs_attack_batch
    from advviewer.calculus.gradients import input_gradient, predict
    from advviewer.data import load_digits
    from advviewer.models import available_models, load_model
    from advviewer.reading.image_io import load_image

__version__ = "0.1.0"

# Imported on first use (below), not with the package: importing any advviewer module runs this
# file, and `import torch` alone takes seconds on a cold start. `advviewer predict` on a zoo model
# and the window's first paint never wait for it.
_LAZY = {
    "lbfgs_attack": "advviewer.attack", "lbfgs_attack_batch": "advviewer.attack",
    "AttackResult": "advviewer.attack", "AttackResults": "advviewer.attack",
    "load_digits": "advviewer.data", "input_gradient": "advviewer.calculus.gradients", "predict": "advviewer.calculus.gradients",
    "load_image": "advviewer.reading.image_io", "available_models": "advviewer.models", "load_model": "advviewer.models",
}

__all__ = [
    "available_models",
    "load_model",
    "load_digits",
    "load_image",
    "preprocess",
    "predict",
    "input_gradient",
    "lbfgs_attack",
    "lbfgs_attack_batch",
    "AttackResult",
    "AttackResults",
    "AdvViewerError",
    "AttackInputError",
    "DataFormatError",
    "ExportError",
    "ImageLoadError",
    "ModelLoadError",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advviewer' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are part of the API: list them for dir() and tab completion
    return sorted(set(globals()) | set(_LAZY))
