import os

# Qt must never look for a display in tests (CI has none); set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def test_digits():
    """The bundled test split as float32 images in [0, 1] and int labels."""
    from advviewer.data import bundled_split

    images, labels = bundled_split("test")
    return images.astype(np.float32) / 255.0, labels


@pytest.fixture(scope="session")
def cnn():
    from advviewer import load_model

    return load_model("cnn")
