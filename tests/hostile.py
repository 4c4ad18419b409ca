"""Hostile and odd input files, built in a folder: the cases issue 7 found, kept as regression inputs.

Each builder takes a folder and returns the path it made. The reliability tests feed them to
``load_image``, ``load_model`` and the command line, and expect one clear line, never a
traceback, a hang, NaN, or memory in gigabytes.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from strokes import draw_digit

# --- running a reader where it cannot hurt: a child process under memory and time limits ---------------

_LIMITS = """import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
resource.setrlimit(resource.RLIMIT_CPU, ({seconds}, {seconds}))
from advviewer.errors import AdvViewerError
try:
    outcome = {call}
except AdvViewerError as exc:
    print("REFUSED", exc)
else:
    print("READ", outcome)
"""


def outcome_in_child(call: str, *args: object, memory_mb: int = 700, seconds: int = 20) -> str:
    """What ``call`` (a Python expression over ``sys.argv[1:]``, which are ``args``) does in a child
    process limited to ``memory_mb`` of address space and ``seconds`` of CPU (and twice that of
    wall time): ``"REFUSED <one line>"`` or ``"READ <its value>"``. A traceback, a crash, running
    out of memory or time fails the calling test (AssertionError or TimeoutExpired) instead of
    taking the machine.
    """
    code = _LIMITS.format(memory=memory_mb << 20, seconds=seconds, call=call)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                         timeout=2 * seconds + 10, env=env)
    assert out.returncode == 0, f"exit status {out.returncode}: {out.stderr[-2000:]}"
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(("REFUSED ", "READ ")), out.stdout[-2000:] + out.stderr[-2000:]
    return lines[0]


def digit_image(digit: int = 2, size: int = 200) -> Image.Image:
    return Image.fromarray(draw_digit(digit, size=size, width=max(2, size // 14)))


def _tiff_second_ifd_offset(data: bytes) -> int:
    order = "<" if data[:2] == b"II" else ">"
    first = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[first:first + 2])[0]
    return struct.unpack(order + "I", data[first + 2 + 12 * count:first + 6 + 12 * count])[0]


def two_page_tiff_cut_at_second_ifd(folder: Path) -> Path:
    buf = io.BytesIO()
    digit_image(2).save(buf, format="TIFF", save_all=True, append_images=[digit_image(3)])
    data = buf.getvalue()
    second = _tiff_second_ifd_offset(data)
    path = folder / "two_pages_cut.tiff"
    path.write_bytes(data[:second + 2])
    return path


def truncated_two_frame_gif(folder: Path) -> Path:
    buf = io.BytesIO()
    digit_image(4).convert("P").save(buf, format="GIF", save_all=True, append_images=[digit_image(5).convert("P")])
    data = buf.getvalue()
    second = data.index(b"\x21\xf9\x04")  # the second frame's control block (the first frame has none)
    path = folder / "two_frames_cut.gif"
    path.write_bytes(data[: second + 23])  # cut inside the second frame's colour table
    return path


def lab_tiff(folder: Path) -> Path:
    path = folder / "lab.tiff"
    digit_image(6).convert("RGB").convert("LAB").save(path, format="TIFF")
    return path


def float_tiff_with_inf(folder: Path) -> Path:
    pixels = np.asarray(digit_image(7), dtype=np.float32) / 255
    pixels[0, 0] = np.inf
    path = folder / "inf.tiff"
    Image.fromarray(pixels, mode="F").save(path, format="TIFF")
    return path


def pfm_with_inf(folder: Path) -> Path:
    pixels = np.asarray(digit_image(7), dtype=np.float32) / 255
    pixels[5, 5] = -np.inf
    height, width = pixels.shape
    path = folder / "inf.pfm"
    # PFM: "Pf" (grayscale), size, scale (negative: little-endian), rows bottom to top
    path.write_bytes(b"Pf\n%d %d\n-1.0\n" % (width, height) + pixels[::-1].astype("<f4").tobytes())
    return path


def npy_cut_header(folder: Path) -> Path:
    """The header's dictionary cut off inside the shape (its declared length still right)."""
    buf = io.BytesIO()
    np.save(buf, np.zeros((28, 28), np.float32))
    data = buf.getvalue()
    start = data.index(b"(28, 28)") + 4
    end = data.index(b"\n", start)
    path = folder / "cut_header.npy"
    path.write_bytes(data[:start] + b" " * (end - start) + data[end:])
    return path


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def npy_declaring_huge_shape(folder: Path) -> Path:
    path = folder / "huge_shape.npy"
    path.write_bytes(npy_header((100000, 100000)) + b"\0" * 64)
    return path


def npy_extreme_floats(folder: Path) -> Path:
    array = np.where(draw_digit(8) > 127, 1e308, -1e308)
    path = folder / "extreme.npy"
    np.save(path, array)
    return path


