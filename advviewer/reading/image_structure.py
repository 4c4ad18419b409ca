"""A picture file's structure counted before Pillow sees it, so decoding time is bounded by construction.

The pixel limit bounds the memory a picture decodes into, not the time decoding takes. Some
files take long with few pixels, because a decoder does work per piece of the file rather than
per pixel (the times such files took without these limits:
benchmarks/results/code-comment-figures-20261205.md):

- a PNG is read chunk by chunk, in Python: at most ``MAX_PNG_CHUNKS`` are allowed;
- a progressive JPEG is decoded scan by scan, each scan visiting every block of the picture: at
  most ``MAX_JPEG_SCANS``, and at most ``MAX_JPEG_SCAN_PIXELS`` scans times pixels (a big picture
  may have fewer); its marker segments are read one by one in Python: at most
  ``MAX_JPEG_SEGMENTS``;
- Pillow's PNM reader reads the header (and its comments) one byte at a time, and cuts each
  comment out of the plain (text) raster by copying its 64 kB block: the header may be
  ``MAX_PNM_HEADER_BYTES`` long, the raster may hold ``MAX_PNM_COMMENTS`` comments;
- the plain (text) PNM formats P1-P3 are decoded token by token in Python: they are refused over
  ``MAX_PLAIN_PNM_BYTES`` (a 1000x1000 colour P3 is about 11 MB);
- a TIFF directory's numbers (one strip offset and size per strip, any tag's values) become a
  Python tuple: at most ``MAX_TIFF_VALUES`` in the first directory (the only one read);
- a GIF's extensions (comments, application data) are read sub-block by sub-block in Python: at
  most ``MAX_GIF_BLOCKS`` before the first picture;
- a run-length encoded BMP is decoded two bytes at a time in Python (and runs that add no pixel
  still cost their time): refused over ``MAX_RLE_BMP_BYTES``.

Only the structure is walked (lengths and markers, never pixel data), so a normal picture costs
microseconds more; a file whose structure is broken is left to Pillow, which names the damage.
"""

from __future__ import annotations

import re
import struct

from advviewer.errors import ImageLoadError

MAX_PNG_CHUNKS = 65_536  # libpng writes 8 kB IDAT chunks: a 200 MB PNG has 25,000
MAX_JPEG_SCANS = 100  # encoders write 1 (baseline) or about 10 (progressive; libjpeg's default script has 10)
MAX_JPEG_SEGMENTS = 10_000  # markers with a length (APPn, COM, DQT, DHT, SOS...); Pillow reads each in Python
MAX_JPEG_SCAN_PIXELS = 1_000_000_000  # scans x pixels: a 36-megapixel picture may have 27 scans
MAX_PNM_HEADER_BYTES = 4096  # "P5 28 28 255" and a few lines of comments
MAX_PNM_COMMENTS = 64  # in a plain raster
MAX_PLAIN_PNM_BYTES = 16_000_000
MAX_TIFF_VALUES = 200_000  # 100,000 strips (offsets and sizes); a 6324-row picture in one-row strips has 6,324
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_TIFF_BYTE_TYPES = (1, 2, 6, 7)  # BYTE, ASCII, SBYTE, UNDEFINED
MAX_GIF_BLOCKS = 10_000  # extension sub-blocks before the first picture (XMP's trailer is 257 of them)
MAX_RLE_BMP_BYTES = 4_000_000  # 1000x1000 in one-pixel runs is 2 MB
_BMP_RLE = (1, 2)  # BI_RLE8, BI_RLE4

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_START = b"\xff\xd8"
_SOS, _EOI = 0xDA, 0xD9
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # frame headers: the size
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 have no length field
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # after a scan: 0xFF00 is a stuffed byte, RSTn stays in it
_PNM_MAGIC = re.compile(rb"P[0-6fy]")  # what Pillow's PNM reader accepts (P0CMYK, PyP... are its own)
_PNM_MAGIC_END = re.compile(rb"[ \t\n\r\x0b\x0c]")
_PNM_SPACE = b" \t\n\r\x0b\x0c"
_PNM_HEADER_PIECE = re.compile(rb"[ \t\n\r\x0b\x0c]*(?:#[^\r\n]*|[^ \t\n\r\x0b\x0c#]+)")  # whitespace, then a comment or a token
_LINE_END = re.compile(rb"[\r\n]")


