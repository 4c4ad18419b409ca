"""Readable without telling red from green: every colour that means something has a second cue, read from the plots' items.

The colour pairs are also checked through tools/colour_vision.py (Machado et al. 2009): what a
person with deuteranopia or protanopia sees must still differ clearly.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from helpers import load_tool
from PySide6.QtCore import Qt

DEFICIENCIES = ("deuteranopia", "protanopia")
APART = 40.0  # CIELAB Delta E: two small markers told apart at a glance (the old green/red fell to about 20)


@pytest.fixture(scope="module")
def colour_vision():
    return load_tool("colour_vision")


def _rgb(brush) -> tuple[int, int, int]:
    colour = brush.color()
    return colour.red(), colour.green(), colour.blue()


def _runs(*fooled: bool):
    return [SimpleNamespace(c=0.1 * 2**i, l2=0.5 + 0.1 * i, fooled=f) for i, f in enumerate(fooled)]


def test_c_plot_tells_fooled_from_not_fooled_by_shape(qtbot, colour_vision):
    from advviewer.gui.widgets.c_plot import CPlot

    plot = CPlot()
    qtbot.addWidget(plot)
    plot.show_runs(_runs(False, False, True, True, True))
    spots = plot._dots.points()
    symbols = [spot.symbol() for spot in spots]
    assert len(set(symbols[:2])) == len(set(symbols[2:])) == 1  # one shape per verdict
    assert symbols[0] != symbols[2]  # not only another colour: another marker
    not_fooled, fooled = _rgb(spots[0].brush()), _rgb(spots[2].brush())
    for deficiency in DEFICIENCIES:
        assert colour_vision.colour_difference(fooled, not_fooled, deficiency) > APART, deficiency
    legend = plot.getPlotItem().getAxis("bottom").labelText
    assert "● fooled" in legend and "✕ not fooled" in legend  # the legend draws the same two shapes


def test_adversarial_bars_differ_from_the_inputs_in_fill_not_only_hue(qtbot, colour_vision):
    from advviewer.gui.widgets.probability_plot import ProbabilityPlot

    plot = ProbabilityPlot()
    qtbot.addWidget(plot)
    probs = np.array([0.0, 0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.95, 0.0, 0.0])
    plot.set_probabilities(probs, target=2)
    plot.set_adversarial(probs[::-1].copy(), adversarial_class=2)
    input_brushes = plot._bars.opts["brushes"]
    adversarial_brush = plot._adversarial.opts["brush"]
    assert {b.style() for b in input_brushes} == {Qt.BrushStyle.SolidPattern}
    assert adversarial_brush.style() not in (Qt.BrushStyle.SolidPattern, Qt.BrushStyle.NoBrush)  # hatched
    input_pens = plot._bars.opts["pens"]
    assert plot._adversarial.opts["pen"].color() != input_pens[0].color()  # outlined in its own colour too
    predicted = _rgb(input_brushes[7])
    for deficiency in DEFICIENCIES:  # the orange predicted bar against the adversarial's, as a dichromat sees them
        assert colour_vision.colour_difference(predicted, _rgb(adversarial_brush), deficiency) > APART, deficiency
    # the target is told by a thicker outline, whatever its colour
    assert input_pens[2].widthF() >= 4 * input_pens[0].widthF()
    assert "▨" in plot.getPlotItem().titleLabel.text  # the title names the hatched bars


def test_noise_check_marks_a_changed_answer_with_an_arrow(qtbot):
    from advviewer.gui.widgets.noise_check_view import NoiseCheckView

    view = NoiseCheckView()
    qtbot.addWidget(view)
    images = [np.zeros((28, 28), np.float32)] * 8
    classes = [7, 7, 3, 7, 7, 7, 7, 7]
    view.show_draws(images, classes, [0.9] * 8, original_class=7, l2=1.0, adversarial_class=3)
    answers = [answer.text() for _, answer in view.tiles]
    assert "→3" in answers[2] and all("→" not in a for i, a in enumerate(answers) if i != 2)
