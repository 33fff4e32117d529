"""``alignlab ratings BATTLES``: a Bradley–Terry leaderboard with bootstrap CIs and online Elo."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path

import typer

from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

COLUMNS = ("rank", "model", "rating", "95% CI", "battles", "win rate", "Elo (online)")


class Format(StrEnum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"


def _cells(row, groups: bool = False) -> list[str]:  # noqa: ANN001 - a ModelRating; imported lazily
    """A row's cells; with ``groups`` (an unconnected comparison graph) the rank says its group: ``1 (group 2)``."""
    ci = f"{row.ci_low - row.rating:+.1f}/{row.ci_high - row.rating:+.1f}"
    rank = f"{row.rank} (group {row.group})" if groups else str(row.rank)
    return [rank, row.model, f"{row.rating:.1f}", ci, str(row.battles), f"{row.win_rate:.1%}",
            f"{row.elo:.1f}"]


def _grouped(board) -> bool:  # noqa: ANN001 - a Leaderboard
    return len({r.group for r in board.rows}) > 1


def render(board, fmt: Format) -> str:  # noqa: ANN001 - a Leaderboard; imported lazily
    """The leaderboard as markdown, CSV or JSON text (``table`` is printed by rich instead)."""
    if fmt is Format.json:
        return json.dumps(board.to_dict(), indent=2)
    if fmt is Format.csv:
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(["rank", "model", "rating", "ci_low", "ci_high", "battles", "win_rate", "elo", "group"])
        for r in board.rows:
            out.writerow([r.rank, r.model, f"{r.rating:.2f}", f"{r.ci_low:.2f}", f"{r.ci_high:.2f}", r.battles,
                          f"{r.win_rate:.4f}", f"{r.elo:.2f}", r.group])
        return buf.getvalue()
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    groups = _grouped(board)
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r, groups)) + " |" for r in board.rows]
    return "\n".join(lines) + "\n"


def _parse_anchor(anchor: str | None) -> tuple[str, float] | None:
    from alignlab.errors import AlignlabError

    if anchor is None:
        return None
    name, sep, value = anchor.rpartition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise AlignlabError(f"--anchor {anchor!r}: expected MODEL=RATING", hint="e.g. --anchor gpt-4=1200") from None


def register(app: typer.Typer) -> None:
    """Add the ``ratings`` command to ``app``."""

    @app.command("ratings")
    @friendly_errors
    def ratings_cmd(
        battles: Path = typer.Argument(..., help="Battles: JSON array or JSONL (.gz too), alignlab battle records "
                                       "or Chatbot Arena's clean_battle format."),
        bootstrap: int = typer.Option(1000, "--bootstrap", "-b", min=0, help="Bootstrap rounds for the 95% CIs "
                                      "(0: none)."),
        style_control: bool = typer.Option(False, "--style-control", help="Control for response length and "
                                           "markdown (headers, lists, bold), as Chatbot Arena does."),
        fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
        seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
        anchor: str | None = typer.Option(None, "--anchor", help="MODEL=RATING pins one model's rating "
                                          "(default: mean rating 1000)."),
        k: float = typer.Option(4.0, "--k", min=0.0, help="Online Elo step size."),
    ) -> None:
        """Rate models from pairwise battles: Bradley–Terry with bootstrap CIs, ranks by CI overlap, online Elo."""
        from alignlab.evaluate.preferences import leaderboard, read_battles

        data = read_battles(battles)
        board = leaderboard(data, bootstrap=bootstrap, seed=seed, style_control=style_control,
                            anchor=_parse_anchor(anchor), k=k)
        for warning in board.warnings:
            typer.secho(f"warning: {warning}", err=True, fg="yellow")
        if fmt is not Format.table:
            typer.echo(render(board, fmt), nl=False)
            return
        from rich.console import Console
        from rich.table import Table

        title = (f"{board.n_battles:,} battles, {len(board.rows)} models, Bradley–Terry"
                 f"{' with style control' if board.style_control else ''}, {board.bootstrap} bootstrap rounds")
        table = Table(*COLUMNS, title=title)
        for col in (0, 2, 3, 4, 5, 6):
            table.columns[col].justify = "right"
        for row in board.rows:
            table.add_row(*_cells(row, _grouped(board)))
        console = Console()
        print_table(table, console)
        if board.style_coefficients:
            coefs = ", ".join(f"{name}={v:+.3f}" for name, v in board.style_coefficients.items())
            console.print(f"style coefficients (log-odds per SD): {coefs}")
