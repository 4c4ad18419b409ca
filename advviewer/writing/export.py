"""Write an attack's result to files: the images, the float32 array and a JSON record.

``export_result(result, out_dir, model=..., model_name=..., stem=...)`` writes

- ``<stem>_adversarial.png``: the adversarial image, 8-bit grayscale 28x28 (what others can load);
- ``<stem>_adversarial_x10_viewing-copy.png``: the same enlarged (nearest neighbour), only for viewing;
- ``<stem>_figure.png``: original | perturbation with its colour bar | adversarial, classes and
  confidences under each (advviewer.writing.figure), for a slide;
- ``<stem>_perturbation.png``: the perturbation in a diverging colour map (blue: darker, red:
  brighter), enlarged, on a symmetric scale ``+-linf`` stored in the PNG's text metadata
  (``scale``, ``Description``) and in the JSON record;
- ``<stem>.npy``: the adversarial image as float32 (exactly what was attacked);
- ``<stem>.json``: the model name and the sha256 of the weights it was loaded from, target, c, norms, probabilities, and
  whether the 8-bit PNG still fools the model (it is re-read and classified: rounding to 8 bits
  can undo a perturbation that only just crosses the boundary).

A failed attack writes only the JSON record: no image is presented as adversarial that is not.
The folder is created if missing. Every file is first written in full to a hidden temporary file
in ``out_dir`` (with the umask's permissions) and only then moved into place (``os.replace``),
files of an earlier export with the same names moved aside first; if anything fails (unwritable
folder, full disk, Ctrl+C) the temporary files are removed, the earlier files put back, and
:class:`~advviewer.errors.ExportError` says why in one line (Ctrl+C propagates after the clean-up).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from advviewer.calculus.gradients import predict
from advviewer.errors import ExportError
from advviewer.models.zoo_cards import ZOO, model_card
from advviewer.reading.files import shown
from advviewer.writing.atomic_files import write_all_or_nothing
from advviewer.writing.eight_bit import robust_8bit
from advviewer.writing.figure import figure_image
from advviewer.writing.pixels import diverging_rgb, to_8bit

MAX_STEM_BYTES = 200  # + "_adversarial_x10_viewing-copy.png" and the temporary name's 14 bytes stays under 255

def _name_part(text: str, fallback: str) -> str:
    """``text`` reduced to characters that are safe in a file name on every system."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or fallback


def export_stem(result, model_name: str, source: str | None = None, taken: set[str] | None = None) -> str:
    """The file-name stem of a result, the same in the window and on the command line.

    ``<source>_<model>_<original>to<target>[_untargeted]_c<c>``: the picture's file stem (or
    ``drawing`` when there is none), the model's name (a model file's stem), the classes, and c;
    only letters, digits and ``_.-``, short enough for any file system. With ``taken`` (the stems
    already used in this export), a repeated stem gets ``-2``, ``-3``, ... and is added to it:
    ``a/7.png`` and ``b/7.png`` do not overwrite each other.
    """
    picture = _name_part(Path(source).stem, "image")[:60] if source else "drawing"
    model = _name_part(Path(model_name).stem if Path(model_name).suffix else model_name, "model")[:40]
    goal = f"{result.original_class}to{result.target}" + ("_untargeted" if result.untargeted else "")
    stem = f"{picture}_{model}_{goal}_c{result.c:.3g}"
    if taken is not None:
        unique, n = stem, 2
        while unique in taken:
            unique, n = f"{stem}-{n}", n + 1
        taken.add(unique)
        stem = unique
    return stem


def check_stem(stem: str) -> str:
    """``stem`` if it names files inside the export folder; ExportError otherwise (``../x``, ``/etc/x``, ``.hidden``)."""
    bad = (not stem or stem.startswith(".") or Path(stem).name != stem or any(sep in stem for sep in ("/", "\\", "\0"))
           or not stem.isprintable() or len(stem.encode("utf-8", "surrogateescape")) > MAX_STEM_BYTES)
    if bad:
        raise ExportError(f"cannot export under the name {shown(stem)!r}: a name is one file name without folders, "
                          f"not starting with '.', at most {MAX_STEM_BYTES} bytes")
    return stem


