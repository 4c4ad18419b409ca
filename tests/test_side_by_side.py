"""Compare models (issue 24, item 3): one digit's minimal attack on the standard and the robust model, side by side."""

import numpy as np
import pytest

from advviewer import load_model
from advviewer.errors import AdvViewerError
from advviewer.explore.side_by_side import compare_models
from advviewer.training.robustness import held_out_pairs

DIGITS = 4


@pytest.fixture(scope="module")
def compared(cnn):
    robust = load_model("cnn-robust")
    pairs = held_out_pairs([cnn, robust], DIGITS)
    return [compare_models(("cnn", cnn), ("cnn-robust", robust), image, int(target))
            for image, target in zip(pairs.images, pairs.targets)]


def test_both_sides_reach_the_target_and_share_one_colour_scale(compared):
    for sbs in compared:
        assert [side.name for side in sbs.sides] == ["cnn", "cnn-robust"]
        assert all(side.result.success and side.result.adversarial_class == sbs.target for side in sbs.sides)
        largest = max(float(np.abs(side.result.perturbation).max()) for side in sbs.sides)
        assert sbs.scale == pytest.approx(largest)
        shown = [np.abs(sbs.perturbation_on_scale(i)).max() for i in (0, 1)]
        assert max(shown) == pytest.approx(1.0) and min(shown) <= 1.0
        np.testing.assert_allclose(sbs.perturbation_on_scale(1) * sbs.scale,
                                   np.asarray(sbs.sides[1].result.perturbation).reshape(28, 28), atol=1e-6)


def test_the_robust_side_needs_a_larger_change_that_the_standard_model_reads_as_the_target(compared):
    robust_l2 = np.median([sbs.sides[1].result.l2 for sbs in compared])
    standard_l2 = np.median([sbs.sides[0].result.l2 for sbs in compared])
    assert robust_l2 >= 1.3 * standard_l2, [sbs.l2_ratio for sbs in compared]
    robust_looks_like_target = sum(sbs.sides[1].read_by_other_as == sbs.target for sbs in compared)
    standard_looks_like_target = sum(sbs.sides[0].read_by_other_as == sbs.target for sbs in compared)
    assert robust_looks_like_target > standard_looks_like_target


def test_a_model_is_not_compared_with_itself(cnn, test_digits):
    with pytest.raises(AdvViewerError, match="not cnn with itself"):
        compare_models(("cnn", cnn), ("cnn", cnn), test_digits[0][0], 3)
