"""Issue 20: slips a tester saw on screen under a real X server (wording, cut text, help, export folder, banners)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import helpers
import numpy as np
import pytest
from helpers import run_minimal
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFontMetrics, QTextDocument

import advviewer
from advviewer.text.wording import counted

PACKAGE = Path(advviewer.__file__).parent
BARE_PLURAL = re.compile(r"\{[^{}]*\}'?\s(iterations|results|files|digits|models|attacks|targets|images)\b")


# --- 1. "1 iterations" --------------------------------------------------------------------------

def test_counted_says_one_thing_once():
    assert counted(1, "iteration") == "1 iteration"
    assert counted(37, "iteration") == "37 iterations" and counted(0, "result") == "0 results"
    assert counted(5000, "digit") == "5,000 digits" and counted(2, "other model") == "2 other models"
    assert counted(1, "class", "classes") == "1 class" and counted(3, "class", "classes") == "3 classes"


def test_no_count_in_the_window_or_command_line_is_pluralised_blindly():
    """Every "{n} things" of the GUI and the CLI goes through counted(), which says "1 thing"."""
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for folder in ("gui", "cli", "session")
             for path in sorted((PACKAGE / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if BARE_PLURAL.search(line)]
    assert not found, "\n".join(found)


def test_an_attack_of_one_iteration_says_1_iteration(window, qtbot):
    item = None

    def keep(finished):
        nonlocal item
        item = finished

    window.state.events.attack_finished.connect(keep)
    run_minimal(window, qtbot, 3, settle=True)
    one = dataclasses.replace(item, result=dataclasses.replace(item.result, iterations=1))
    # the shown result becomes one of one iteration: what panel 4 and the status bar say of it (panel 5 leaves the
    # solver's effort to them)
    window.state.show_found(one.result, one.model, window.state.input.version)
    for text in (window.attack.status.text(), window.attack_time.text()):
        assert re.search(r"(?<!\d)1 solver iteration(?!s)", text) and not re.search(r"(?<!\d)1 \w* ?iterations", text), text
    assert "iteration" not in window.results.summary.text()


# --- 2. the empty-canvas note ------------------------------------------------------------------

def _plain(rich: str) -> str:
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText()


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)])
def test_the_empty_canvas_note_is_read_to_its_last_word(window, gui, size):
    window.resize(*size)
    window.canvas.clear()
    gui.wait_live(window)
    label = window.inputs.prediction
    text = _plain(label.text())
    assert text.rstrip().endswith("answer."), text
    room = label.contentsRect()
    # the text as Qt lays it out at the label's width (rich text: the bold part is wider)...
    assert label.heightForWidth(room.width()) <= room.height(), (label.heightForWidth(room.width()), room.height())
    # ...and as plain words in the label's font, wrapped at its width
    needed = QFontMetrics(label.font()).boundingRect(QRect(0, 0, room.width(), 10_000), Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter, text)
    assert needed.width() <= room.width() and needed.height() <= room.height(), (needed, room)


# --- 3. the bar labels of panel 2 ----------------------------------------------------------------

def test_each_bar_label_is_shown_whole_on_a_light_box(qtbot):
    """A .99 bar narrowed beside the adversarial's bar: its white label was wider than the bar, so its "." vanished."""
    from advviewer.gui.widgets.probability_plot import PREDICTED_BRUSH, ProbabilityPlot

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    plot.resize(330, 230)  # panel 2 at 1280x720
    plot.show()
    qtbot.waitExposed(plot)
    probs = np.array([0.99, 0.0, 0.0, 0.004, 0.0, 0.0, 0.0, 0.006, 0.0, 0.0])
    adversarial = np.zeros(10)
    adversarial[[0, 3]] = 0.48, 0.52
    plot.set_probabilities(probs, 3)
    plot.set_adversarial(adversarial, 3)
    qtbot.wait(50)
    picture = plot.grab().toImage()
    ratio = picture.devicePixelRatio()
    view = plot.getPlotItem().getViewBox().sceneBoundingRect()
    orange = PREDICTED_BRUSH.color().rgb()
    shown = {}
    for label in plot._labels:
        if not label.isVisible():
            continue
        text = label.toPlainText()
        shown[round(label.pos().x())] = text
        box = label.sceneBoundingRect()
        assert view.contains(box), (text, box, view)  # not clipped by the plot's edges
        rect = plot.mapFromScene(box).boundingRect().adjusted(2, 2, -2, -2)
        pixels = [picture.pixel(int(x * ratio), int(y * ratio)) for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())]
        dark = sum(max(QColor(p).red(), QColor(p).green(), QColor(p).blue()) < 110 for p in pixels)
        assert orange not in pixels and dark > 3, (text, dark)  # the whole text is on its light box, in dark ink
    assert shown == {0: ".99", 7: ".01"}


