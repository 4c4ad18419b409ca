"""advviewer.gui.xcb_check: which libraries Qt's X11 plugin lacks, found from the plugin itself, without Qt.

The real thing was checked in a private mount namespace that hides libxcb-icccm4 and
libxcb-keysyms1 (as a fresh Debian lacks them): the window said so in one line where Qt aborted
with status 134, and `bash tools/dev.sh run` installed exactly those two packages.
"""

import shutil
import subprocess
import sys

import pytest

from advviewer.gui import xcb_check


@pytest.fixture
def stranded_plugin(tmp_path):
    """The real libqxcb.so, copied away from Qt's own libraries (its rpath no longer finds them)."""
    plugin = xcb_check.xcb_plugin()
    if plugin is None or shutil.which("ldd") is None:
        pytest.skip("needs PySide6's xcb plugin and ldd")
    copy = tmp_path / "libqxcb.so"
    shutil.copy(plugin, copy)
    return copy


def test_missing_libraries_are_read_from_the_plugin(stranded_plugin):
    missing = xcb_check.missing_libraries(stranded_plugin)
    assert "libQt6XcbQpa.so.6" in missing and "libQt6Core.so.6" in missing
    assert all(name.startswith("lib") and ".so" in name for name in missing)


def test_the_window_says_in_one_line_what_is_missing(stranded_plugin, monkeypatch):
    monkeypatch.setattr(xcb_check, "xcb_plugin", lambda: stranded_plugin)
    message = xcb_check.xcb_problem({"DISPLAY": ":0"})
    assert message is not None and "\n" not in message
    assert message.startswith("the window cannot open: Qt's X11 plugin needs libraries this system lacks: ")
    assert "libQt6XcbQpa.so.6" in message
    assert xcb_check.xcb_problem({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}) is None  # only for X11


def test_a_plugin_that_loads_needs_no_ldd(monkeypatch):
    """Every window start checks the plugin: loading it is enough; ldd (a process, ~20 ms) only names what is missing."""
    plugin = xcb_check.xcb_plugin()
    if plugin is None:
        pytest.skip("needs PySide6's xcb plugin")

    def no_ldd(*args, **kwargs):
        raise AssertionError("ldd was run for a plugin that loads")

    monkeypatch.setattr(xcb_check.subprocess, "run", no_ldd)
    assert xcb_check.xcb_problem({"DISPLAY": ":0"}) is None


@pytest.mark.parametrize("soname, package", [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
])
def test_debian_package_names(soname, package):
    assert package in xcb_check.debian_packages(soname)


@pytest.mark.parametrize("environ, expected", [
    ({"DISPLAY": ":0"}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, False),
    ({}, False),
])
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 through xcb is Qt's default on Linux only")
def test_when_qt_uses_xcb(environ, expected):
    assert xcb_check.uses_xcb(environ) is expected


def test_the_check_imports_no_qt():
    code = "import sys, advviewer.gui.xcb_check as c; c.xcb_problem({'DISPLAY': ':0'}); print(any(m.startswith('PySide6.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
