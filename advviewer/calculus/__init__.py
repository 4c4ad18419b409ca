"""The network's calculus: class probabilities and the input gradient (``gradients``)."""
