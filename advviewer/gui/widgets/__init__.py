"""Passive widgets: each shows the values it is given and emits the user's intents as signals.

They never call the core and never read the session's state; the glue in
:mod:`advviewer.gui.bindings` connects them to :class:`advviewer.session.SessionState`. So each
can be built and tested alone, and a new view (issue 9's) is a new widget here plus a binding.
"""
