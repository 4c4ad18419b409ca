"""File choosers and the About box (with the model card)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

import advviewer
from advviewer.session.values import ModelChoice

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm", ".npy")
MODEL_SUFFIXES = (".pt", ".pth", ".pt2", ".ptl", ".torchscript", ".jit")
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


def model_card_html(model: ModelChoice) -> str:
    """The model card as a small table (zoo models), or the file and its hash (a user's model)."""
    if model.card is not None:
        rows = []
        for key, value in model.card.items():
            if isinstance(value, float):
                value = f"{value:.4g}"
            elif isinstance(value, (dict, list)):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(map(str, value))
            rows.append(f"<tr><td><b>{html.escape(str(key))}</b></td><td>{html.escape(str(value))[:300]}</td></tr>")
        return f"<p>Model card of <b>{html.escape(model.name)}</b>:</p><table cellspacing='3'>{''.join(rows)}</table>"
    return f"<p>Your model file <b>{html.escape(model.name)}</b><br>sha256 {model.sha256 or '(not read)'}</p>"


def show_about(parent: QWidget, model: ModelChoice | None) -> QMessageBox:
    """The About box with the model card; window-modal, it does not block the event loop."""
    text = (f"<h3>advviewer {advviewer.__version__}</h3>"
            "<p>See how neural networks are fooled: draw a digit, watch the classifier's probabilities and "
            "input gradient, and find the smallest change that makes it see another digit with the "
            "box-constrained L-BFGS attack of Szegedy et al., <i>Intriguing properties of neural networks</i> (2014).</p>"
            + (model_card_html(model) if model is not None else "<p>No model is loaded yet.</p>"))
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About advviewer", text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
