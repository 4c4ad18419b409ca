"""Progress of a long command: a moving tqdm bar on a terminal, plain occasional lines anywhere else.

A bar redraws itself with carriage returns many times a second; written into a log file or a pipe
(``advviewer attack ... 2> log``) that is hundreds of half-lines. When the stream is not a
terminal, :class:`Progress` prints a plain line instead, at most one every PLAIN_EVERY seconds,
and one when the work is done.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from advviewer.text.wording import counted

PLAIN_EVERY = 10.0  # seconds between plain progress lines


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or odd stream
        return False


class Progress:
    """``total`` steps of ``unit`` (singular) named ``desc``; ``enabled=False``: says nothing at all."""

    def __init__(self, total: int, unit: str, desc: str = "", stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.unit, self.desc, self.n = total, unit, desc, 0
        self._stream = stream if stream is not None else sys.stderr
        self._bar = None
        self._enabled = enabled
        self._last_line = time.monotonic()
        self._said = -1  # the count of the last plain line
        if enabled and is_terminal(self._stream):
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self._stream, unit=unit, desc=desc or None, dynamic_ncols=True)

    def update_to(self, n: int, note: str = "") -> None:
        """``n`` steps done of ``total``; ``note``: what is going on (the bar's postfix, the plain line's end)."""
        self.n = n
        if self._bar is not None:
            self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n - self._bar.n)
        elif self._enabled and n != self._said and (n >= self.total or time.monotonic() - self._last_line >= PLAIN_EVERY):
            self._said, self._last_line = n, time.monotonic()
            head = f"{self.desc}: " if self.desc else ""
            tail = f" ({note})" if note else ""
            print(f"{head}{n} of {counted(self.total, self.unit)} done{tail}", file=self._stream, flush=True)

    def write(self, text: str, file: TextIO) -> None:
        """A line of output that does not break the bar."""
        if self._bar is not None:
            self._bar.write(text, file=file)
        else:
            print(text, file=file, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