def npy_too_big(folder: Path) -> Path:
    """10000x10000 uint8 (100 MB), written sparse so the test stays cheap."""
    path = folder / "big.npy"
    header = npy_header((10000, 10000), "|u1")
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + 10000 * 10000)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_rgba_png(folder: Path, side: int = 6324) -> Path:
    """A small file (about 150 kB) that decodes to side x side RGBA: 160 MB as bytes, GBs as float64."""
    row = b"\0" + b"\0\0\0\xff" * side
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    path = folder / "huge_rgba.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    return path


def fifo_named_png(folder: Path) -> Path:
    path = folder / "pipe.png"
    os.mkfifo(path)
    return path


def symlink_to_dev_zero(folder: Path, name: str = "zero.png") -> Path:
    path = folder / name
    path.symlink_to("/dev/zero")
    return path


def newline_name(folder: Path) -> Path:
    path = folder / "two\nlines.png"
    path.write_text("not an image")
    return path


def long_name(folder: Path) -> Path:
    return folder / ("x" * 300 + ".png")


def eps_named_png(folder: Path) -> Path:
    """An EPS file renamed .png: with every Pillow format enabled it reaches Ghostscript."""
    path = folder / "postscript.png"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nnewpath 0 0 moveto 28 28 lineto stroke\nshowpage\n")
    return path


def exif_rotated_jpeg(folder: Path, digit: int = 7) -> Path:
    """A photo as a phone stores it: pixels sideways, EXIF orientation 6 ("rotate 90 clockwise to view")."""
    upright = Image.fromarray(255 - draw_digit(digit, size=240, width=20)).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # the sensor's view
    exif = Image.Exif()
    exif[0x0112] = 6
    path = folder / "phone.jpg"
    stored.save(path, format="JPEG", exif=exif.tobytes(), quality=95)
    return path


# --- pictures that take long to decode with few pixels (issue 21) ---------------------------------------

def _png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png_with_private_chunks(folder: Path, count: int = 1_000_000, name: str = "chunks.png") -> Path:
    """A digit with ``count`` empty private chunks before its pixels: 12 bytes each, read one by one in Python."""
    png = _png_bytes(digit_image(3))
    first_idat = png.index(b"IDAT") - 4
    path = folder / name
    path.write_bytes(png[:first_idat] + _chunk(b"prVt", b"") * count + png[first_idat:])
    return path


def png_in_many_idat_chunks(folder: Path, size: int = 100) -> Path:
    """A genuine PNG whose pixels are split into ``size``-byte IDAT chunks (as some encoders write them)."""
    png = _png_bytes(digit_image(4))
    start, end = png.index(b"IDAT") - 4, png.index(b"IEND") - 4
    pixels, pos = b"", start
    while pos < end:  # gather every IDAT chunk's data
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        pixels += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    chunks = b"".join(_chunk(b"IDAT", pixels[i:i + size]) for i in range(0, len(pixels), size))
    path = folder / "many_idat.png"
    path.write_bytes(png[:start] + chunks + png[end:])
    return path


def jpeg_with_many_scans(folder: Path, scans: int = 40_000, side: int = 1000) -> Path:
    """A progressive JPEG whose last scan is repeated: 12 bytes each, and each one visits every block of the picture."""
    buf = io.BytesIO()
    Image.new("RGB", (side, side)).save(buf, format="JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    last_scan = data[data.rindex(b"\xff\xda"):-2]  # a refinement scan of an all-black picture: its header and 4 bytes
    path = folder / "scans.jpg"
    path.write_bytes(data[:-2] + last_scan * scans + data[-2:])
    return path


def _plain_pgm_pixels(side: int = 8) -> bytes:
    pixels = np.asarray(digit_image(2).resize((side, side)))
    return b"\n".join(b" ".join(b"%d" % v for v in row) for row in pixels) + b"\n"


def pgm_with_long_header_comment(folder: Path, megabytes: float = 8) -> Path:
    """An 8x8 plain PGM whose header holds one comment of ``megabytes``: read one byte at a time."""
    path = folder / "long_comment.pgm"
    path.write_bytes(b"P2\n#" + b"x" * int(megabytes * 1_000_000) + b"\n8 8\n255\n" + _plain_pgm_pixels())
    return path


def pgm_with_comments_in_its_pixels(folder: Path, count: int = 1 << 20) -> Path:
    """An 8x8 plain PGM with ``count`` empty comment lines among its numbers: each one copies a 64 kB buffer."""
    path = folder / "pixel_comments.pgm"
    path.write_bytes(b"P2\n8 8\n255\n" + b"#\n" * count + _plain_pgm_pixels())
    return path


def big_plain_pgm(folder: Path, side: int = 2400) -> Path:
    """A genuine but big text PGM (side x side numbers, 4 bytes each): decoded number by number in Python."""
    path = folder / "big_plain.pgm"
    row = b" ".join([b"255"] * side) + b"\n"
    path.write_bytes(b"P2\n%d %d\n255\n" % (side, side) + row * side)
    return path


def plain_pgm_with_a_few_comments(folder: Path) -> Path:
    """A genuine plain PGM as GIMP writes it: a creator comment, and one comment among the pixels."""
    pixels = _plain_pgm_pixels(64).split(b"\n")
    path = folder / "gimp.pgm"
    path.write_bytes(b"P2\n# CREATOR: GIMP PNM Filter Version 1.1\n64 64\n255\n" + b"\n".join(pixels[:30])
                     + b"\n# half way\n" + b"\n".join(pixels[30:]))
    return path


# --- zoo weights files whose tensors reach outside their storage (issue 21) -----------------------------

def weights_with_view(folder: Path, numel: int, offset: int, size: tuple, stride: tuple, copies: int = 1) -> Path:
    """A ``torch.save``-shaped weights file (as advviewer train writes) whose tensor ``1.bias`` (and ``copies - 1``
    more) is the given view of one storage of ``numel`` zeros: torch.save never writes such views, a hand-made pickle can."""
    import pickle
    from collections import OrderedDict

    import torch

    class Storage:
        pass

    class Tensor:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (Storage(), offset, size, stride, False, OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel) if isinstance(obj, Storage) else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"format": "advviewer-weights/1", "arch": "fc10-1", "state_dict": {
        "1.bias" if n == 0 else f"copy{n}": Tensor() for n in range(copies)}})
    import zipfile

    path = folder / "view.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("view/data.pkl", buffer.getvalue())
        archive.writestr("view/byteorder", b"little")
        archive.writestr("view/data/0", bytes(4 * numel))
    return path


