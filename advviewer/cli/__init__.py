"""The ``advviewer`` command: the window with no arguments, sub-commands for the command line.

One module per sub-command (predict.py, train.py, attack.py), each with ``add_parser(sub)``;
main.py builds the parser and dispatches. All of them call the same core as the window.
"""

from advviewer.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
