"""The "Explore this result" dock: the six views in tabs. It says which view is on screen (None: hidden)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QTabWidget, QVBoxLayout, QWidget

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
        # above every tab: the result these views explore is panel 5's; when it no longer matches the digit or the
        # model, they say so as panel 5 does (a view never lies), until a new result is shown
        self.stale = QLabel(objectName="explore_stale")
        self.stale.setWordWrap(True)
        self.stale.setVisible(False)
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stale)
        layout.addWidget(self.tabs)
        self.setWidget(holder)
        self.tabs.currentChanged.connect(self._emit)
        self.visibilityChanged.connect(self._emit)

    def show_stale(self, reason: str | None) -> None:
        """Say that the explored result is out of date (``reason``: why, as panel 5 says it), or nothing (None)."""
        self.stale.setText(f"<b>Out of date</b>: these views explore the result of panel 5. {escape(reason)}"
                           if reason else "")
        self.stale.setVisible(bool(reason))
        self.models.show_stale(reason)

    def current_view(self) -> str | None:
        return self.tabs.currentWidget().objectName() if self.isVisible() else None

    def _emit(self, *_) -> None:
        self.view_shown.emit(self.current_view())
