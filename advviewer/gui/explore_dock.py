"""Puts the "Explore this result" dock into the window: right dock area, hidden at start, toggled from
the View menu, the toolbar and Ctrl+T.

Hidden at start so the five panels keep the whole of a 1280x720 screen; the toolbar button
says it is there. Opened, it never squeezes the panels below their minimum (that clipped the
probability plot to classes 0-3): docked beside them when the window is wide enough, the window
widened when the screen has room, and floating at the screen's right edge otherwise (a 1280 px
screen). It can be dragged anywhere afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from advviewer.gui.bindings.explore_views import bind_explore_views
from advviewer.gui.widgets.explore_views import ExploreViews
from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.gui.window_size import FRAME_ALLOWANCE, fitted
from advviewer.session import SessionState

DOCK_WIDTH = 440  # all six tab titles without scroll arrows (the bar wants 423 px), the targets grid and three maps


def add_explore_views(window: QMainWindow, state: SessionState, results: ResultsPanel) -> ExploreViews:
    dock = ExploreViews(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("&Explore this result")
    toggle.setObjectName("toggle_explore_views")
    toggle.setShortcut("Ctrl+T")
    toggle.triggered.connect(lambda checked: checked and make_room(window, dock))
    toggle.setToolTip("All targets, transfer to other models, playback, FGSM/DDN compared, same-size noise, "
                      "standard and robust model side by side (Ctrl+T)")
    view_menu = _view_menu(window)
    view_menu.insertAction(view_menu.actions()[0] if view_menu.actions() else None, toggle)
    window.addAction(toggle)  # Ctrl+T works while the menu bar is hidden (presentation mode)
    toolbar = window.findChild(QToolBar, "main_toolbar")
    if toolbar is not None:
        toolbar.addSeparator()
        toolbar.addAction(toggle)
        toolbar.widgetForAction(toggle).setObjectName("tool_explore_views")
    bind_explore_views(state, dock, results)
    return dock


def _view_menu(window: QMainWindow) -> QMenu:
    """The menu bar's View menu (actions.MENUS makes it), or a new one before Help."""
    bar = window.menuBar()
    found = next((a.menu() for a in bar.actions() if a.text() == "&View"), None)
    if isinstance(found, QMenu):
        return found
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    menu = QMenu("&View", bar)
    if help_menu is None:
        bar.addMenu(menu)
    else:
        bar.insertMenu(help_menu, menu)
    return menu


def make_room(window: QMainWindow, dock: ExploreViews) -> None:
    """Dock the opened views beside the panels, as wide as DOCK_WIDTH where the panels keep their minimum.

    A floating dock (a position remembered from another screen, or dragged off) is docked again
    on every opening: on a screen where it fits beside the panels it never covers panel 5, the
    result it talks about, and the window is widened within the screen as far as that needs.
    Where even its minimum width does not fit beside the panels (1280 and 1366 px screens), it
    floats over the drawing and attack panels (1 and 4), never over the result.
    """
    if dock.isFloating():
        dock.setFloating(False)
    central = window.centralWidget()
    screen = window.screen()
    if central is None or screen is None:
        return
    available = screen.availableGeometry()
    taken = dock.width() if dock.isVisible() else 0
    chrome = max(window.width() - central.width() - taken, 0)  # the window's own margins beside the panels
    panels = central.minimumSizeHint().width()
    whole = window.isMaximized() or window.isFullScreen()  # the window is the screen: no frame to allow for
    limit = available.width() - (0 if whole else FRAME_ALLOWANCE.width())
    room = limit - chrome - panels  # the widest dock the panels leave on this screen
    if room < dock.minimumSizeHint().width():
        dock.setFloating(True)
        dock.setGeometry(QRect(available.left(), available.top() + 40, DOCK_WIDTH, available.height() - 80))
        # Qt grew the window to hold the docked views for a moment: back onto the screen once the dock is out
        QTimer.singleShot(0, lambda: window.width() > limit and window.setGeometry(
            QRect(available) if whole else fitted(QRect(window.geometry()), available)))
        return
    width = min(DOCK_WIDTH, room)
    wanted = min(max(min(window.width(), limit), chrome + panels + width), limit)
    if wanted != window.width():
        window.setGeometry(fitted(QRect(window.x(), window.y(), wanted, window.height()), available))
    window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
