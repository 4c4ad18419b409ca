"""View ▸ Present (F11): the five panels full screen, text and strokes scaled for a projector, keys for a talk.

Entering borrows from the window what it changes: its geometry and window state, the docks and
toolbars (``saveState``), the menu and status bars, the banners above and below the panels, the
panels' font and the shortcuts it lends to the talk keys. Leaving (Esc, or F11 again) puts back
exactly what it borrowed, so the window is as it was, whatever happened in between.

While presenting, bare keys do what the mouse does during a talk: Space finds the minimal c, Up and
Down move c one step of Ctrl+Up/Down (a quarter of a decade), T picks the next target, Left and
Right step through a lecture's scenes (when one is open), Esc leaves. Outside presentation mode
these keys keep their usual meaning in the focused control (Space presses a button, arrows move a
slider); Esc cancels an attack again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import QWidget

MINIMUM_SCALE = 2.0  # text at least twice its desk size
REFERENCE_HEIGHT = 720  # a 1280x720 projector gets MINIMUM_SCALE; taller screens proportionally more

# the talk's keys, lent to these actions while presenting (action key -> key)
TALK_KEYS = {"find_minimal_c": "Space", "c_larger": "Up", "c_smaller": "Down", "present": "Esc",
             "previous_scene": "Left", "next_scene": "Right"}
BORROWED_KEYS = {"cancel": "Esc"}  # keys taken from an action while presenting (Esc leaves instead of cancelling)


# the panels' titles in large text: short enough for a third of a 1280-pixel screen
PRESENTED_TITLES = ("1 · Draw a digit", "2 · What the model thinks", "3 · Which pixels matter", "4 · Fool it",
                    "5 · Original + perturbation = adversarial")

PRESENTED_COLUMN_STRETCH = (3, 4, 3)  # panel 2's bars get the width their large labels need


def presentation_scale(screen_height: int) -> float:
    """How much larger text and strokes get on a screen ``screen_height`` pixels high.

    Twice the desk size on a 720-pixel screen, and as much more as the screen is taller (three times on
    1080 pixels): the text takes the same share of the projected picture on either projector.
    """
    return max(MINIMUM_SCALE, MINIMUM_SCALE * screen_height / REFERENCE_HEIGHT)


@dataclass
class Borrowed:
    """What presentation mode changed, as it was before: put back on leaving."""

    geometry: QByteArray
    window_state: Qt.WindowState
    docks_and_toolbars: QByteArray
    font: QFont
    font_was_set: bool  # the panels had a font of their own (else they inherit the application's)
    visible: dict[QWidget, bool] = field(default_factory=dict)  # menu bar, status bar, banners
    shortcuts: dict[str, list[QKeySequence]] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)  # the panels' titles
    column_stretches: list[int] = field(default_factory=list)  # the panels' grid


class Presentation:
    """Enters and leaves presentation mode on ``window`` (a MainWindow: panels, actions, dock, banners)."""

    def __init__(self, window) -> None:
        self.window = window
        self.scale = 1.0
        self._borrowed: Borrowed | None = None

    @property
    def presenting(self) -> bool:
        return self._borrowed is not None

    def toggle(self) -> None:
        if self.presenting:
            self.leave()
        else:
            self.enter()

    def enter(self) -> None:
        if self.presenting:
            return
        w = self.window
        central: QWidget = w.centralWidget()
        grid = central.layout()
        hidden = [w.menuBar(), w.statusBar(), w.guide, *w.findChildren(QWidget, "main_toolbar"), w.attack_explained,
                  *w.inputs.details, *w.gradient.details, *w.attack.details, *w.results.details]
        self._borrowed = Borrowed(w.saveGeometry(), w.windowState(), w.saveState(), QFont(central.font()),
                                  central.testAttribute(Qt.WidgetAttribute.WA_SetFont),
                                  {widget: widget.isVisible() for widget in hidden},
                                  {key: list(w.actions[key].shortcuts()) for key in (*TALK_KEYS, *BORROWED_KEYS)},
                                  [box.title() for box in w.panel_boxes],
                                  [grid.columnStretch(column) for column in range(grid.columnCount())])
        for column in range(grid.columnCount()):
            grid.setColumnStretch(column, PRESENTED_COLUMN_STRETCH[column])
        # (panel 1 keeps its minimum width on a 1280-pixel screen; on a larger one the canvas grows too)
        for box, title in zip(w.panel_boxes, PRESENTED_TITLES):
            box.setTitle(title)
        for widget in hidden:
            widget.hide()
        w.explore_views.hide()
        self._lend_keys()
        screen = w.screen()
        self.scale = presentation_scale(screen.geometry().height() if screen is not None else REFERENCE_HEIGHT)
        self._scale_panels(self.scale)
        w.actions["present"].setChecked(True)
        w.showFullScreen()
        central.setFocus()  # no button or slider keeps the focus: the talk keys reach the window

    def leave(self) -> None:
        borrowed = self._borrowed
        if borrowed is None:
            return
        w = self.window
        self._borrowed = None
        self.scale = 1.0
        self._scale_panels(1.0, borrowed)
        w.layout().activate()  # the desk-size minimum now, else restoring the geometry keeps the larger one
        for key, shortcuts in borrowed.shortcuts.items():
            w.actions[key].setShortcuts(shortcuts)
        w.setWindowState(borrowed.window_state)
        w.restoreGeometry(borrowed.geometry)
        w.restoreState(borrowed.docks_and_toolbars)
        for column, stretch in enumerate(borrowed.column_stretches):
            w.centralWidget().layout().setColumnStretch(column, stretch)
        for box, title in zip(w.panel_boxes, borrowed.titles):
            box.setTitle(title)
        for widget, visible in borrowed.visible.items():
            widget.setVisible(visible)
        w.actions["present"].setChecked(False)

    def _lend_keys(self) -> None:
        actions = self.window.actions
        for key, lent in TALK_KEYS.items():
            actions[key].setShortcuts([*actions[key].shortcuts(), QKeySequence(lent)])
        for key, taken in BORROWED_KEYS.items():
            actions[key].setShortcuts([s for s in actions[key].shortcuts() if s != QKeySequence(taken)])

    def _scale_panels(self, scale: float, borrowed: Borrowed | None = None) -> None:
        """The panels' font (the labels, buttons and captions follow it) and their plots at ``scale``."""
        w = self.window
        central: QWidget = w.centralWidget()
        if borrowed is not None:
            central.setFont(borrowed.font if borrowed.font_was_set else QFont())
            if not borrowed.font_was_set:
                central.setAttribute(Qt.WidgetAttribute.WA_SetFont, False)
        else:
            font = QFont(central.font())
            font.setPointSizeF(font.pointSizeF() * scale)
            central.setFont(font)
        for panel in (w.inputs, w.probabilities, w.gradient, w.attack, w.results):
            panel.set_presentation_scale(scale)
