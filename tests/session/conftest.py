"""A bare SessionState with no Qt: outcomes are delivered by pumping a DeliveryQueue."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def headless():
    """state, a settle() that runs the lanes' outcomes until idle, and a log of every event."""
    from advviewer.models import load_model
    from advviewer.session.state import SessionState
    from advviewer.session.tasks import DeliveryQueue
    from advviewer.session.values import ModelChoice

    queue = DeliveryQueue()
    state = SessionState(queue.post)
    events: list[tuple[str, tuple]] = []
    for name in state.events.signals:
        getattr(state.events, name).connect(lambda *args, name=name: events.append((name, args)))

    def settle(timeout: float = 60.0) -> None:
        assert state.wait_until_idle(timeout, queue.run_pending), "the state did not settle"

    state.use_model(ModelChoice(load_model("cnn"), "cnn"))
    yield SimpleNamespace(state=state, queue=queue, settle=settle, events=events,
                          named=lambda name: [args for n, args in events if n == name])
    state.shutdown()


@pytest.fixture
def seven(test_digits):
    images, labels = test_digits
    return images[list(labels).index(7)]



@pytest.fixture
def seven_to_three(headless, seven):
    """The headless session with a finished minimal attack 7 -> 3 on screen; returns that FinishedAttack."""
    headless.state.set_picture(None, seven, "a seven")
    headless.state.set_target(3)
    headless.state.find_minimal_c()
    headless.settle()
    return headless.state.current_result()
