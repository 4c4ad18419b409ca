"""Exceptions the core raises for bad input.

Every error a user can cause (a bad file, a wrong shape, an unknown model) is an
:class:`AdvViewerError`; its message is one sentence meant for a person, so the command line
and the window can show ``str(error)`` as it is, without a traceback.
"""


class AdvViewerError(Exception):
    """Base class for errors caused by input rather than by a bug."""


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


class Cancelled(Exception):
    """Long work (finite differences, an attack) stopped because its cancel event was set."""
