"""The attack's path as a moving picture: an animated GIF and an APNG of its iterates, sized for slides.

Each frame shows the original, the perturbation r at that step (one colour scale for the whole
path, so colours compare across frames: the result's largest |r|; a step that reaches further is
clipped to the map's ends and says so) and the image at that step, with the step number, the c
the step was solved at, ||r|| and the model's answer with its probability written in the frame.
The first frame is where the attack started (the original itself, unless it was warm-started),
the last frame the result. A long path is subsampled evenly to at most ``max_frames`` frames,
the first and last always kept; the first and last frames are held longer, and the steps between
take about MOTION_MS together, however many there are.

Plain Pillow (already a dependency, as for the figure): it writes GIF and APNG itself. imageio
would be a new dependency for nothing more, and an MP4 needs ffmpeg, which we do not ship.
Written all or nothing (advviewer.writing.atomic_files): a failure leaves no partial file.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from advviewer.calculus.gradients import predict
from advviewer.errors import ExportError
from advviewer.writing.atomic_files import write_all_or_nothing
from advviewer.writing.export import check_stem
from advviewer.writing.pixels import diverging_rgb, to_8bit

MAX_FRAMES = 120  # enough to see the path, small enough for a slide deck (about 4 MB of GIF at 960x540)
MOTION_MS = 6000  # the steps between the first and last frame take about this long, whatever their number
FRAME_MS_RANGE = (60, 400)  # ... each shown at least this long (GIF viewers slow down below 20 ms) and at most
FIRST_FRAME_MS = 1200  # the original, held so the room sees what is attacked
LAST_FRAME_MS = 2500  # the result, held before the loop starts again
SLIDE_SIZE = (960, 540)  # 16:9, half of 1080p: sharp on a projector, small as a file
MIN_SIZE = (480, 270)
MAX_SIZE = (1920, 1080)
MAX_BYTES = 20_000_000  # per file; above it the frames are halved until it fits
FORMATS = ("gif", "apng")
BACKGROUND = "white"


@dataclass(frozen=True)
class PathOptions:
    """How the path is drawn: the frame's size in pixels, the most frames, and the time per frame."""

    size: tuple[int, int] = SLIDE_SIZE
    max_frames: int = MAX_FRAMES
    frame_ms: int | None = None  # None: MOTION_MS spread over the steps (FRAME_MS_RANGE)

    def checked(self) -> PathOptions:
        """These options if they make a readable animation; ExportError (one line) otherwise."""
        width, height = self.size
        if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
            raise ExportError(f"the animation's size must be between {MIN_SIZE[0]}x{MIN_SIZE[1]} and "
                              f"{MAX_SIZE[0]}x{MAX_SIZE[1]} pixels, got {width}x{height}")
        if self.max_frames < 2:
            raise ExportError(f"the animation needs at least 2 frames (the original and the result), got {self.max_frames}")
        if self.frame_ms is not None and not 20 <= self.frame_ms <= 5000:
            raise ExportError(f"the time per frame must be 20 to 5000 ms, got {self.frame_ms}")
        return self


@dataclass(frozen=True, eq=False)
class PathFrame:
    """One step of the path as a frame shows it."""

    step: int  # along the whole path (0: where it started)
    last_step: int  # the path's last step (the result)
    image: np.ndarray  # the iterate, float32 28x28
    c: float | None  # the c it was solved at (None: the start, before any solve)
    l2: float  # ||iterate - original||
    answer: int  # what the model answers there
    confidence: float  # and with what probability


@dataclass(frozen=True, eq=False)
class PathMovie:
    """What the frames are drawn from: the original, the chosen steps, the perturbation's colour scale."""

    original: np.ndarray
    original_answer: int
    original_confidence: float
    target: int
    frames: list[PathFrame]
    scale: float  # the colour map's ends: the result's largest |r| (larger values are clipped to the ends)


def has_path(result) -> bool:
    """Whether ``result`` kept its iterates (``record_history=True``), so that its path can be drawn."""
    return bool(getattr(result, "history", None))