def rle_bmp(folder: Path, megabytes: float = 8, side: int = 64) -> Path:
    """A digit as a side x side 8-bit BMP, run-length encoded (BI_RLE8) one pixel per run, and after its first
    row ``megabytes`` of runs that add no pixel (the row is full): Pillow's Python decoder reads them two bytes
    at a time. With ``megabytes=0``, a genuine RLE BMP."""
    pixels = np.asarray(digit_image(2).resize((side, side)))[::-1]  # BMP rows run bottom to top
    rows = [b"".join(b"\x01" + bytes([v]) for v in row) + b"\x00\x00" for row in pixels]
    rows[0] = rows[0][:-2] + b"\xff\x80" * int(megabytes * 500_000) + b"\x00\x00"
    body = b"".join(rows) + b"\x00\x01"
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 8, 1, len(body), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    path = folder / "runs.bmp"
    path.write_bytes(b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body)
    return path


def gif_with_comment_blocks(folder: Path, blocks: int = 2_000_000) -> Path:
    """A digit as a GIF whose picture follows a comment of ``blocks`` one-byte sub-blocks (read one by one in Python)."""
    buf = io.BytesIO()
    digit_image(3, 64).convert("P").save(buf, format="GIF")
    data = buf.getvalue()
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while data[pos] == 0x21:  # past Pillow's own extensions, to the picture
        pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
    path = folder / "comments.gif"
    path.write_bytes(data[:pos] + b"\x21\xfe" + b"\x01x" * blocks + b"\x00" + data[pos:])
    return path


def tiff_in_many_strips(folder: Path, strips: int = 1_000_000, side: int = 8) -> Path:
    """A side x side gray TIFF whose first directory lists ``strips`` strips, all pointing at the same pixels:
    Pillow makes a Python object of each offset and size and a tile of each strip."""
    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        return struct.pack("<HHII", tag, kind, count, value)

    offsets = 8 + 2 + 12 * 8 + 4
    sizes, pixels = offsets + 4 * strips, offsets + 8 * strips
    rows = max(1, side // strips)
    directory = [entry(256, 4, 1, side), entry(257, 4, 1, side), entry(258, 3, 1, 8), entry(259, 3, 1, 1),
                 entry(262, 3, 1, 1), entry(273, 4, strips, offsets), entry(278, 4, 1, rows), entry(279, 4, strips, sizes)]
    picture = np.asarray(digit_image(2).resize((side, side))).tobytes()
    path = folder / "strips.tiff"
    path.write_bytes(b"II*\0" + struct.pack("<IH", 8, len(directory)) + b"".join(directory) + b"\0\0\0\0"
                     + struct.pack("<I", pixels) * strips + struct.pack("<I", side * rows) * strips + picture)
    return path


def jpeg_with_many_comments(folder: Path, count: int = 500_000) -> Path:
    """A digit as a JPEG with ``count`` empty comment segments (4 bytes each) before its picture."""
    buf = io.BytesIO()
    digit_image(3).convert("RGB").save(buf, format="JPEG")
    data = buf.getvalue()
    path = folder / "comments.jpg"
    path.write_bytes(data[:2] + b"\xff\xfe\x00\x02" * count + data[2:])
    return path
