"""Puts the "Explore this result" dock into the window: right dock area, hidden at start, toggled from
the View menu, the toolbar and Ctrl+T.

Hidden at start so the five panels keep the whole of a 1280x720 screen; the toolbar button
says it is there. Opened, it takes a third of the width (the panels shrink to their minimum);
it can be dragged out to float beside the window or to the bottom.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QToolBar

from advviewer.gui.bindings.science_views import bind_science_views
from advviewer.gui.widgets.results_panel import ResultsPanel
from advviewer.gui.widgets.science_views import ScienceViews
from advviewer.session import SessionState


def add_science_views(window: QMainWindow, state: SessionState, results: ResultsPanel) -> ScienceViews:
    dock = ScienceViews(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("&Explore this result")
    toggle.setObjectName("toggle_science_views")
    toggle.setShortcut("Ctrl+T")
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