def frame_steps(count: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` of ``count`` steps, evenly spaced, always the first and the last."""
    if count <= max_frames:
        return list(range(count))
    return [int(i) for i in np.unique(np.round(np.linspace(0, count - 1, max_frames)).astype(int))]


def path_movie(model, result, max_frames: int = MAX_FRAMES) -> PathMovie:
    """The frames of ``result``'s path (its ``history``), subsampled, each with the model's answer."""
    if not has_path(result):
        raise ExportError("this result kept no iterates (its path): run the attack again to draw it")
    history = result.history
    steps = frame_steps(len(history), max_frames)
    original = np.asarray(result.original, dtype=np.float32)
    images = np.stack([np.asarray(history[i], dtype=np.float32) for i in steps])
    probs = predict(model, np.concatenate([original[None], images]))
    cs = result.history_c if result.history_c is not None and len(result.history_c) == len(history) else None
    frames = []
    for k, step in enumerate(steps):
        c = None if cs is None or math.isnan(cs[step]) else float(cs[step])
        answer = int(probs[k + 1].argmax())
        frames.append(PathFrame(step, len(history) - 1, images[k], c, float(np.linalg.norm(images[k] - original)),
                                answer, float(probs[k + 1][answer])))
    # the result's largest |r|: the colours of the result are the slide's point; an earlier step that
    # reaches further is drawn in the map's end colours and its caption says "clipped"
    scale = float(np.abs(frames[-1].image - original).max()) or float(max(np.abs(f.image - original).max() for f in frames)) or 1.0
    answer0 = int(probs[0].argmax())
    return PathMovie(original, answer0, float(probs[0][answer0]), int(result.target), frames, scale)


@dataclass(frozen=True)
class _Layout:
    """Where things go in a frame of the given size."""

    width: int
    height: int
    text: int  # font size
    cell: int  # each picture's side (a multiple of 28: pixels stay square)
    lefts: tuple[int, int, int]
    top: int  # the pictures' top
    bar: int  # the colour bar's width

    @classmethod
    def of(cls, width: int, height: int) -> _Layout:
        text = max(14, height // 24)
        bar = max(10, width // 64)
        gap = width // 40
        side_room = (width - 4 * gap - bar - 4 * text) // 3
        height_room = height - 2 * (text + gap) - 3 * (text + 6)
        cell = max(28, min(side_room, height_room) // 28 * 28)
        spare = width - 3 * cell - bar - 4 * text
        gap = spare // 4
        lefts = (gap, 2 * gap + cell, 3 * gap + 2 * cell + bar + 4 * text)
        block = 2 * text + cell + text // 2 + 2 * text + 6  # title, pictures, two caption lines
        top = max(0, (height - block) // 2) + 2 * text  # the whole block centred
        return cls(width, height, text, cell, lefts, top, bar)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)  # Pillow's bundled font, as in the figure (advviewer.writing.figure)


def _picture(pixels: np.ndarray, cell: int) -> Image.Image:
    return Image.fromarray(pixels).convert("RGB").resize((cell, cell), Image.Resampling.NEAREST)


def _title(frame: PathFrame) -> str:
    c = "start (no c yet)" if frame.c is None else f"c = {frame.c:.4g}"
    return f"step {frame.step} of {frame.last_step}     {c}     ||r|| = {frame.l2:.3f}"


def render_frame(movie: PathMovie, frame: PathFrame, size: tuple[int, int] = SLIDE_SIZE, captions: bool = True) -> Image.Image:
    """One frame: original | r with its colour bar | the image at this step; ``captions`` False leaves the text out."""
    lay = _Layout.of(*size)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    r = frame.image - movie.original
    image.paste(_picture(to_8bit(movie.original), lay.cell), (lay.lefts[0], lay.top))
    image.paste(_picture(diverging_rgb(r, movie.scale), lay.cell), (lay.lefts[1], lay.top))
    image.paste(_picture(to_8bit(frame.image), lay.cell), (lay.lefts[2], lay.top))
    bar_left = lay.lefts[1] + lay.cell + lay.text // 3
    ramp = diverging_rgb(np.linspace(movie.scale, -movie.scale, lay.cell)[:, None].repeat(lay.bar, 1), movie.scale)
    image.paste(Image.fromarray(ramp), (bar_left, lay.top))
    if captions:
        _write_captions(draw, movie, frame, lay, bar_left)
    return image


def _write_captions(draw: ImageDraw.ImageDraw, movie: PathMovie, frame: PathFrame, lay: _Layout, bar_left: int) -> None:
    font, small = _font(lay.text), _font(max(12, lay.text * 3 // 4))
    draw.text((lay.width // 2, lay.top - 2 * lay.text), _title(frame), fill="black", font=font, anchor="ma")
    for y, value in ((lay.top, movie.scale), (lay.top + lay.cell // 2, 0.0), (lay.top + lay.cell, -movie.scale)):
        draw.text((bar_left + lay.bar + 3, y), f"{value:+.2f}" if value else "0", fill="black", font=small, anchor="lm")
    fooled = frame.answer == movie.target
    verdict = "fooled" if fooled else "not yet"
    captions = (
        ("original", f"model: {movie.original_answer} ({movie.original_confidence:.1%})"),
        ("perturbation r", _largest(float(np.abs(frame.image - movie.original).max()), movie.scale)),
        (f"at step {frame.step}: {verdict}", f"model: {frame.answer} ({frame.confidence:.1%})"),
    )
    below = lay.top + lay.cell + lay.text // 2
    for x, (title, line) in zip(lay.lefts, captions):
        draw.text((x + lay.cell // 2, below), title, fill="black", font=font, anchor="ma")
        draw.text((x + lay.cell // 2, below + lay.text + 6), line, fill="black", font=font, anchor="ma")


def _largest(linf: float, scale: float) -> str:
    """The caption under r: its largest |r|, and whether the colour map clips it (beyond the result's scale)."""
    return f"largest |r| {linf:.3f}" + (" (clipped)" if linf > scale * (1 + 1e-6) else "")


def _durations(count: int, frame_ms: int | None) -> list[int]:
    if frame_ms is None:
        frame_ms = int(np.clip(MOTION_MS // max(count - 2, 1), *FRAME_MS_RANGE))
    durations = [frame_ms] * count
    durations[0], durations[-1] = FIRST_FRAME_MS, LAST_FRAME_MS
    return durations


def encode(images: list[Image.Image], fmt: str, frame_ms: int | None = None) -> bytes:
    """``images`` as one looping animation: ``fmt`` "gif" or "apng"."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown animation format {fmt!r}: one of {', '.join(FORMATS)}")
    buf = io.BytesIO()
    first, rest = images[0], images[1:]
    first.save(buf, format="GIF" if fmt == "gif" else "PNG", save_all=True, append_images=rest,
               duration=_durations(len(images), frame_ms), loop=0, **({"optimize": False} if fmt == "gif" else {}))
    return buf.getvalue()


def animation_bytes(movie: PathMovie, fmt: str, options: PathOptions = PathOptions()) -> bytes:
    """The encoded animation, its frames halved (evenly, first and last kept) until it is under MAX_BYTES."""
    frames = movie.frames
    while True:
        data = encode([render_frame(movie, f, options.size) for f in frames], fmt, options.frame_ms)
        if len(data) <= MAX_BYTES or len(frames) <= 2:
            return data
        frames = [frames[i] for i in frame_steps(len(frames), max(2, len(frames) // 2))]


def path_file_names(stem: str) -> dict[str, str]:
    """The files an export of the path writes: ``<stem>_path.gif`` and ``<stem>_path.apng``."""
    return {fmt: f"{stem}_path.{fmt}" for fmt in FORMATS}


def export_path(result, out_dir, *, model, stem: str, options: PathOptions = PathOptions(),
                formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Write ``result``'s path as ``<stem>_path.gif`` and ``.apng`` into ``out_dir``, all or nothing; {format: path}."""
    options = options.checked()
    check_stem(stem)
    movie = path_movie(model, result, options.max_frames)
    names = path_file_names(stem)
    payload = {fmt: (names[fmt], animation_bytes(movie, fmt, options)) for fmt in formats}
    return write_all_or_nothing(Path(out_dir), payload)
