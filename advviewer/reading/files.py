"""Reading a file a user named, which may be anything: only regular files, never more than a limit.

Every file a user opens may be hostile or simply odd: a named pipe (reading it blocks until a
writer comes, which may be never), a device (``/dev/zero`` never ends; opening some devices has
side effects), a path with a newline or an undecodable byte, a folder one may not search.
:func:`read_regular_file` looks before it opens (``stat``, so a FIFO or device is refused
without being opened), opens without blocking (``O_NONBLOCK``: the path may have been swapped
for a FIFO since), checks again on the open descriptor (``fstat``) and reads at most ``limit``
bytes. :func:`shown` renders a path for a one-line message.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import zlib

from advviewer.errors import AdvViewerError, printable

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 20
MAX_GZIP_MEMBERS = 100_000  # MNIST's files are one member; bgzip writes one per 64 kB (3,200 in 200 MB)
_ZERO_RUN = re.compile(rb"\0*")


def shown(path: str | os.PathLike | bytes) -> str:
    """``path`` as one printable line: control characters and undecodable bytes escaped (:func:`printable`).

    A file may be called ``"a\\nb.png"``; printed as it is, the one-line error would be two.
    """
    return printable(os.fsdecode(path) if isinstance(path, bytes) else str(path))


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    reasons = {
        errno.ENOENT: "no such file",
        errno.ENOTDIR: "no such file (a part of the path is not a folder)",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENAMETOOLONG: "file name too long",
        errno.ELOOP: "too many levels of symbolic links",
    }
    return reasons.get(exc.errno or 0, f"cannot read ({(exc.strerror or str(exc)).lower()})")


def check_regular_file(path: str | os.PathLike, error: type[AdvViewerError] = AdvViewerError, noun: str = "file") -> os.stat_result:
    """``stat`` of ``path`` if it is a regular file (symbolic links followed); else ``error`` with one line."""
    name = shown(path)
    try:
        info = os.stat(path)
    except ValueError:  # an embedded NUL byte
        raise error(f"{name}: the path contains a NUL byte") from None
    except OSError as exc:
        raise error(f"{name}: {_os_reason(exc)}") from None
    kind = _kind(info.st_mode)
    if kind is not None:
        raise error(f"{name}: is {kind}, not {noun}")
    return info


def read_regular_file(path: str | os.PathLike, limit: int, error: type[AdvViewerError] = AdvViewerError,
                      noun: str = "a file") -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    Anything else raises ``error`` (an :class:`AdvViewerError` subclass) with a one-line message
    naming the path: missing, unreadable, a folder, a FIFO, a device, too big. Never blocks on a
    FIFO and never reads more than ``limit + 1`` bytes, whatever the file claims or becomes.
    """
    name = shown(path)
    info = check_regular_file(path, error, noun)
    if info.st_size > limit:
        raise error(f"{name}: the file is {_size(info.st_size)}; files over {_size(limit)} are refused")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise error(f"{name}: {_os_reason(exc)}") from None
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:  # swapped since the stat above
            raise error(f"{name}: is {kind}, not {noun}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise error(f"{name}: {_os_reason(exc)}") from None
    finally:
        os.close(fd)
    if total > limit:  # it grew while we read
        raise error(f"{name}: the file is over {_size(limit)}; such files are refused")
    return b"".join(chunks)


def unpack_gzip(data: bytes, limit: int, error: type[AdvViewerError] = AdvViewerError, name: str = "the file") -> bytearray:
    """The bytes a gzip file's ``data`` unpack to, never more than ``limit`` of them.

    ``gzip.decompress`` unpacks whatever the file holds: 3 MB of gzip can be 3 GB. Here the data
    are fed at most 1 MB at a time and each call may unpack at most ``limit + 1 - unpacked so far`` bytes,
    so memory stays under ``limit`` whatever the data claim. Members follow one another (as
    ``gzip``; zero padding after the last is allowed), at most MAX_GZIP_MEMBERS of them (each costs
    a few microseconds: 200 MB of empty members would take a minute); each one's CRC and length
    are checked. ``error`` with one line naming ``name`` (already :func:`shown`) for data that are
    not gzip, cut short or too big.
    """
    out = bytearray()
    view, pos, members = memoryview(data), 0, 0
    try:
        while True:
            members += 1
            if members > MAX_GZIP_MEMBERS:
                raise error(f"{name}: the gzip data hold over {MAX_GZIP_MEMBERS:,} members; such files are refused")
            member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer
            pos = _unpack_member(member, view, pos, out, limit, error, name)
            pos = _ZERO_RUN.match(data, pos).end()  # type: ignore[union-attr]  # always matches
            if pos == len(data):
                return out
    except zlib.error as exc:
        raise error(f"{name}: not readable gzip data ({exc})") from None


def _unpack_member(member, view: memoryview, pos: int, out: bytearray, limit: int,
                   error: type[AdvViewerError], name: str) -> int:
    """Unpack one gzip member starting at ``pos`` onto ``out``; the position after it."""
    pending: bytes | memoryview = b""
    step = 256  # grows to _CHUNK: what is fed after the member's end is copied (unused_data), so feed little at first
    while not member.eof:
        if not pending:
            pending, pos, step = view[pos:pos + step], min(pos + step, len(view)), min(2 * step, _CHUNK)
        piece = member.decompress(pending, limit + 1 - len(out))
        out += piece
        if len(out) > limit:
            raise error(f"{name}: the gzip data unpack to over {_size(limit)}; such files are refused")
        pending = member.unconsumed_tail
        if not piece and not pending and not member.eof and pos == len(view):
            raise error(f"{name}: the gzip data are cut short")
    return pos - len(member.unused_data)


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.0f} MB"
    if n >= 1000:
        return f"{n / 1000:.0f} kB"
    return f"{n} bytes"

