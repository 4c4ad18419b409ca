"""Exceptions the core raises for bad input.

Every error a user can cause (a bad file, a wrong shape, an unknown model) is an
:class:`AdvViewerError`; its message is one sentence meant for a person, so the command line
and the window can show ``str(error)`` as it is, without a traceback.

A message often quotes a file: its name, a header field, a decoder's complaint. Whatever it
quotes, the message is made :func:`printable` when the error is raised, so a file called
``"a\\nb.png"`` or a header holding ANSI escape codes cannot break the one line or steer the
user's terminal.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` as one printable line: control characters and undecodable bytes escaped, the rest kept.

    ``"a\\nb"`` -> ``"a\\\\nb"``, ``"\\x1b[2J"`` -> ``"\\\\x1b[2J"``, a byte that was not UTF-8 (kept by
    ``os.fsdecode`` as a lone surrogate) -> ``"\\\\xff"``. Applying it twice changes nothing more.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class AdvViewerError(Exception):
    """Base class for errors caused by input rather than by a bug; the message is made :func:`printable`."""

    def __init__(self, message: object = "") -> None:
        super().__init__(printable(str(message)))


class DataFormatError(AdvViewerError):
    """A data file (IDX, bundled subset) is not what it claims to be."""


class ImageLoadError(AdvViewerError):
    """An image or array could not be turned into a 28x28 digit."""


class ModelLoadError(AdvViewerError):
    """A model name is unknown or a weights/model file is not a classifier we can use."""


class ModelOutputError(AdvViewerError):
    """A loaded model gave unusable output when used: it raised, or returned NaN or a wrong shape."""


class AttackInputError(AdvViewerError):
    """An attack was asked for with arguments that cannot work (bad target, bad c, bad image)."""


class ExportError(AdvViewerError):
    """Results could not be written (unwritable folder, full disk)."""


class SceneFileError(AdvViewerError):
    """A scene file (advviewer.reading.scene_file) is damaged, hostile, or names a model that changed."""


class Cancelled(Exception):
    """Long work (finite differences, an attack) stopped because its cancel event was set."""
