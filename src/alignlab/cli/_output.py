"""Terminal-aware output: rich tables and live progress on a terminal, plain lines when piped or redirected.

A rich table sized to a pipe's default 80 columns wraps long cells one word per line, and a live progress bar
written to a file is a stream of control codes; scripts and logs want one row per line instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich loads when a table prints, not when the CLI starts
    from rich.console import Console
    from rich.table import Table


def _plain(cell: Any) -> str:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    text = cell if isinstance(cell, str) else str(cell)
    return Text.from_markup(text).plain if "[" in text else text


def table_lines(table: Table) -> list[str]:
    """The table as plain lines: its title, then the header and one row per line, cells separated by tabs."""
    columns = table.columns
    rows = [list(map(_plain, col.cells)) for col in columns]
    lines = [_plain(table.title)] if table.title else []
    if table.show_header:
        lines.append("\t".join(_plain(c.header) for c in columns))
    for values in zip(*rows, strict=True):
        lines.append("\t".join(v.replace("\t", " ").replace("\n", " ") for v in values))
    return lines


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` boxed on a terminal, as plain tab-separated rows otherwise."""
    if console is None:
        from rich.console import Console

        console = Console()
    if console.is_terminal:
        console.print(table)
        return
    for line in table_lines(table):
        console.file.write(line + "\n")
    console.file.flush()
