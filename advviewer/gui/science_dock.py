"""Puts the "Explore this result" dock into the window: right dock area, hidden at start, toggled from
the View menu, the toolbar and Ctrl+T.

Hidden at start so the five panels keep the whole of a 1280x720 screen; the toolbar button
says it is there. Opened, it never squeezes the panels below their minimum (that clipped the
probability plot to classes 0-3): docked beside them when the window is wide enough, the window
widened when the screen has room, and floating at the screen's right edge otherwise (a 1280 px
screen). It can be dragged anywhere afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QMainWindow, QToolBar

from advviewer.gui.bindings.science_views import bind_science_views
from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.gui.widgets.science_views import ScienceViews
from advviewer.gui.window_size import fitted
from advviewer.session import SessionState

DOCK_WIDTH = 420  # the targets grid and the compare view's three perturbations at a readable size


def add_science_views(window: QMainWindow, state: SessionState, results: ResultsPanel) -> ScienceViews:
    dock = ScienceViews(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("&Explore this result")
    toggle.setObjectName("toggle_science_views")
    toggle.setShortcut("Ctrl+T")
    toggle.triggered.connect(lambda checked: checked and make_room(window, dock))
    toggle.setToolTip("All targets, transfer to other models, playback, FGSM/DDN compared, same-size noise (Ctrl+T)")
    bar = window.menuBar()
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    view_menu = bar.addMenu("&View") if help_menu is None else None
    if view_menu is None:
        from PySide6.QtWidgets import QMenu

        view_menu = QMenu("&View", bar)
        bar.insertMenu(help_menu, view_menu)
    view_menu.addAction(toggle)
    toolbar = window.findChild(QToolBar, "main_toolbar")
    if toolbar is not None:
        toolbar.addSeparator()
        toolbar.addAction(toggle)
        toolbar.widgetForAction(toggle).setObjectName("tool_science_views")
    bind_science_views(state, dock, results)
    return dock


def make_room(window: QMainWindow, dock: ScienceViews) -> None:
    """Give the opened dock DOCK_WIDTH without pushing the panels below their minimum width."""
    if dock.isFloating():
        return
    central = window.centralWidget()
    spare = central.width() - central.minimumSizeHint().width() if central is not None else 0
    screen = window.screen()
    available = screen.availableGeometry() if screen is not None else None
    if spare < DOCK_WIDTH and available is not None and not window.isMaximized():
        wider = QRect(window.geometry())
        wider.setWidth(wider.width() + DOCK_WIDTH - max(spare, 0))
        wider = fitted(wider, available)
        if spare + wider.width() - window.width() >= DOCK_WIDTH:  # widen only if that is enough to dock
            spare += wider.width() - window.width()
            window.setGeometry(wider)
    if spare >= DOCK_WIDTH or available is None:
        window.resizeDocks([dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        return
    dock.setFloating(True)  # a small screen: over the window's right side rather than squeezing the panels
    dock.setGeometry(QRect(available.right() - DOCK_WIDTH, available.top() + 40, DOCK_WIDTH, available.height() - 80))
