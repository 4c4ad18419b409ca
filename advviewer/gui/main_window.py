"""The main window: lays out the panels and wires them to the Session (which calls the core)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QMainWindow, QVBoxLayout, QWidget

from advviewer.errors import AdvViewerError
from advviewer.gui import dialogs
from advviewer.gui.actions import build_actions, build_toolbar
from advviewer.gui.attack_panel import ANY, AttackPanel
from advviewer.gui.gradient_view import GradientView
from advviewer.gui.icon import app_icon
from advviewer.gui.input_panel import InputPanel
from advviewer.gui.map_view import configure_pyqtgraph
from advviewer.gui.message_bar import MessageBar
from advviewer.gui.picture_loader import PictureLoader, is_big
from advviewer.gui.probability_plot import ProbabilityPlot
from advviewer.gui.results_panel import ResultsPanel
from advviewer.gui.session import Session
from advviewer.gui.settings import Settings
from advviewer.gui.wiring import connect_attack, connect_files, connect_live
from advviewer.models import DEFAULT_MODEL

log = logging.getLogger(__name__)

TITLES = (
    "1 · Draw or load a digit",
    "2 · What the model thinks",
    "3 · Which pixels matter (input gradient)",
    "4 · Fool it: the L-BFGS attack",
    "5 · Result: original + perturbation = adversarial",
)
ATTACK_EXPLAINED = ("The attack looks for the smallest change <i>r</i> that makes the model see another class "
                    "(Szegedy et al. 2014). <b>c</b> weighs fooling the model against keeping <i>r</i> small.")


def _group(title: str, widget: QWidget, *extra: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    for w in (*extra, widget):
        layout.addWidget(w)
    return box


class MainWindow(QMainWindow):
    """The whole app. ``remember=False`` leaves the user's saved choices untouched."""

    def __init__(self, model: str | None = None, settings: Settings | None = None, remember: bool = True) -> None:
        configure_pyqtgraph()
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("advviewer: how neural networks are fooled")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.remember = remember
        self.session = Session(self)
        self.loader = PictureLoader(self)
        self.loader.loaded.connect(self._picture_loaded)
        self.loader.failed.connect(self._picture_failed)

        self.message = MessageBar()
        self.inputs = InputPanel()
        self.canvas = self.inputs.canvas
        self.probabilities = ProbabilityPlot()
        self.gradient = GradientView()
        self.attack = AttackPanel()
        self.results = ResultsPanel()
        explained = QLabel(ATTACK_EXPLAINED, wordWrap=True)

        central = QWidget()
        grid = QGridLayout(central)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(self.message, 0, 0, 1, 3)
        grid.addWidget(_group(TITLES[0], self.inputs), 1, 0)
        grid.addWidget(_group(TITLES[1], self.probabilities), 1, 1)
        grid.addWidget(_group(TITLES[2], self.gradient), 1, 2)
        grid.addWidget(_group(TITLES[3], self.attack, explained), 2, 0)
        grid.addWidget(_group(TITLES[4], self.results), 2, 1, 1, 2)
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 3)
        grid.setRowStretch(1, 5)
        grid.setRowStretch(2, 4)
        self.setCentralWidget(central)

        self.actions = build_actions(self)
        self.model_picker = build_toolbar(self, self.actions)
        self.live_time = QLabel(objectName="live_time")
        self.attack_time = QLabel(objectName="attack_time")
        for label, sample in ((self.attack_time, "attack 00.00 s, 0000 iterations"),
                              (self.live_time, "live update 00.0 ms (framing 00.0 + model 00.0)")):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(sample) + 8)
            self.statusBar().addPermanentWidget(label)

        self._live_timer = QTimer(self, singleShot=True, interval=0)  # coalesces a fast stroke
        connect_live(self)
        connect_attack(self)
        connect_files(self)
        self._restore(model)

    # --- start-up and shut-down -------------------------------------------------------------

    def _restore(self, model: str | None) -> None:
        s = self.settings
        geometry, state = s.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1360, 860)
        if state is not None:
            self.restoreState(state)
        self.inputs.brush.setValue(s.get("brush_size"))
        self.attack.set_c(s.get("c"))
        self.attack.set_target(s.get("target"))
        self.session.target = None if self.attack.target == ANY else self.attack.target
        self.gradient.set_choices(s.get("gradient_class"), s.get("gradient_method"), s.get("gradient_overlay"))
        self.session.gradient_class, self.session.gradient_method = self.gradient.gradient_class, self.gradient.method
        self.results.magnify.setChecked(s.get("magnify"))
        wanted = model or s.get("model")
        try:
            self.select_model(wanted, quiet=True)
        except AdvViewerError as exc:
            self.message.show_message(f"Could not load the model {wanted!r} ({exc}); using cnn instead.")
            self.select_model(DEFAULT_MODEL)
        self.load_sample(first_of_class=7)  # evaluates it (show_sample -> refresh_now)
        self.statusBar().showMessage("A sample digit to start with: press Delete and draw your own, or open an image (Ctrl+O).", 15000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._live_timer.stop()
        if not (self.session.shutdown(10_000) & self.loader.shutdown(10_000)):
            log.warning("a background job did not stop in time")
        if self.remember:
            s = self.settings
            s.set_geometry(self.saveGeometry(), self.saveState())
            s.set("brush_size", self.inputs.brush.value())
            s.set("c", self.attack.c)
            s.set("target", self.attack.target)
            s.set("gradient_class", self.gradient.gradient_class)
            s.set("gradient_method", self.gradient.method)
            s.set("gradient_overlay", self.gradient.overlay.isChecked())
            s.set("magnify", self.results.magnify.isChecked())
            if self.session.model_name:
                s.set("model", self.session.model_name)
            s.sync()
        event.accept()

    # --- models and inputs (called by the wiring and by app.run) -----------------------------

    def refresh_now(self) -> None:
        """Evaluate the canvas now rather than on the next pass of the event loop."""
        self._live_timer.stop()
        self.session.set_picture(self.canvas.to_array(), self.canvas.exact_input, self.canvas.source)

    def select_model(self, name_or_path: str, quiet: bool = False) -> bool:
        """Load a zoo model or model file; on failure keep the old one and say why (or raise if quiet)."""
        try:
            self.session.set_model(name_or_path)
            ok = True
        except AdvViewerError as exc:
            if quiet:
                raise
            self.message.show_message(f"Model not loaded: {exc}. Still using {Path(self.session.model_name).name}.")
            ok = False
        index = self.model_picker.findData(self.session.model_name)
        if index < 0 and self.session.model_name:
            self.model_picker.addItem(Path(self.session.model_name).name, self.session.model_name)
            index = self.model_picker.count() - 1
        self.model_picker.blockSignals(True)
        self.model_picker.setCurrentIndex(index)
        self.model_picker.blockSignals(False)
        return ok

    def open_path(self, path: Path) -> bool | None:
        """Open an image/array (onto the canvas) or a model file; errors shown in the window.

        True: opened; False: refused (the message says why); None: a big picture is being
        decoded in the background (``loader.loaded`` / ``loader.failed`` follow).
        """
        if dialogs.is_model_file(path):
            return self.select_model(str(path))
        if is_big(path):
            self.statusBar().showMessage(f"Opening {path.name} (a big picture)…")
            self.loader.load(path)
            return None
        from advviewer.image_io import load_image

        try:
            image = load_image(path)
        except AdvViewerError as exc:
            self._picture_failed(str(path), str(exc))
            return False
        self._picture_loaded(str(path), image)
        return True

    def _picture_loaded(self, path: str, image: np.ndarray) -> None:
        self.show_sample(image, path)
        self.message.hide()
        self.statusBar().showMessage(f"Opened {Path(path).name}", 8000)

    def _picture_failed(self, path: str, message: str) -> None:
        self.statusBar().clearMessage()
        self.message.show_message(f"Could not open the image: {message}. Your drawing is unchanged.")

    def load_sample(self, index: int | None = None, first_of_class: int | None = None) -> None:
        from advviewer.data.bundled import bundled_split, load_bundled

        if first_of_class is not None:
            images, labels = bundled_split("test")
            index_in_test = int(np.flatnonzero(labels == first_of_class)[0])
            image = images[index_in_test]
        else:
            images, labels = load_bundled()
            image = images[index]
        where = f"test split, first {first_of_class}" if index is None else f"#{index}"
        self.show_sample(image.astype(np.float32) / 255.0, f"bundled MNIST digit ({where})")

    def show_sample(self, image: np.ndarray, source: str) -> None:
        """Put a loaded 28x28 input on the canvas and evaluate it now."""
        self.canvas.set_picture(image, source)
        self.refresh_now()

    # --- drag and drop ------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])
