"""File > Export the path as GIF/APNG: enabled only while the shown result has a path; the files it writes."""

from helpers import choose_target, export_and_wait, run_minimal
from PIL import Image

from advviewer.gui import export_actions


def test_the_path_action_follows_the_shown_result(window, qtbot, tmp_path):
    action = window.actions["export_path"]
    assert not action.isEnabled() and "run an attack first" in action.toolTip()
    result = run_minimal(window, qtbot, 3)
    assert action.isEnabled() and "GIF and APNG" in action.toolTip()
    outcome = export_and_wait(qtbot, window, export_actions.export_path, tmp_path)
    files = outcome.done[0].files
    assert sorted(p.suffix for p in files.values()) == [".apng", ".gif"]
    with Image.open(files["gif"]) as gif:
        assert gif.n_frames == len(result.history) and gif.size == (960, 540)
    assert "path written as" in window.message.text and files["gif"].name in window.message.text
    assert window.settings.get("export_folder") == str(tmp_path)
    choose_target(window, 5)  # the result on screen no longer matches: no path to export for it
    qtbot.waitUntil(lambda: not action.isEnabled())
    assert "no longer matches" in action.toolTip()
    run_minimal(window, qtbot, 5)
    assert action.isEnabled()


def test_the_path_of_nothing_says_so(window, qtbot, tmp_path):
    assert export_and_wait(qtbot, window, export_actions.export_path, tmp_path) is None
    assert "run an attack first" in window.message.text
    assert not list(tmp_path.iterdir())
