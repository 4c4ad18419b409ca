"""Presentation mode's T key: the next target, in the target box's order, never the class the model sees."""

from advviewer.session.choices import next_target


def test_next_target_cycles_any_then_each_class():
    assert next_target(None, None) == 0
    assert next_target(4, None) == 5
    assert next_target(9, None) is None


def test_next_target_skips_the_class_the_model_sees():
    assert next_target(None, 0) == 1
    assert next_target(6, 7) == 8
    assert next_target(8, 9) is None
