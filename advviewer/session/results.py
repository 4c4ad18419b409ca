"""The session's attack results: every one (for "Export all"), the latest, and the runs on this input."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from advviewer.session.values import FinishedAttack, ResultKey, Runs

if TYPE_CHECKING:  # imported where used: the window is painted before torch is imported
    from advviewer.attack.c_sweep import SweepPoint

FINISHED_KEPT = 500  # results remembered for "Export all results"
HISTORY_KEPT = 5  # results that keep their iterates for playback (a few hundred 28x28 frames each)


class ResultLog:
    """Owns the results; the c plot's points are kept for one (input, model, target) key at a time."""

    def __init__(self) -> None:
        self._items: list[FinishedAttack] = []
        self._runs = Runs(None)

    @property
    def items(self) -> tuple[FinishedAttack, ...]:
        """Every result of this session, oldest first (the newest FINISHED_KEPT)."""
        return tuple(self._items)

    @property
    def latest(self) -> FinishedAttack | None:
        return self._items[-1] if self._items else None

    def add(self, item: FinishedAttack) -> Runs:
        """Remember a finished attack and add it to the runs of its key; returns the runs."""
        self._items.append(item)
        del self._items[:-FINISHED_KEPT]
        if len(self._items) > HISTORY_KEPT:
            dropped = self._items[-HISTORY_KEPT - 1].result
            dropped.history = dropped.history_c = None
        from advviewer.attack.c_sweep import sweep_point

        return self.add_runs(item.key, [sweep_point(item.result)])

    def restore(self, items: Sequence[FinishedAttack], runs: Runs) -> Runs:
        """Results from a scene file join the session's, oldest first, with the c plot's points they were saved with.

        Nothing is re-run. A result the session already holds (opened from the same scene before:
        :func:`_identity`) moves to its place among them instead of being held twice.
        """
        restored = {_identity(item) for item in items}
        self._items = [item for item in self._items if _identity(item) not in restored] + list(items)
        del self._items[:-FINISHED_KEPT]
        for item in self._items[:-HISTORY_KEPT]:
            item.result.history = item.result.history_c = None
        self._runs = runs
        return runs

    def add_runs(self, key: ResultKey, points: Iterable[SweepPoint]) -> Runs:
        """Add points for ``key``; a new key starts afresh."""
        before = self._runs.points if self._runs.key == key else ()
        self._runs = Runs(key, before + tuple(points))
        return self._runs

    def runs_for(self, key: ResultKey) -> Runs:
        """The runs on ``key`` (none if the last runs were on another input, model or target)."""
        return self._runs if self._runs.key == key else Runs(key)


def _identity(item: FinishedAttack) -> tuple:
    """What tells one result from another: its model, input and source, and its numbers and adversarial image."""
    r = item.result
    return (item.model.name, item.model.sha256, item.source, r.c, r.l2, r.seconds, r.evaluations, r.target, r.loss,
            r.confidence, np.asarray(r.adversarial).tobytes(), None if r.original is None else np.asarray(r.original).tobytes())
