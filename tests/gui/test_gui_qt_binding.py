"""Guard against a Qt binding that corrupts Python's reference counts.

PySide6 6.12.0 under Python 3.11 decrements None's reference count on every call of a Qt method
returning void; after a few thousand calls (seconds of drawing) the interpreter aborts with
"none_dealloc: deallocating None". pyproject.toml excludes it; this test says so plainly if such
a build comes back, instead of a crash somewhere in the GUI tests.
"""

import sys

from advviewer.gui.app import qt_binding_problem


def test_void_qt_calls_keep_none_alive(qapp):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 50, "this PySide6 build drops a reference to None on every void call"


def test_start_up_check_agrees(qapp):
    assert qt_binding_problem() is None
