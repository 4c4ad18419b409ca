"""The ``advviewer`` command: the window with no arguments, sub-commands for the command line.

Every sub-command uses the same core as the window. Errors a user can cause print one line on
stderr and exit with status 2 (bad input) or 1 (anything else); never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from advviewer.cli import attack, predict, reproduce, train
from advviewer.cli.common import EXIT_BAD_INPUT, EXIT_FAILURE
from advviewer.errors import AdvViewerError
from advviewer.reading.files import shown
from advviewer.runtime import threads

log = logging.getLogger("advviewer")



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advviewer",
        description="See how neural networks are fooled. With no command, opens the window.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    gui = parser.add_argument_group("window options (no COMMAND)")
    gui.add_argument(
        "--screenshot", metavar="FILE", type=Path,
        help="build the window offscreen, update it (and attack with --target), save a PNG of it and exit",
    )
    gui.add_argument("--image", dest="gui_image", metavar="IMG", type=Path, help="image to open in the window")
    gui.add_argument("--scene", dest="gui_scene", metavar="FILE", type=Path,
                     help="open a scene file (.advscene) or a folder of them (a lecture: PageDown / PageUp step through)")
    gui.add_argument("--model", dest="gui_model", metavar="M", help="model to select (default: the last used, else cnn)")
    gui.add_argument("--target", dest="gui_target", metavar="T", type=int, choices=range(10), help="attack target class 0..9")
    gui.add_argument("--c", dest="gui_c", metavar="C", type=float, help="attack constant c (default: find the minimal c)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (predict, train, attack, reproduce):
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv_given = argv
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Library warnings (Pillow on odd files, numpy, torch) are details, not the one line a user
    # should read: they go to the log, shown with -v.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.INFO if args.verbose else logging.ERROR)
    if args.command is not None and not getattr(args, "torch_on_demand", False):
        threads.configure()  # the window sets its own count once torch is imported
    if args.command is None:
        return _run_window(args, exit_when_closed=argv_given is None)
    return _run_command(args)


def _run_window(args: argparse.Namespace, exit_when_closed: bool) -> int:
    """The window (no COMMAND); ``exit_when_closed``: the program itself, not a test calling main(), so leave at once (see exit_now)."""
    try:
        from advviewer.gui.app import run as gui_main
    except ImportError as exc:  # a broken or missing Qt installation
        print(f"advviewer: the window cannot start ({exc}); the sub-commands still work, see --help", file=sys.stderr)
        return EXIT_FAILURE
    try:
        status = int(gui_main(args) or 0)
    except AdvViewerError as exc:
        print(f"advviewer: {shown(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if exit_when_closed:
        from advviewer.gui.app import exit_now

        exit_now(status)
    return status


def _run_command(args: argparse.Namespace) -> int:
    """A sub-command; what a user can cause ends in one line on stderr and an exit status, never a traceback."""
    try:
        return int(args.func(args) or 0)
    except AdvViewerError as exc:
        print(f"advviewer: {shown(str(exc))}", file=sys.stderr)  # a message may quote a file's text
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("advviewer: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("advviewer: out of memory", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"advviewer: {exc.strerror or exc}{': ' + shown(exc.filename) if exc.filename else ''}", file=sys.stderr)
        return EXIT_FAILURE
