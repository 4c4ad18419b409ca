"""The "Explore this result" dock: the six views in tabs. It says which view is on screen (None: hidden)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from advviewer.gui.widgets.all_targets_view import AllTargetsView
from advviewer.gui.widgets.compare_view import CompareView
from advviewer.gui.widgets.models_view import ModelsView
from advviewer.gui.widgets.noise_check_view import NoiseCheckView
from advviewer.gui.widgets.playback_view import PlaybackView
from advviewer.gui.widgets.transfer_view import TransferView

TABS = (("all_targets", "Targets"), ("transfer", "Transfer"), ("playback", "Playback"), ("compare", "Compare"),
        ("noise_check", "Noise"), ("models", "Models"))


class ExploreViews(QDockWidget):
    view_shown = Signal(object)  # the objectName of the view on screen, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Explore this result", parent)
        # the name it had before it was called the Explore dock: a window layout saved by then
        # (QMainWindow.saveState, restored at start) finds the dock by this name
        self.setObjectName("science_views")
        self.all_targets = AllTargetsView()
        self.transfer = TransferView()
        self.playback = PlaybackView()
        self.compare = CompareView()
        self.noise_check = NoiseCheckView()
        self.models = ModelsView()
        self.tabs = QTabWidget(objectName="explore_tabs")
        for name, title in TABS:
            self.tabs.addTab(getattr(self, name), title)
        self.tabs.setMinimumWidth(280)  # with the five panels at their minimum, the window still fits 1280 px
        self.setWidget(self.tabs)
        self.tabs.currentChanged.connect(self._emit)
        self.visibilityChanged.connect(self._emit)

    def current_view(self) -> str | None:
        return self.tabs.currentWidget().objectName() if self.isVisible() else None

    def _emit(self, *_) -> None:
        self.view_shown.emit(self.current_view())
