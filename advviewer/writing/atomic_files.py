"""Write a set of files into a folder all or nothing, as the export needs.

Each file is written in full to a hidden temporary file beside its final name (created with the
umask's permissions, 0644 typically, not mkstemp's 0600) and flushed; only then are they moved
into place with ``os.replace``. A file of the same name from an earlier export is moved aside
first and put back if anything fails. Any failure, Ctrl+C included, leaves the folder as it
was; an OSError becomes one :class:`~advviewer.errors.ExportError` line.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from advviewer.errors import ExportError
from advviewer.reading.files import shown


def write_all_or_nothing(out_dir: Path, payload: dict[str, tuple[str, bytes]]) -> dict[str, Path]:
    """Write ``{kind: (file name, bytes)}`` into ``out_dir``; returns ``{kind: path}``.

    All or nothing: every file to a temporary name first, then moved into place.

    Files of an earlier export with the same names are moved aside first and put back if
    anything fails, even Ctrl+C (any exception), the last move included: the folder ends up as
    it was, or complete. A name taken by something that is not a file (a folder, a FIFO) is
    refused before anything is written: it is not an earlier export's file to replace.
    """
    _prepare_folder(out_dir)
    for name, _ in payload.values():
        _check_not_in_the_way(out_dir, name)
    temps: list[Path] = []
    staged: dict[str, tuple[Path, Path]] = {}
    placed: list[Path] = []
    backups: list[tuple[Path, Path]] = []
    current = str(out_dir)
    try:
        for kind, (name, data) in payload.items():
            current = name
            staged[kind] = (_write_temp(out_dir, name, data, temps), out_dir / name)
        for tmp, final in staged.values():
            current = final.name
            if os.path.lexists(final):
                backup = out_dir / f".{final.name}.{secrets.token_hex(4)}.old"
                os.replace(final, backup)
                backups.append((backup, final))
            os.replace(tmp, final)
            placed.append(final)
        _sync_folder(out_dir)
    except BaseException as exc:
        kept = _roll_back(temps, placed, backups)
        if isinstance(exc, OSError):
            raise ExportError(_describe(exc, out_dir, current) + _kept_aside(kept)) from None
        raise
    for backup, _ in backups:
        _unlink(backup)
    return {kind: final for kind, (_, final) in staged.items()}


def _check_not_in_the_way(out_dir: Path, name: str) -> None:
    """ExportError if ``name`` in ``out_dir`` is a folder, FIFO, device or socket: only a file (or a link) is replaced.

    Such a thing used to be moved aside like an earlier file, the new file put in its place,
    and success reported, with the folder left under a hidden name it was never moved back from.
    """
    try:
        mode = os.lstat(out_dir / name).st_mode
    except OSError:  # missing (the usual case); anything else shows when the file is written
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        what = "a folder" if stat.S_ISDIR(mode) else "something that is not a file"
        raise ExportError(f"cannot write {shown(name)} in {shown(out_dir)}: {what} of that name is in the way; "
                          "nothing was written")


def _kept_aside(kept: list[tuple[Path, Path]]) -> str:
    """The end of the one-line message when an earlier file could not be put back (it is kept, renamed)."""
    if not kept:
        return ""
    names = ", ".join(f"{shown(final.name)} as {shown(backup.name)}" for backup, final in kept)
    return f"; the earlier files could not all be put back and are kept under hidden names: {names}"


def _prepare_folder(out_dir: Path) -> None:
    """Create the export folder if it is missing; refuse a path that is not a folder."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ExportError(f"{shown(out_dir)} is not a folder; choose a folder to export into") from None
    except OSError as exc:
        raise ExportError(_folder_problem(exc, out_dir)) from None
    if not out_dir.is_dir():
        raise ExportError(f"{shown(out_dir)} is not a folder; choose a folder to export into")


def _write_temp(out_dir: Path, name: str, data: bytes, temps: list[Path]) -> Path:
    """``data`` in a new hidden file beside ``name``, created with the umask's mode (0644 typically), flushed to disk."""
    tmp = out_dir / f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    temps.append(tmp)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _sync_folder(out_dir: Path) -> None:
    """Make the renames durable too (best effort: not every system can open a folder)."""
    try:
        fd = os.open(out_dir, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _roll_back(temps: list[Path], placed: list[Path], backups: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """Undo the moves done so far (new files removed, earlier files moved back), remove the temporary files.

    Returns the earlier files that could not be moved back (each still whole under its hidden name).
    """
    for path in placed:
        _unlink(path)
    kept = []
    for backup, final in backups:
        try:
            os.replace(backup, final)
        except OSError:
            kept.append((backup, final))
    for path in temps:
        _unlink(path)
    return kept


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _folder_problem(exc: OSError, out_dir: Path) -> str:
    """Why the export folder could not be made, naming it once ('cannot write X in X' said it twice)."""
    reasons = {
        errno.ENOTDIR: "a part of its path is a file, not a folder",
        errno.ENOENT: "a part of its path does not exist",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the disk is read-only",
        errno.ENOSPC: "the disk is full",
        errno.ENAMETOOLONG: "the name is too long",
    }
    reason = reasons.get(exc.errno or 0, (exc.strerror or str(exc)).lower())
    return f"cannot create the export folder {shown(out_dir)}: {reason}"


def _describe(exc: OSError, out_dir: Path, name: str) -> str:
    folder, file = shown(out_dir), shown(name)
    if exc.errno == errno.ENOSPC:
        return f"disk full while writing {file} in {folder}; nothing was written"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write to {folder}: {os.strerror(exc.errno).lower()}"
    if exc.errno == errno.ENAMETOOLONG:
        return f"cannot write {file} in {folder}: the file name is too long"
    return f"cannot write {file} in {folder}: {(exc.strerror or str(exc)).lower()}"