def _png_bytes(image: Image.Image, text: dict[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _zoo_sha256(model_name: str) -> str | None:
    """A zoo model's weights hash, from its card (the card is small; the weights are not re-read)."""
    value = model_card(model_name).get("weights_sha256") if model_name in ZOO else None
    return value if isinstance(value, str) else None


def _eight_bit_check(model, png: bytes, target: int) -> dict:
    """Re-read the written 8-bit PNG and classify it."""
    with Image.open(io.BytesIO(png)) as image:
        reread = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    probs = predict(model, reread)
    return {"png_fools_model": bool(probs.argmax() == target), "png_class": int(probs.argmax()),
            "png_target_prob": round(float(probs[target]), 6)}


def _robust_8bit(model, result):
    """The smallest scaling of r whose 8-bit image still fools the model (advviewer.writing.eight_bit.RobustPng)."""
    original = result.original if result.original is not None else result.adversarial - result.perturbation
    return robust_8bit(model, original, result.adversarial, result.target, getattr(result, "confidence", None))


def export_result(result, out_dir, *, model, model_name: str, stem: str, enlarge: int = 10,
                  source: str | None = None, robust: bool = False, weights_sha256: str | None = None) -> dict[str, Path]:
    """Write the files described in the module docstring; returns {kind: path} of what was written.

    ``weights_sha256``: the hash of the weights the model was built from, taken when it was loaded
    (:func:`advviewer.models.load_identified_model`); the model file is never re-read
    here. Left out, a zoo model's is taken from its card and a model file's is recorded as null.

    ``robust``: the 8-bit PNGs hold the adversarial with its perturbation scaled up just enough
    that rounding to 1/255 keeps the target (advviewer.writing.eight_bit); the .npy stays the exact
    float adversarial, and the record gives the factor (``png_robust_scale``).
    """
    out_dir = Path(out_dir)
    check_stem(stem)
    record = {"model": model_name, "weights_sha256": weights_sha256 or _zoo_sha256(model_name), "image": source,
              **result.to_record()}
    payload: dict[str, tuple[str, bytes]] = {}
    if result.success:
        shown_robust = None
        if robust:
            made = _robust_8bit(model, result)
            adv8, shown_robust = made.pixels, made
            record.update({"png_robust": True, "png_robust_scale": round(made.scale, 6), "png_l2": round(made.l2, 6)})
        else:
            adv8 = to_8bit(result.adversarial)
        png = _png_bytes(Image.fromarray(adv8))
        record.update(_eight_bit_check(model, png, result.target))
        scale = float(np.abs(result.perturbation).max())
        big = Image.fromarray(adv8).resize((28 * enlarge, 28 * enlarge), Image.Resampling.NEAREST)
        colours = Image.fromarray(diverging_rgb(result.perturbation, scale))
        colours = colours.resize((28 * enlarge, 28 * enlarge), Image.Resampling.NEAREST)
        text = {"scale": f"{scale:.6g}", "Description": f"perturbation, blue -{scale:.6g} .. white 0 .. red +{scale:.6g}"}
        record["perturbation_scale"] = scale
        payload["adversarial_png"] = (f"{stem}_adversarial.png", png)
        payload["adversarial_x10_png"] = (f"{stem}_adversarial_x{enlarge}_viewing-copy.png", _png_bytes(big))
        payload["perturbation_png"] = (f"{stem}_perturbation.png", _png_bytes(colours, text))
        payload["figure_png"] = (f"{stem}_figure.png", _png_bytes(figure_image(result, shown_robust)))
        payload["npy"] = (f"{stem}.npy", _npy_bytes(np.asarray(result.adversarial, dtype=np.float32)))
    record["files"] = [name for name, _ in payload.values()] + [f"{stem}.json"]
    payload["json"] = (f"{stem}.json", (json.dumps(record, indent=2) + "\n").encode())
    return write_all_or_nothing(out_dir, payload)