# --- 4. the model picker's closed box ----------------------------------------------------------

@pytest.mark.parametrize("width", [1280, 1920])
def test_the_closed_model_picker_reads_whole_and_the_list_gives_the_rest(window, width):
    from advviewer.session.model_cards import one_line

    window.resize(width, 720)
    picker = window.model_picker
    in_use = picker.currentIndex()
    for i in range(picker.count()):
        picker.blockSignals(True)  # look at each entry without loading its model
        picker.setCurrentIndex(i)
        picker.blockSignals(False)
        name, shown = picker.itemData(i), picker.elided_text()
        assert "…" not in shown and "..." not in shown, shown  # whole, not cut
        assert shown.startswith(f"{name}: ") and shown.split(": ", 1)[1].strip(), shown  # the name and a few words
        description = one_line(name)
        assert picker.itemText(i) == f"{name}: {description}"  # the open list: the whole description
        assert picker.itemData(i, Qt.ItemDataRole.ToolTipRole) == description
    picker.setCurrentIndex(in_use)
    assert one_line(picker.currentData()) in picker.toolTip()  # the closed box's tooltip: the model in use, whole


# --- 10. the action the Export-all banner names --------------------------------------------------

def _menu_actions(window) -> dict[str, object]:
    """'File ▸ Export…' -> QAction, for every action in the menu bar's menus (as a user reads them)."""
    found = {}
    for top in window.menuBar().actions():
        menu = top.menu()
        for action in menu.actions() if menu is not None else ():
            if not action.isSeparator():
                found[f"{top.text().replace('&', '')} ▸ {action.text().replace('&', '').rstrip('…')}"] = action
    return found


def test_the_export_all_banner_names_a_real_action_that_fixes_the_png(window, qtbot, tmp_path, monkeypatch):
    import json

    from advviewer.gui import dialogs, export_actions

    assert helpers.run_at_c(window, qtbot, 3, 10.0).success  # a sure mistake: its PNG fools the model
    _, other = helpers.open_boundary_digit(window, qtbot, tmp_path)
    assert run_minimal(window, qtbot, other, settle=True).success  # a hair across the boundary: its PNG does not
    helpers.export_and_wait(qtbot, window, export_actions.export_everything, tmp_path / "plain")
    banner = window.message.text
    named = re.search(r"<b>([^<]*▸[^<]*)</b> fixes that", banner)
    assert "no longer fools the model" in banner and named, banner
    action = _menu_actions(window).get(named.group(1))
    assert action is not None and action.isEnabled(), (named.group(1), sorted(_menu_actions(window)))
    monkeypatch.setattr(dialogs, "choose_folder", lambda parent, folder: tmp_path / "robust")
    helpers.export_and_wait(qtbot, window, lambda w: action.trigger() or w.state.exports.running() is not None)
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "robust").glob("*.json"))]
    fooled = [r for r in records if r["success"]]
    assert len(fooled) == len(window.state.results.items) >= 2
    assert all(r["png_fools_model"] and r["png_robust"] for r in fooled)
    assert "no longer fools" not in window.message.text


# --- 7. where the Export dialog opens ---------------------------------------------------------------

def test_the_export_dialog_opens_in_the_last_export_folder_else_documents_never_the_programs(
        window, qtbot, tmp_path, monkeypatch):
    from advviewer.gui import export_actions
    from advviewer.gui.dialogs import FolderDialog

    home, program = tmp_path / "home", tmp_path / "program"
    (home / "Documents").mkdir(parents=True)
    program.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # no user-dirs.dirs: the standard names
    monkeypatch.chdir(program)  # started from a menu: the current directory is the program's folder
    opened: list[Path] = []

    def look(dialog):
        opened.append(Path(dialog.directory().absolutePath()))
        return FolderDialog.DialogCode.Rejected

    monkeypatch.setattr(FolderDialog, "exec", look)
    run_minimal(window, qtbot, 3)
    assert not export_actions.export_current(window)
    assert opened[-1] == home / "Documents" and opened[-1] != program
    (home / "Documents").rmdir()
    assert not export_actions.export_current(window)
    assert opened[-1] == home  # no Documents, no Pictures: home
    helpers.export_and_wait(qtbot, window, export_actions.export_current, tmp_path / "lecture")
    assert not export_actions.export_current(window)
    assert opened[-1] == tmp_path / "lecture"  # remembered (in settings) from the last export
    assert window.settings.get("export_folder") == str(tmp_path / "lecture")


# --- 11. an error banner about a file goes once the window has moved past it -----------------------

