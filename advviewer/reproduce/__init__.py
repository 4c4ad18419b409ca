"""Reproduce the paper's Tables 1 and 2 on the zoo models (``advviewer reproduce``).

- :mod:`~advviewer.reproduce.run`: ``run_reproduction(config, progress, cancel)`` measures
  everything (a plain function, no output);
- :mod:`~advviewer.reproduce.outputs`: ``write_outputs`` writes report.md, results.json, CSV
  tables and figures.

Nothing is imported here, so the command line can read :mod:`~advviewer.reproduce.config`
without loading torch.
"""
