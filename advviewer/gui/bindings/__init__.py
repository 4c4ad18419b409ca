"""The glue between passive widgets and the SessionState, one module per panel.

Each ``bind_*`` function connects a widget's intents to the state's setters and the state's
events to the widget's ``show_*`` methods, then shows the state's current values once (as
napari's layer controls do with ``layer.events``). A value that travels with a signal is used as
it is; nothing is read back from the widget that sent it, and a binding keeps no state of its
own (the drawing binding holds one pending picture to coalesce a fast stroke). A new view is a
widget plus one more binding here.
"""
