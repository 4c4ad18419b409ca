"""``advviewer attack`` from the command line: files, JSON on stdout, one-line errors, exit codes."""

import json

import numpy as np
import pytest

from advviewer import load_model, predict
from advviewer.cli import main


def classes(path, name="cnn"):
    from advviewer import load_image

    probs = predict(load_model(name), load_image(path))
    order = np.argsort(probs)
    return int(order[-1]), int(order[-2])


def test_json_records_and_files(test_digit_files, tmp_path, capsys):
    current, second = classes(test_digit_files[0])
    status = main(["attack", str(test_digit_files[0]), "--target", str(second), "--out", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert status == 0
    (line,) = out.strip().splitlines()
    record = json.loads(line)
    assert record["success"] and record["target"] == second and record["original_class"] == current
    assert record["model"] == "cnn" and record["image"] == str(test_digit_files[0])
    assert isinstance(record["png_fools_model"], bool)
    for name in record["files"]:
        assert (tmp_path / name).is_file()
    # one naming rule for the window and the command line (advviewer.writing.export.export_stem)
    assert f"digit0_cnn_{current}to{second}_c{record['c']:.3g}_adversarial.png" in record["files"]


def test_human_summary_says_whether_the_png_still_fools(test_digit_files, tmp_path, capsys):
    _, second = classes(test_digit_files[1], "fc10-1e-2")
    assert main(["attack", str(test_digit_files[1]), "--model", "fc10-1e-2", "--target", str(second), "--out", str(tmp_path)]) == 0
    out, _ = capsys.readouterr()
    assert "8-bit PNG still fools the model:" in out


def test_all_targets_makes_nine_attacks(test_digit_files, tmp_path, capsys):
    current, _ = classes(test_digit_files[0], "fc10-1e-2")
    status = main(["attack", str(test_digit_files[0]), "--model", "fc10-1e-2", "--all-targets", "--out", str(tmp_path), "--json"])
    out, _ = capsys.readouterr()
    records = [json.loads(line) for line in out.strip().splitlines()]
    assert status == 0
    assert sorted(r["target"] for r in records) == [t for t in range(10) if t != current]


def test_untargeted_with_fixed_c(test_digit_files, tmp_path, capsys):
    status = main(["attack", str(test_digit_files[0]), "--model", "fc10-1e-2", "--untargeted", "--c", "1000",
                   "--out", str(tmp_path), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert status == 0 and record["untargeted"] and record["mode"] == "fixed-c" and record["success"]


def test_a_weak_fixed_c_is_reported_as_not_adversarial(test_digit_files, tmp_path, capsys):
    _, second = classes(test_digit_files[0])
    status = main(["attack", str(test_digit_files[0]), "--target", str(second), "--c", "1e-5", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert status == 1 and "not adversarial" in out
    assert [p.suffix for p in tmp_path.iterdir()] == [".json"]


@pytest.mark.parametrize("args, fragment", [
    (["--target", "12"], "0..9"),
    (["--target", "3", "--c", "-1"], "c must be"),
    (["--target", "3", "--model", "no-such-model"], "unknown model"),
])
def test_bad_arguments_one_line_exit_2(test_digit_files, tmp_path, capsys, args, fragment):
    status = main(["attack", str(test_digit_files[0]), "--out", str(tmp_path)] + args)
    err = capsys.readouterr().err
    assert status == 2
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_target_already_the_answer_and_a_missing_file_are_skipped(test_digit_files, tmp_path, capsys):
    current, _ = classes(test_digit_files[0])
    status = main(["attack", str(test_digit_files[0]), str(tmp_path / "missing.png"), "--target", str(current),
                   "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "already answers" in err and "missing.png" in err and "Traceback" not in err


def test_goal_is_required(test_digit_files, capsys):
    with pytest.raises(SystemExit) as e:
        main(["attack", str(test_digit_files[0])])
    assert e.value.code == 2


def test_two_inputs_with_the_same_file_name_keep_their_own_files(test_digit_files, tmp_path, capsys):
    """a/digit0.png and b/digit0.png at the same c used to get the same stem: the second overwrote the first."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "digit0.png").write_bytes(test_digit_files[0].read_bytes())
    _, second = classes(test_digit_files[0], "fc10-1e-2")
    out_dir = tmp_path / "missing" / "out"  # created, not refused
    status = main(["attack", str(tmp_path / "a" / "digit0.png"), str(tmp_path / "b" / "digit0.png"), "--model", "fc10-1e-2",
                   "--target", str(second), "--c", "1000", "--out", str(out_dir), "--json"])
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert status == 0 and len(records) == 2
    assert {r["image"] for r in records} == {str(tmp_path / "a" / "digit0.png"), str(tmp_path / "b" / "digit0.png")}
    files = [set(r["files"]) for r in records]
    assert not files[0] & files[1]
    assert {p.name for p in out_dir.iterdir()} == files[0] | files[1]
    for record in records:  # each JSON on disk is its own attack's record
        on_disk = json.loads((out_dir / record["files"][-1]).read_text())
        assert on_disk["image"] == record["image"]
