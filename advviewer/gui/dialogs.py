"""File choosers and the About box (with the model card)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

import advviewer
from advviewer.gui.help_text import HELP
from advviewer.session.model_cards import readable_card
from advviewer.session.values import ModelChoice
from advviewer.text.wording import paper_citation_html

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


class FolderDialog(QFileDialog):
    """Choose a folder; a typed folder that does not exist yet is created (Qt's own dialog refuses it)."""

    def __init__(self, parent: QWidget | None, title: str, folder: str) -> None:
        super().__init__(parent, title, folder)
        self.setObjectName("folder_dialog")
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly)
        self.setOption(QFileDialog.Option.DontUseNativeDialog)  # a native dialog would refuse before we could create it
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Export here")
        self.problem = ""

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if chosen and not Path(chosen[0]).exists():
            try:
                Path(chosen[0]).mkdir(parents=True)
            except OSError as exc:
                self.problem = f"could not create the folder {chosen[0]}: {exc.strerror or exc}"
                QMessageBox.warning(self, "Export", self.problem)
                return
        super().accept()


def start_folder(remembered: str) -> str:
    """Where a file dialog opens: the folder it last used if it still exists, else the user's
    Documents, Pictures or home folder; never the current directory (a program started from a menu
    has its own folder there, and QFileDialog opens in it when given no folder)."""
    if remembered and Path(remembered).is_dir():
        return remembered
    for place in (QStandardPaths.StandardLocation.DocumentsLocation, QStandardPaths.StandardLocation.PicturesLocation,
                  QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(place)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


def choose_folder(parent: QWidget, folder: str) -> Path | None:
    dialog = FolderDialog(parent, "Export into folder (type a new name to create it)", folder)
    if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


def model_card_html(model: ModelChoice) -> str:
    """The model card as a small table (zoo models), or the file and its hash (a user's model)."""
    if model.card is not None:
        rows = [f"<tr><td valign='top'><b>{html.escape(label)}</b></td><td>{html.escape(text)}</td></tr>"
                for label, text in readable_card(model.card)]
        return f"<p>The model <b>{html.escape(model.name)}</b>:</p><table cellspacing='4'>{''.join(rows)}</table>"
    return f"<p>Your model file <b>{html.escape(model.name)}</b><br>sha256 {model.sha256 or '(not read)'}</p>"


def show_about(parent: QWidget, model: ModelChoice | None) -> QMessageBox:
    """The About box with the model card; window-modal, it does not block the event loop."""
    text = (f"<h3>advviewer {advviewer.__version__}</h3>"
            "<p>See how neural networks are fooled: draw a digit, watch the classifier's probabilities and "
            "input gradient, and find the smallest change that makes it see another digit with the "
            f"box-constrained L-BFGS attack of {paper_citation_html()}.</p>"
            + (model_card_html(model) if model is not None else "<p>No model is loaded yet.</p>"))
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About advviewer", text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName("about")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_help(parent: QWidget) -> QDialog:
    """The Help page for a student (advviewer.gui.help_text), non-modal so the window stays usable beside it."""
    dialog = parent.findChild(QDialog, "help")
    if dialog is None:
        dialog = QDialog(parent, objectName="help")
        dialog.setWindowTitle("advviewer: what am I looking at?")
        browser = QTextBrowser(dialog, objectName="help_text")
        browser.setHtml(HELP)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        screen = parent.screen().availableGeometry() if parent.screen() else None
        dialog.resize(min(640, screen.width() - 40) if screen else 640, min(620, screen.height() - 80) if screen else 620)
    dialog.show()
    dialog.raise_()
    return dialog
