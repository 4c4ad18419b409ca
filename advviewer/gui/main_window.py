"""The main window: lays out the passive widgets, creates the state and binds one to the other.

Nothing here computes: the state (advviewer.session) owns what is shown and runs the core; the
bindings (advviewer.gui.bindings) connect each panel to it. This module only builds, places and
connects, and shuts the background lanes down when the window closes (at once: a job inside a
slow model is left to finish on its own daemon thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QGridLayout, QGroupBox, QLabel, QMainWindow, QVBoxLayout, QWidget

from advviewer.gui import remembered_choices
from advviewer.gui.actions import ModelEntry, build_actions, build_toolbar
from advviewer.gui.background import GuiThreadDelivery
from advviewer.gui.bindings.attack import bind_attack_panel
from advviewer.gui.bindings.drawing import DrawingBinding
from advviewer.gui.bindings.gradient import bind_gradient_view
from advviewer.gui.bindings.live_panels import bind_live_panels
from advviewer.gui.bindings.model_picker import bind_model_picker
from advviewer.gui.bindings.results import bind_results_panel
from advviewer.gui.explore_dock import add_explore_views
from advviewer.gui.file_opening import FileOpener
from advviewer.gui.first_paint import FirstPaint
from advviewer.gui.help_text import GUIDE
from advviewer.gui.icon import app_icon
from advviewer.gui.menu_actions import connect_menu_actions
from advviewer.gui.presentation import Presentation
from advviewer.gui.scene_actions import connect_scene_actions
from advviewer.gui.settings import Settings
from advviewer.gui.widgets.attack_panel import AttackPanel
from advviewer.gui.widgets.gradient_view import GradientView
from advviewer.gui.widgets.guide_bar import GuideBar
from advviewer.gui.widgets.input_panel import InputPanel
from advviewer.gui.widgets.map_view import configure_pyqtgraph
from advviewer.gui.widgets.message_bar import ATTACK, FILE, MessageBar
from advviewer.gui.widgets.probability_plot import ProbabilityPlot
from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.session import SessionState, catalog
from advviewer.session.model_cards import one_line, short_line
from advviewer.session.tasks import Task

log = logging.getLogger(__name__)

TITLES = (
    "1 · Draw or load a digit",
    "2 · What the model thinks",
    "3 · Which pixels matter (input gradient)",
    "4 · Fool it: the L-BFGS attack",
    "5 · Result: original + perturbation = adversarial",
)
ATTACK_EXPLAINED = "The smallest change <i>r</i> to fool the model; <b>c</b>: fool it vs keep <i>r</i> small (F1)"
START_HINT = "A sample digit to start with: press Delete and draw your own, or open an image (Ctrl+O)."


def _group(title: str, widget: QWidget, *extra: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    for w in (*extra, widget):
        layout.addWidget(w)
    return box


class MainWindow(QMainWindow):
    """The whole app. ``remember=False`` leaves the user's saved choices untouched.

    ``paint_first=True`` (the program; tests load at once): the model, and with it torch, is loaded
    only once the window has painted itself; ``painted`` callbacks run then. Until the model is
    in use the panels say it is loading, and what is drawn meanwhile is evaluated when it is.
    """

    def __init__(self, model: str | None = None, settings: Settings | None = None, remember: bool = True,
                 paint_first: bool = False) -> None:
        configure_pyqtgraph()
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("advviewer: how neural networks are fooled")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.remember = remember
        self._delivery = GuiThreadDelivery()
        self.state = SessionState(self._delivery.post)
        self.painted: list[Callable[[], None]] = [self.state.release_model_loading]
        if paint_first:
            self.state.hold_model_loading()
        self._build_widgets()
        self._bind()
        self._first_paint = FirstPaint(self.centralWidget(), lambda: [done() for done in self.painted])
        remembered_choices.restore(self, model)
        self.statusBar().showMessage(START_HINT, 15000)
        app = QCoreApplication.instance()
        if app is not None:  # a window never closed still stops its lanes
            app.aboutToQuit.connect(self._shut_down)

    def _build_widgets(self) -> None:
        self.message = MessageBar()
        self.guide = GuideBar(GUIDE)
        self.inputs = InputPanel()
        self.canvas = self.inputs.canvas
        self.probabilities = ProbabilityPlot()
        self.gradient = GradientView()
        self.attack = AttackPanel()
        self.results = ResultsPanel()
        central = QWidget()
        grid = QGridLayout(central)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(self.message, 0, 0, 1, 3)
        grid.addWidget(self.guide, 3, 0, 1, 3)  # below the panels: it never pushes them off a small screen
        self.panel_boxes = [_group(TITLES[0], self.inputs), _group(TITLES[1], self.probabilities),
                            _group(TITLES[2], self.gradient)]
        for column, box in enumerate(self.panel_boxes):
            grid.addWidget(box, 1, column)
        self.attack_explained = QLabel(ATTACK_EXPLAINED, wordWrap=True)
        self.panel_boxes += [_group(TITLES[3], self.attack, self.attack_explained), _group(TITLES[4], self.results)]
        grid.addWidget(self.panel_boxes[3], 2, 0)
        grid.addWidget(self.panel_boxes[4], 2, 1, 1, 2)
        for column, stretch in enumerate((4, 3, 3)):
            grid.setColumnStretch(column, stretch)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)  # the c plot needs height as much as the canvas
        self.setCentralWidget(central)
        self.actions = build_actions(self)
        self.model_picker = build_toolbar(self, self.actions, [ModelEntry(name, short_line(name), one_line(name))
                                                                 for name in catalog.zoo_models()])
        self.live_time = QLabel(objectName="live_time")
        self.attack_time = QLabel(objectName="attack_time")
        for label, sample in ((self.attack_time, "attack: 0000 solver iterations, 0000 model evaluations, 00.00 s"),
                              (self.live_time, "live update 00.0 ms (framing 00.0 + model 00.0)")):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(sample) + 8)
            self.statusBar().addPermanentWidget(label)

    def _bind(self) -> None:
        state = self.state
        self.drawing = DrawingBinding(self.canvas, state, self)
        bind_live_panels(state, self.inputs, self.probabilities, self.live_time)
        bind_gradient_view(state, self.gradient)
        bind_attack_panel(state, self.attack, before_attack=self.drawing.flush)
        bind_results_panel(state, self.results, self.attack_time)
        bind_model_picker(state, self.model_picker, self.statusBar())
        self.opener = FileOpener(state, self.drawing, self.message, self.statusBar(), self._delivery.post, self)
        state.events.message.connect(self.message.show_message)
        state.events.attack_stopped.connect(lambda text, error: error and self.message.show_message(text, topic=ATTACK))
        # an attack that succeeds has moved past a file that could not be opened and an earlier attack's error
        state.events.attack_finished.connect(
            lambda item: item.result.success and self.message.dismiss(FILE, ATTACK))
        self.presentation = Presentation(self)
        connect_menu_actions(self)
        self.explore_views = add_explore_views(self, state, self.results)
        connect_scene_actions(self)

    # --- opening files, waiting, closing -------------------------------------------------------

    def open_path(self, path: Path) -> Task:
        """Open a picture (onto the canvas) or a model file in the background; the task tells the outcome."""
        return self.opener.open_path(Path(path))

    def is_idle(self) -> bool:
        """No stroke waits to be evaluated, no job runs, no outcome is on its way (for tests and --screenshot)."""
        return self.drawing.is_idle() and self.state.is_idle() and self.opener.is_idle()

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """Run the event loop until :meth:`is_idle`; False if that took longer than ``timeout`` seconds."""
        end = time.perf_counter() + timeout
        while not self.is_idle():
            if time.perf_counter() > end:
                return False
            QApplication.processEvents()
            time.sleep(0.001)
        return True

    def _shut_down(self) -> None:
        self.state.shutdown()
        self.opener.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.presentation.leave()  # the desk window's geometry is the one remembered, never the projector's
        self._shut_down()
        if self.remember:
            remembered_choices.save(self)
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])
