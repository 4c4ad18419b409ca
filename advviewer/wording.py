"""Small pieces of wording shared by the window and the command line (no imports: any layer may use it)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the right number: "1 iteration", "37 iterations", "0 results"; ``plural`` when not noun + "s"."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