def _open_a_bad_npy(window, qtbot, tmp_path):
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"\x93NUMPY not really an array")
    assert not helpers.open_and_wait(qtbot, window, bad)
    assert window.message.kind == "error" and "Could not open the image" in window.message.text


def test_a_file_error_goes_when_a_sample_digit_is_opened(window, qtbot, tmp_path):
    _open_a_bad_npy(window, qtbot, tmp_path)
    window.actions["samples"].trigger()
    gallery = window.gallery
    qtbot.waitExposed(gallery)
    qtbot.keyClick(gallery.view, Qt.Key.Key_Return)  # open the first sample digit
    helpers.wait_idle(qtbot, window)
    assert window.state.input.source.startswith("bundled MNIST digit")
    assert not window.message.isVisible(), window.message.text


def test_a_file_error_goes_when_an_attack_succeeds(window, qtbot, tmp_path):
    _open_a_bad_npy(window, qtbot, tmp_path)
    assert run_minimal(window, qtbot, 3).success  # on the digit that stayed on the canvas
    assert not window.message.isVisible(), window.message.text


def test_an_unrelated_banner_stays_when_an_attack_succeeds(window, qtbot):
    window.message.show_message("The model could not be loaded.")  # not about a file the user opened
    assert run_minimal(window, qtbot, 3).success
    assert window.message.isVisible()


# --- 5 and 6. the paper cited one way; Help covers what is on screen ---------------------------------

def _help_text(window) -> str:
    from PySide6.QtWidgets import QDialog, QTextBrowser

    window.actions["help"].trigger()
    return window.findChild(QDialog, "help").findChild(QTextBrowser).toPlainText()


def test_about_and_help_cite_the_paper_the_same_way(window):
    from PySide6.QtWidgets import QMessageBox

    window.actions["about"].trigger()
    about = _plain(window.findChild(QMessageBox, "about").text())
    help_page = _help_text(window)
    citation = "Szegedy et al. (2013), Intriguing properties of neural networks (arXiv:1312.6199, December 2013; ICLR 2014)"
    assert citation in about and citation in help_page
    for text in (about, help_page):
        assert text.replace(citation, "").count("2014") == 0 and text.count("Szegedy") == 1


def test_every_mention_of_the_paper_gives_2013():
    """README, docstrings, the CLI's and the window's words: 'Szegedy et al.' with a year says 2013."""
    sources = [*PACKAGE.rglob("*.py"), PACKAGE.parent / "README.md", PACKAGE.parent / "pyproject.toml"]
    years = [(str(path.name), year) for path in sources if path.is_file()
             for year in re.findall(r"Szegedy et al\.?,?[^.\n]{0,80}?\b((?:19|20)\d\d)\b", path.read_text())]
    assert years and all(year == "2013" for _, year in years), years


def test_help_names_every_tab_of_the_explore_dock_and_every_menu_action(window):
    from advviewer.gui.actions import MENUS

    help_page = _help_text(window).lower()
    tabs = window.explore_views.tabs
    titles = [tabs.tabText(i).replace("&", "") for i in range(tabs.count())]
    assert len(titles) == 6 and window.explore_views.windowTitle() == "Explore this result"
    missing = [f"tab {t}" for t in titles if f"{t.lower()}:" not in help_page]  # each tab's entry: "Title: what it shows"
    missing += [path for path in _menu_actions(window) if path.split(" ▸ ", 1)[1].lower() not in help_page]
    shortcuts = [entry[2] if isinstance(entry[2], str) else entry[2][0] for entries in MENUS.values() for entry in entries
                 if entry is not None and entry[2]]
    missing += [f"key {key}" for key in shortcuts if key.lower() not in help_page]
    assert not missing, missing
    for words in ("fgsm", "ddn", "transfer", "noise check", "explore this result"):  # the words on screen, explained
        assert words in help_page


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1640, 860), (1920, 1080)])
@pytest.mark.parametrize("dock_open", [False, True])
@pytest.mark.parametrize("target", [3, None])
def test_the_results_summary_is_read_to_its_last_word(window, qtbot, size, dock_open, target):
    """Panel 5's summary is three lines high; its last sentence (the objective) was cut off where the Explore dock,
    docked beside the panels, left it narrower (seen at 1640x860, a 1920x1080 screen's unmaximised window)."""
    window.resize(*size)
    dock = window.explore_views
    if dock_open != dock.isVisible():
        dock.toggleViewAction().trigger()
    if dock_open:
        dock.setFloating(False)
    run_minimal(window, qtbot, target=target)
    qtbot.wait(50)
    label = window.results.summary
    assert _plain(label.text()).rstrip().endswith(")."), label.text()
    room = label.contentsRect()
    assert label.heightForWidth(room.width()) <= room.height(), (size, room.width(), label.heightForWidth(room.width()), room.height())
