"""``alignlab cache info`` and ``alignlab cache clear``."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

cache_app = typer.Typer(no_args_is_help=True)
_PATH = typer.Option(None, "--cache", help="Cache file (default $ALIGNLAB_HOME/cache.sqlite).")


@cache_app.command("info")
@friendly_errors
def info_cmd(cache: Path | None = _PATH) -> None:
    """Where the cache is, its size, and entries per backend, model and request kind."""
    from rich.console import Console
    from rich.table import Table

    from alignlab.models import ResponseCache

    rc = ResponseCache(cache)
    info = rc.info()
    rc.close()
    console = Console()
    console.print(f"cache: {info['path']}  entries: {info['entries']:,}  size: {info['bytes'] / 2**20:.2f} MiB")
    table = Table("backend", "fingerprint", "kind", "entries")
    for g in info["groups"]:
        table.add_row(g["backend"], g["fingerprint"], g["kind"], f"{g['entries']:,}")
    print_table(table, console)


@cache_app.command("clear")
@friendly_errors
def clear_cmd(
    cache: Path | None = _PATH,
    backend: str | None = typer.Option(None, "--backend", help="Only entries of this backend."),
) -> None:
    """Delete cached responses."""
    from alignlab.models import ResponseCache

    rc = ResponseCache(cache)
    n = rc.clear(backend)
    rc.close()
    print(f"removed {n:,} cached responses from {rc.path}")
