"""Progress on the command line: a bar on a terminal; in a log file or a pipe, no carriage-return redraws."""

import io

from advviewer.cli import main
from advviewer.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_redirected_stream_gets_one_plain_line_not_redraws():
    log = io.StringIO()
    with Progress(1000, "attack", stream=log) as progress:
        for n in range(1, 1001):
            progress.update_to(n, f"iteration {n}")
    assert "\r" not in log.getvalue() and "\x1b[" not in log.getvalue()
    assert log.getvalue().splitlines() == ["1000 of 1,000 attacks done (iteration 1000)"]


def test_a_terminal_gets_the_moving_bar():
    screen = Terminal()
    with Progress(3, "epoch", "training", stream=screen) as progress:
        for n in (1, 2, 3):
            progress.update_to(n)
    assert "\r" in screen.getvalue() and "3/3" in screen.getvalue()


def test_a_disabled_progress_says_nothing():
    log = io.StringIO()
    with Progress(5, "attack", stream=log, enabled=False) as progress:
        progress.update_to(5)
    assert log.getvalue() == ""


def test_attack_all_targets_into_a_redirected_stderr_writes_no_redraws(test_digit_files, tmp_path, capsys):
    """`advviewer attack --all-targets ... 2> log`: capsys's stderr is not a terminal, as a log file is not."""
    status = main(["attack", str(test_digit_files[0]), "--model", "fc10-1e-2", "--all-targets", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 0 and len(out.strip().splitlines()) == 9
    assert "\r" not in err and "\x1b[" not in err, repr(err)
    assert err.strip().splitlines()[-1].startswith("9 of 9 attacks done")
