"""Everything shown from a file is one printable line, and its fields of the wrong type are not tracebacks (issue 21)."""

import pytest

from advviewer.errors import AdvViewerError, DataFormatError, ImageLoadError, ModelLoadError, printable
from advviewer.reading.files import shown

HOSTILE_NAME = "evil\x1b[2J\x07\nname\r.png"
ESCAPED_NAME = "evil\\x1b[2J\\x07\\nname\\r.png"


def test_printable_escapes_control_characters_and_undecodable_bytes_once():
    assert printable(HOSTILE_NAME) == ESCAPED_NAME
    assert printable(printable(HOSTILE_NAME)) == ESCAPED_NAME  # applying it twice changes nothing more
    assert shown(b"a\xffb\n.png") == "a\\xffb\\n.png"
    assert printable("ünïcode ✓ 7") == "ünïcode ✓ 7"  # printable text is kept as it is


@pytest.mark.parametrize("error", [AdvViewerError, DataFormatError, ImageLoadError, ModelLoadError])
def test_every_error_message_is_one_printable_line_whatever_it_quotes(error):
    """A message that quotes a file's name, header or a decoder's complaint as it is cannot break the line."""
    message = str(error(f"{HOSTILE_NAME}: bad header {HOSTILE_NAME!s}"))
    assert message.isprintable() and ESCAPED_NAME in message


def test_the_window_names_a_model_file_printably():
    from advviewer.session import rules
    from advviewer.session.values import ModelChoice

    assert ModelChoice(None, f"/tmp/{HOSTILE_NAME}").display_name == ESCAPED_NAME  # type: ignore[arg-type]
    why = rules.stale_reason(rules.result_key(1, "cnn", 3, "rival"), rules.result_key(1, f"/tmp/{HOSTILE_NAME}", 3, "rival"))
    assert why is not None and why.isprintable() and ESCAPED_NAME in why


def test_a_background_job_failing_with_any_exception_reports_one_printable_line():
    from advviewer.session.lanes import Lane
    from advviewer.session.tasks import TaskState

    results = []

    def job(state: TaskState):
        raise RuntimeError(HOSTILE_NAME)  # not an AdvViewerError: a bug, or a library quoting the file

    lane = Lane("test", lambda callback: callback())
    lane.submit(job, results.append, results.append)
    assert lane.wait_until_idle(10)
    assert len(results) == 1 and str(results[0]).isprintable() and "evil" in str(results[0])


# ---- the shipped model cards: a damaged one is one line, fields of the wrong type are shown ----

@pytest.mark.parametrize("text, match", [
    ("{not json", "is not readable JSON"),
    ("[1, 2, 3]", "is not a JSON object"),
    ("\xff\xfe", "is not readable JSON"),
])
def test_a_damaged_card_is_one_line(tmp_path, monkeypatch, text, match):
    from advviewer.models import zoo_cards

    (tmp_path / "cnn.json").write_bytes(text.encode("latin-1"))
    monkeypatch.setattr(zoo_cards, "resource_path", lambda *parts: tmp_path.joinpath(*parts[1:]))
    with pytest.raises(ModelLoadError, match=match):
        zoo_cards.model_card("cnn")


def test_card_fields_of_the_wrong_type_are_shown_not_raised():
    from advviewer.session.model_cards import readable_card

    card = {"description": HOSTILE_NAME, "parameters": "many", "test_error": "low", "train_seconds": [1],
            "weight_decay": {"lambdas": ["a", 1e-4, None]}, "epochs": {"x": 1}}
    rows = dict(readable_card(card))
    assert rows["What it is"] == ESCAPED_NAME
    assert rows["Size"] == "not recorded" and "not recorded" in rows["Wrong on"]
    assert "a, 0.0001, None" in rows["Training"]
    assert all(text.isprintable() for text in rows.values())
    assert readable_card({"weight_decay": "strong"})  # not a mapping: shown as it is
    assert readable_card({"weight_decay": {"lambdas": 3}})
