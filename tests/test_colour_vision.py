"""tools/colour_vision.py: the Machado et al. (2009) simulation of deuteranopia and protanopia, on known colours."""

import numpy as np
import pytest
from helpers import load_tool


@pytest.fixture(scope="module")
def colour_vision():
    return load_tool("colour_vision")


RED, GREEN, DARK_GREEN = (255, 0, 0), (0, 255, 0), (0, 128, 0)
OKABE_ITO_BLUE, OKABE_ITO_VERMILLION, OKABE_ITO_ORANGE = (0, 114, 178), (213, 94, 0), (230, 159, 0)


@pytest.mark.parametrize("deficiency", ["deuteranopia", "protanopia"])
def test_greys_stay_grey(colour_vision, deficiency):
    """Each matrix row sums to 1: black, greys and white are seen as they are (a check on the transcription)."""
    greys = np.array([[v, v, v] for v in (0, 40, 128, 200, 255)], dtype=np.uint8)
    assert np.abs(colour_vision.simulate(greys, deficiency).astype(int) - greys).max() <= 1


@pytest.mark.parametrize("deficiency, red, green", [("deuteranopia", RED, GREEN), ("protanopia", RED, DARK_GREEN)])
def test_red_and_green_fall_together(colour_vision, deficiency, red, green):
    """The pair a red-green dichromat confuses: far apart in typical vision, within a fifth of that once simulated."""
    typical = colour_vision.colour_difference(red, green)
    seen = colour_vision.colour_difference(red, green, deficiency)
    assert typical > 100 and seen < typical / 5
    simulated = colour_vision.simulate(np.array([red, green], dtype=np.uint8), deficiency).astype(int)
    assert (simulated[:, 2] < 60).all()  # both become dark or bright yellows: no blue left to tell them by


@pytest.mark.parametrize("deficiency", ["deuteranopia", "protanopia"])
@pytest.mark.parametrize("warm", [OKABE_ITO_VERMILLION, OKABE_ITO_ORANGE])
def test_blue_and_orange_stay_apart(colour_vision, deficiency, warm):
    """Okabe-Ito blue against its orange or vermillion keeps most of its difference (the blue-yellow axis survives)."""
    typical = colour_vision.colour_difference(OKABE_ITO_BLUE, warm)
    assert colour_vision.colour_difference(OKABE_ITO_BLUE, warm, deficiency) > 0.75 * typical


def test_a_png_gets_one_copy_per_deficiency(colour_vision, tmp_path):
    from PIL import Image

    pixels = np.zeros((4, 6, 4), dtype=np.uint8)
    pixels[..., :3] = RED
    pixels[..., 3] = 128  # half transparent: kept as it is
    Image.fromarray(pixels, "RGBA").save(tmp_path / "shot.png")
    assert colour_vision.main([str(tmp_path / "shot.png"), "--out", str(tmp_path / "seen")]) == 0
    for deficiency in ("deuteranopia", "protanopia"):
        seen = np.asarray(Image.open(tmp_path / "seen" / f"shot-{deficiency}.png"))
        assert seen.shape == (4, 6, 4) and (seen[..., 3] == 128).all()
        assert (seen[..., :3] == colour_vision.simulate(np.array(RED, dtype=np.uint8), deficiency)).all()


def test_unknown_deficiency_and_missing_file_are_one_clear_line(colour_vision, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown deficiency 'tritan'"):
        colour_vision.simulate(np.zeros(3, dtype=np.uint8), "tritan")
    assert colour_vision.main([str(tmp_path / "nothing.png")]) == 2
    assert capsys.readouterr().err.strip() == f"colour_vision: no such file: {tmp_path / 'nothing.png'}"
