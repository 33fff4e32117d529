"""Reading user files whole: gzip told by its magic bytes, and every way a file can be unreadable (cut-off or
corrupt gzip, bytes that are not UTF-8) turned into a one-line ``DataError`` naming the file and, where known, the
line. Streaming readers (``alignlab.data``) use ``GZIP_ERRORS``, ``gzip_problem`` and ``first_bad_utf8_line``.

Atomic writes name their temporary file with ``temp_path`` and clear a killed writer's leftovers with
``remove_stale_temps`` (the temp file of a ``kill -9``-ed write would otherwise stay forever)."""

from __future__ import annotations

import glob
import gzip
import os
import secrets
import zlib
from pathlib import Path
from typing import IO

from alignlab.errors import DataError

GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)
"""What Python's gzip raises while reading a cut-off (``EOFError``) or corrupt stream (bad header, CRC, data)."""


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_binary(path: str | Path) -> IO[bytes]:
    """``path`` opened for reading bytes, gunzipped on the fly when it is gzip (whatever its name)."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # type: ignore[return-value]


def gzip_problem(exc: BaseException) -> str:
    """What a gzip reading error means, in words a user can act on."""
    if isinstance(exc, EOFError):
        return "gzip stream ends early (the file is truncated)"
    return f"corrupt gzip data ({exc})"


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes (gunzipped); a truncated or corrupt gzip raises ``DataError`` naming the file."""
    try:
        with open_binary(path) as fh:
            return fh.read()
    except GZIP_ERRORS as exc:
        raise DataError(f"{path}: {gzip_problem(exc)}", hint="download or write the file again") from None


def utf8_error(data: bytes, exc: UnicodeDecodeError, where: str | Path) -> DataError:
    """A ``DataError`` naming ``where:line`` for bytes that failed to decode at ``exc.start``."""
    line = data.count(b"\n", 0, exc.start) + 1
    return DataError(f"{where}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                     hint="save the file as UTF-8")


def decode(data: bytes, where: str | Path, encoding: str = "utf-8") -> str:
    """``data`` decoded (``utf-8`` or ``utf-8-sig``); invalid bytes raise ``DataError`` naming ``where:line``."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise utf8_error(data, exc, where) from None


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The file's text (gunzipped when gzip); bad gzip or bytes that are not UTF-8 raise ``DataError``."""
    return decode(read_bytes(path), path, encoding)


def first_bad_utf8_line(path: str | Path) -> tuple[int, UnicodeDecodeError] | None:
    """The first line of a file that is not UTF-8 (for a stream decoder's error, which knows no line)."""
    with open_binary(path) as fh:
        for n, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return n, exc
    return None


def temp_path(path: str | Path) -> Path:
    """A fresh temporary name beside ``path`` for an atomic write; it carries this process's id so a later
    writer can tell a killed writer's leftover (``remove_stale_temps``) from a live one's."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.{os.getpid()}.tmp")


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Delete temporary files of atomic writes to ``path`` whose writing process is gone (killed before its
    rename); returns what was removed. A temp file of a process still running is left alone. The process check is
    local: on a file system shared by several machines a leftover is removed only by the machine that wrote it
    or, by chance, one where that id is free."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-len(".tmp")].rpartition(".")[2]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:  # another writer cleaned it first
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
