"""Text shared by the window and the command line (``wording``: counts, effort, the paper's citation); imports nothing."""
