"""Turn user-facing errors into one line on stderr and exit status 2 (``--debug`` re-raises)."""

from __future__ import annotations

import functools
import gzip
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


def debug_enabled() -> bool:
    return os.environ.get("ALIGNLAB_DEBUG", "") not in ("", "0")


def friendly_errors(fn: F) -> F:
    """Wrap a command so an ``AlignlabError`` (or a missing file) prints ``error: ... (hint: ...)`` and exits 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from alignlab.errors import AlignlabError
        from alignlab.files import GZIP_ERRORS, gzip_problem

        try:
            return fn(*args, **kwargs)
        except (AlignlabError, FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError,
                *GZIP_ERRORS) as exc:
            if debug_enabled():
                raise
            msg = str(exc)
            if isinstance(exc, OSError) and not isinstance(exc, AlignlabError | gzip.BadGzipFile):
                msg = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
            elif isinstance(exc, UnicodeDecodeError):
                # A reader that does not name its file (the ones alignlab writes use alignlab.files and do).
                msg = f"an input file is not UTF-8 text ({exc.reason} at byte {exc.start})"
            elif isinstance(exc, GZIP_ERRORS):
                msg = f"an input file: {gzip_problem(exc)}"
            print(f"error: {msg}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
