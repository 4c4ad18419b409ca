"""File choosers, the About box (with the model card) and the error dialog for bugs."""

from __future__ import annotations

import html
import logging
import traceback
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

import advviewer
from advviewer.errors import AdvViewerError
from advviewer.models.zoo import ZOO, model_card, sha256_file

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm", ".npy")
MODEL_SUFFIXES = (".pt", ".pth", ".ptl", ".torchscript", ".jit")
IMAGE_FILTER = "Images and arrays (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
MODEL_FILTER = "Model files (" + " ".join(f"*{s}" for s in MODEL_SUFFIXES) + ");;All files (*)"


def is_model_file(path: Path) -> bool:
    return path.suffix.lower() in MODEL_SUFFIXES


def choose_image(parent: QWidget, folder: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open a digit image", folder, IMAGE_FILTER)
    return Path(name) if name else None


def choose_model(parent: QWidget, folder: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "Open a model file", folder, MODEL_FILTER)
    return Path(name) if name else None


def choose_folder(parent: QWidget, folder: str) -> Path | None:
    name = QFileDialog.getExistingDirectory(parent, "Export into folder", folder)
    return Path(name) if name else None


def model_card_html(model_name: str) -> str:
    """The model card as a small table (zoo models), or the file and its hash (a user's model)."""
    if model_name in ZOO:
        try:
            card = model_card(model_name)
        except AdvViewerError as exc:
            return f"<p>{html.escape(str(exc))}</p>"
        rows = []
        for key, value in card.items():
            if isinstance(value, float):
                value = f"{value:.4g}"
            elif isinstance(value, (dict, list)):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(map(str, value))
            rows.append(f"<tr><td><b>{html.escape(str(key))}</b></td><td>{html.escape(str(value))[:300]}</td></tr>")
        return f"<p>Model card of <b>{html.escape(model_name)}</b>:</p><table cellspacing='3'>{''.join(rows)}</table>"
    path = Path(model_name)
    try:
        digest = sha256_file(path)
    except OSError as exc:
        digest = f"(unreadable: {exc.strerror})"
    return f"<p>Your model file <b>{html.escape(str(path))}</b><br>sha256 {digest}</p>"


def show_about(parent: QWidget, model_name: str) -> None:
    text = (f"<h3>advviewer {advviewer.__version__}</h3>"
            "<p>See how neural networks are fooled: draw a digit, watch the classifier's probabilities and "
            "input gradient, and find the smallest change that makes it see another digit with the "
            "box-constrained L-BFGS attack of Szegedy et al., <i>Intriguing properties of neural networks</i> (2014).</p>"
            + model_card_html(model_name))
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About advviewer", text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about")
    box.setTextFormat(box.textFormat().RichText)
    box.exec()


def install_excepthook(show_dialog: bool) -> None:
    """Log uncaught exceptions (bugs) and, with a display, show them instead of dying silently."""
    import sys

    def hook(kind, value, tb) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        if show_dialog and QApplication.instance() is not None:
            details = "".join(traceback.format_exception(kind, value, tb))
            box = QMessageBox(QMessageBox.Icon.Critical, "advviewer: unexpected error",
                              f"Something went wrong: {kind.__name__}: {value}\n\nThe window keeps running; "
                              "the details below are also in the log.", QMessageBox.StandardButton.Ok)
            box.setDetailedText(details)
            box.exec()

    sys.excepthook = hook