def check_structure(data: bytes) -> None:
    """ImageLoadError if the PNG, JPEG or PNM in ``data`` holds more pieces than a picture needs; other formats pass."""
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
    elif data.startswith(_JPEG_START):
        _check_jpeg(data)
    elif data[:4] in _TIFF_MAGIC:
        _check_tiff(data)
    elif data.startswith((b"GIF87a", b"GIF89a")):
        _check_gif(data)
    elif _PNM_MAGIC.match(data[:2]):
        _check_pnm(data)
    elif data.startswith(b"BM") and len(data) > MAX_RLE_BMP_BYTES and _bmp_compression(data) in _BMP_RLE:
        raise ImageLoadError(f"the run-length encoded BMP file is {len(data) / 1e6:.0f} MB; such BMP files over "
                             f"{MAX_RLE_BMP_BYTES // 1_000_000} MB are refused (they are read two bytes at a time: "
                             "save the picture as PNG)")


def _bmp_compression(data: bytes) -> int | None:
    """A BMP file's compression field (None for the old 12-byte header, which has none)."""
    if len(data) < 34 or struct.unpack_from("<I", data, 14)[0] < 40:
        return None
    return int(struct.unpack_from("<I", data, 30)[0])


def _check_png(data: bytes) -> None:
    """Count the chunks (length, type, data, CRC) up to IEND or the end of what is well formed."""
    pos, count = len(PNG_SIGNATURE), 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        count += 1
        if count > MAX_PNG_CHUNKS:
            raise ImageLoadError(f"the PNG file holds over {MAX_PNG_CHUNKS:,} chunks; a picture needs a few, "
                                 "and reading that many takes minutes: refused")
        if kind == b"IEND":
            return
        pos += 12 + length


def _check_tiff(data: bytes) -> None:
    """Count the numbers the first directory's tags hold (strip and tile offsets above all): Pillow makes each a Python object."""
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\0", b"\0+")  # BigTIFF: 8-byte counts and offsets
    head, entry, number = (16, 20, "Q") if big else (8, 12, "I")
    if len(data) < head:
        return
    ifd = struct.unpack_from(order + number, data, head - struct.calcsize(number))[0]
    count_format = order + ("Q" if big else "H")
    if ifd + struct.calcsize(count_format) > len(data):
        return  # broken: Pillow says so
    entries = min(struct.unpack_from(count_format, data, ifd)[0], (len(data) - ifd) // entry)
    first = ifd + struct.calcsize(count_format)
    values = 0
    for index in range(entries):
        kind, count = struct.unpack_from(order + "H" + number, data, first + index * entry + 2)
        if kind not in _TIFF_BYTE_TYPES:  # bytes stay one bytes object; numbers become a tuple of Python ints
            values += count
    if values > MAX_TIFF_VALUES:
        raise ImageLoadError(f"the TIFF file's first directory holds {values:,} numbers (strip or tile offsets, tags); "
                             f"more than {MAX_TIFF_VALUES:,} are refused (the reader makes each a Python object)")


def _check_gif(data: bytes) -> None:
    """Count the extension sub-blocks before the first picture (the only one decoded)."""
    flags = data[10] if len(data) > 10 else 0
    pos, blocks = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0), 0
    while pos + 1 < len(data) and data[pos] == 0x21:  # an extension: label, then sub-blocks up to an empty one
        pos += 2
        while pos < len(data) and data[pos]:
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise ImageLoadError(f"the GIF file holds over {MAX_GIF_BLOCKS:,} extension blocks before its picture; "
                                     "a picture needs a few, and the reader takes them one by one: refused")
            pos += 1 + data[pos]
        pos += 1


