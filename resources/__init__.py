"""Data files shipped with advviewer (weights, model cards, the bundled MNIST subset, icons).

Read them with :mod:`advviewer.runtime.resources_access`, never through the working directory.
"""
