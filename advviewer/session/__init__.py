"""The window's state and its rules, without Qt: what the window shows, owned once.

:class:`~advviewer.session.state.SessionState` owns every piece of the window's state (the model,
the input and its source, the target, c, the gradient choice, the live evaluation, the current
result and the session's results) and emits a psygnal event when one changes; the widgets bind
to those events and send intents back (napari's layer controls bind to ``layer.events`` the same
way). Long work is plain job functions (jobs.py) run on :class:`~advviewer.session.tasks.Lane`
daemon threads. Everything here runs and is tested headless; ``advviewer.gui`` is the Qt on top.

Modules: choices.py (the constants widgets share with the state; imports nothing), values.py
(what events carry), rules.py (staleness, the model-switch re-run, the gradient's class),
results.py (the session's results and the c plot's runs), tasks.py (lanes and task states),
jobs.py (the jobs), catalog.py (models and sample digits to pick from), export.py (writing
results, one export at a time), explore.py and explore_jobs.py (the Explore dock's views), scenes.py (scenes and lectures: the
state to a scene file and back),
state.py. ``SessionState`` is imported on first use, so a widget importing choices.py does not
load torch.
"""

__all__ = ["SessionState"]


def __getattr__(name: str):
    if name == "SessionState":
        from advviewer.session.state import SessionState

        return SessionState
    raise AttributeError(f"module 'advviewer.session' has no attribute {name!r}")