def _check_jpeg(data: bytes) -> None:
    """Count the scans (SOS markers), walking marker segments and skipping each scan's entropy-coded data."""
    pos, scans, pixels, segments = 2, 0, 0, 0
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return  # broken: Pillow says so
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _EOI:
            return
        if marker in _STANDALONE:
            pos += 2
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise ImageLoadError(f"the JPEG file holds over {MAX_JPEG_SEGMENTS:,} marker segments; a picture needs a few dozen, "
                                 "and the reader takes them one by one: refused")
        if marker in _SOF and pos + 9 <= len(data):
            height, width = struct.unpack_from(">HH", data, pos + 5)
            pixels = height * width
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == _SOS:
            scans += 1
            _check_scans(scans, pixels)
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return
            pos = found.start()


def _check_scans(scans: int, pixels: int) -> None:
    if scans > MAX_JPEG_SCANS or scans * pixels > MAX_JPEG_SCAN_PIXELS:
        raise ImageLoadError(f"the JPEG file holds over {min(MAX_JPEG_SCANS, MAX_JPEG_SCAN_PIXELS // max(pixels, 1))} scans "
                             f"of its {pixels / 1e6:.2g} megapixels; a picture needs a dozen, and decoding each one "
                             "visits the whole picture: refused")


def _check_pnm(data: bytes) -> None:
    """Bound a PBM/PGM/PPM/PFM header's length and, for the plain (text) formats, the raster's comments and the file's size."""
    plain = data[1:2] in (b"1", b"2", b"3")
    if plain and len(data) > MAX_PLAIN_PNM_BYTES:
        raise ImageLoadError(f"the plain (text) PNM file is {len(data) / 1e6:.0f} MB; text PBM/PGM/PPM files over "
                             f"{MAX_PLAIN_PNM_BYTES // 1_000_000} MB are refused (they are read number by number: "
                             "save the picture as binary PGM or PNG)")
    end = _header_end(data, 2 if data[1:2] in (b"1", b"4") else 3)
    if end > MAX_PNM_HEADER_BYTES:
        raise ImageLoadError(f"the PNM file's header (with its comments) is over {MAX_PNM_HEADER_BYTES:,} bytes; "
                             "the reader takes it byte by byte: refused")
    if plain and _count_comments(data, end) > MAX_PNM_COMMENTS:
        raise ImageLoadError(f"the plain (text) PNM file's pixels hold over {MAX_PNM_COMMENTS} comments; "
                             "the reader copies its buffer for each one: refused")


def _header_end(data: bytes, tokens: int) -> int:
    """Where the ``tokens`` numbers after a PNM file's magic end (with the whitespace and comments between them),
    or MAX_PNM_HEADER_BYTES + 1 if that is further."""
    found = _PNM_MAGIC_END.search(data, 0, 8)
    pos = found.start() if found else 2
    while tokens and pos <= MAX_PNM_HEADER_BYTES:
        piece = _PNM_HEADER_PIECE.match(data, pos)
        if piece is None:  # the end of the data
            break
        if not piece.group().lstrip(_PNM_SPACE).startswith(b"#"):
            tokens -= 1
        pos = piece.end()
    return min(pos, MAX_PNM_HEADER_BYTES + 1)


def _count_comments(data: bytes, start: int) -> int:
    """How many comments (``#`` to the end of the line) the raster from ``start`` holds, counted up to MAX_PNM_COMMENTS + 1."""
    count, pos = 0, data.find(b"#", start)
    while pos != -1 and count <= MAX_PNM_COMMENTS:
        count += 1
        line_end = _LINE_END.search(data, pos)
        if line_end is None:
            break
        pos = data.find(b"#", line_end.end())
    return count
