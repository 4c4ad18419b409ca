"""Small pieces of wording shared by the window and the command line (no imports: any layer may use it)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the right number: "1 iteration", "37 iterations", "0 results"; ``plural`` when not noun + "s"."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"



def effort(iterations: int, evaluations: int, seconds: float) -> str:
    """What an attack cost, in the same words wherever it is shown (panels 4 and 5, the status bar)."""
    return f"{counted(iterations, 'solver iteration')}, {counted(evaluations, 'model evaluation')}, {seconds:.2f} s"


# The paper, cited one way everywhere: first posted on arXiv in December 2013, published at ICLR 2014.
PAPER_AUTHORS = "Szegedy et al."
PAPER_TITLE = "Intriguing properties of neural networks"
PAPER_YEAR = 2013
PAPER_VENUE = "arXiv:1312.6199, December 2013; ICLR 2014"


def paper_citation_html() -> str:
    """'Szegedy et al. (2013), <i>Intriguing properties of neural networks</i> (arXiv:1312.6199, ...)'."""
    return f"{PAPER_AUTHORS} ({PAPER_YEAR}), <i>{PAPER_TITLE}</i> ({PAPER_VENUE})"
