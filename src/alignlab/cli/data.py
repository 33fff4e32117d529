"""``alignlab data``: convert public datasets to alignlab/TRL records, validate, describe, and list the catalog."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from alignlab.cli._data_dir import data_dir_option, use_data_dir
from alignlab.cli._errors import friendly_errors
from alignlab.cli._output import print_table

if TYPE_CHECKING:
    from alignlab.data import SkipReport

data_app = typer.Typer(no_args_is_help=True, help="Convert, validate and describe alignment data.")

_SHOWN_SKIPS = 20
_FROM_HELP = "Input format: an adapter (hh-rlhf, ultrafeedback, ...; see `alignlab data formats`) or a record kind."
_SKIP_HELP = "Skip rows that do not parse or validate, and report how many and why, instead of stopping."


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _records(report: SkipReport) -> str:
    return f"{report.records} {report.kind} records" if report.kind else f"{report.records} records"


def _print_report(report: SkipReport, report_path: Path | None) -> None:
    """Skipped rows: the count per reason, then the first rows with their location."""
    console = _console()
    print_ = functools.partial(console.print, markup=False)  # messages quote data, e.g. "field 'chosen[0].role'"
    ignored = report.ignored_columns()
    if ignored:
        print_(f"ignored columns (no {report.kind} field): {', '.join(ignored)}")
    if report.skipped:
        print_(f"skipped {report.skipped} of {report.rows} rows:")
        for key, n in report.reasons.most_common():
            print_(f"  {n} × {key}")
        for where, message in report.examples[:_SHOWN_SKIPS]:
            print_(f"  {where}: {message}")
        if report.skipped > _SHOWN_SKIPS:
            more = "" if report_path else " (--report FILE lists all)"
            print_(f"  … {report.skipped - _SHOWN_SKIPS} more{more}")
    if report_path is not None:
        report_path.write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n")


@data_app.command("convert")
@friendly_errors
def convert_cmd(
    source: str = typer.Argument(..., help="Input file, directory, or hf://NAME[:CONFIG][@SPLIT]."),
    out: Path = typer.Argument(..., help="Output file: .jsonl, .json, .csv (+ .gz) or .parquet."),
    from_: str = typer.Option("auto", "--from", "-f", help=_FROM_HELP),
    to: str | None = typer.Option(None, "--to", help="Convert records to this kind (e.g. preference)."),
    pairs: str = typer.Option("all", "--pairs", help="Rankings/ratings → pairs: all, best_vs_rest, best_vs_worst."),
    chat: bool = typer.Option(False, "--chat", help="Write conversational records (prompt as a user message)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=_SKIP_HELP),
    report_path: Path | None = typer.Option(None, "--report", help="Write the skip report (all rows) as JSON."),
) -> None:
    """Convert a published dataset (or alignlab/TRL rows) into records TRL's trainers load unchanged."""
    from alignlab.data import PAIR_STRATEGIES, convert
    from alignlab.errors import DataError

    if pairs not in PAIR_STRATEGIES:
        raise DataError(f"unknown --pairs {pairs!r}", hint="one of " + ", ".join(PAIR_STRATEGIES))
    report = convert(source, out, from_, to=to, strategy=pairs, chat=chat,  # type: ignore[arg-type]
                     skip_invalid=skip_invalid)
    _console().print(f"converted {report.rows - report.skipped} of {report.rows} rows → {_records(report)} in {out}",
                     markup=False)
    _print_report(report, report_path)


@data_app.command("validate")
@friendly_errors
def validate_cmd(
    path: str = typer.Argument(..., help="File, directory, or hf://NAME[:CONFIG][@SPLIT]."),
    as_: str | None = typer.Option(None, "--as", help="Record kind to expect (default: told from the columns)."),
    from_: str | None = typer.Option(None, "--from", "-f", help=_FROM_HELP),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Check every row and report all bad ones."),
    report_path: Path | None = typer.Option(None, "--report", help="Write the report (all bad rows) as JSON."),
) -> None:
    """Check that every row is a valid record: stop at the first bad one (exit 2), or list them all (exit 1).

    With --skip-invalid every row is checked and each bad one reported with its file:line.
    """
    from alignlab.data import SkipReport, iter_records
    from alignlab.errors import DataError

    if as_ and from_:
        raise DataError("give --as KIND or --from FORMAT, not both")
    report = SkipReport()
    for _ in iter_records(path, from_ or as_ or "auto", skip_invalid=skip_invalid, report=report):
        pass
    valid = report.rows - report.skipped
    _console().print(f"{path}: {valid} of {report.rows} rows valid ({_records(report)})", markup=False)
    _print_report(report, report_path)
    if report.skipped:
        raise typer.Exit(1)


def _stats_tables(stats: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    tables = []
    head = Table(title="records", show_header=False)
    head.add_row("records", str(stats["records"]))
    for kind, n in stats["kinds"].items():
        head.add_row(f"kind: {kind}", str(n))
    for form, n in stats["forms"].items():
        head.add_row(f"form: {form}", str(n))
    head.add_row("duplicate records", str(stats["duplicates"]["records"]))
    head.add_row("duplicate prompts", str(stats["duplicates"]["prompts"]))
    tables.append(head)
    if stats["lengths"]:
        lengths = Table(title="length (characters)")
        cols = ["n", "min", "mean", "p50", "p90", "p99", "max"]
        lengths.add_column("field")
        for col in cols:
            lengths.add_column(col, justify="right")
        for name, summary in stats["lengths"].items():
            lengths.add_row(name, *(str(summary.get(c, "")) for c in cols))
        tables.append(lengths)
    for name, counts in stats["labels"].items():
        table = Table(title=f"balance: {name}")
        table.add_column("value")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        total = sum(v for k, v in counts.items() if k != "…") or 1
        for value, n in counts.items():
            table.add_row(str(value), str(n), "" if value == "…" else f"{n / total:.1%}")
        tables.append(table)
    return tables


@data_app.command("stats")
@friendly_errors
def stats_cmd(
    path: str = typer.Argument(..., help="File, directory, or hf://NAME[:CONFIG][@SPLIT]."),
    as_: str | None = typer.Option(None, "--as", help="Record kind (default: told from the columns)."),
    from_: str | None = typer.Option(None, "--from", "-f", help=_FROM_HELP),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=_SKIP_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """Counts, length distribution, duplicates and label balance of a data file."""
    from alignlab.data import SkipReport, compute_stats, iter_records
    from alignlab.errors import DataError

    if as_ and from_:
        raise DataError("give --as KIND or --from FORMAT, not both")
    report = SkipReport()
    stats = compute_stats(iter_records(path, from_ or as_ or "auto", skip_invalid=skip_invalid, report=report))
    stats["skipped"] = report.skipped
    if as_json:
        typer.echo(json.dumps(stats, indent=1, ensure_ascii=False, default=str))
        return
    console = _console()
    for table in _stats_tables(stats):
        print_table(table, console)
    _print_report(report, None)


@data_app.command("catalog")
@friendly_errors
def catalog_cmd(
    level: str | None = typer.Option(None, "--level", help="instructions, preferences or values."),
    use: str | None = typer.Option(None, "--use", help="train or eval."),
    as_json: bool = typer.Option(False, "--json", help="Print the catalog as JSON."),
    show_works: bool = typer.Option(False, "--works", help="The survey's works by level instead: method, goal "
                                    "representation and dataset."),
) -> None:
    """The public datasets alignlab reads and scores (an adapter and a suite each), by level and the survey's
    category, with licence and source; ``--works``: the survey's works by level."""
    from rich.table import Table

    from alignlab.data import LEVELS, catalog, works
    from alignlab.errors import DataError

    if level is not None and level not in LEVELS:
        raise DataError(f"unknown level {level!r}", hint="one of " + ", ".join(LEVELS))
    if show_works:
        found = works(level)
        if as_json:
            typer.echo(json.dumps([w.to_dict() for w in found], indent=1))
            return
        wtable = Table(title=f"the survey's works by level ({len(found)})")
        for col in ("level", "work", "year", "method", "goal representation", "dataset"):
            wtable.add_column(col, overflow="fold")
        for w in found:
            wtable.add_row(w.level, f"{w.name} ({w.authors})", str(w.year), w.method, w.representation, w.dataset)
        print_table(wtable, _console())
        return
    entries = catalog(level, use)
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=1))
        return
    table = Table(title=f"alignlab data catalog ({len(entries)} datasets)")
    for col in ("name", "level", "category", "use", "format", "suite", "licence", "hub id / URL"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(e.name, e.level, e.category, e.use, e.format, e.suite, e.license, e.hub)
    print_table(table, _console())


@data_app.command("sources")
@friendly_errors
def sources_cmd(
    data_dir: Path | None = data_dir_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the sources as JSON."),
) -> None:
    """Public benchmark files by name: where each is looked for in the data directory (the first layout listed
    is the one to download into), whether it is there, its hub copy and pin, licence and rows."""
    use_data_dir(data_dir)
    from dataclasses import asdict

    from rich.table import Table

    from alignlab.data import data_dir as current_data_dir
    from alignlab.data import local_file, public_sources
    from alignlab.evaluate import suite_names

    suite_names()  # suite modules may register the sources they read
    sources = public_sources()
    found = {name: local_file(name) for name in sources}
    if as_json:
        typer.echo(json.dumps([{**asdict(s), "found": str(found[n]) if found[n] else None}
                               for n, s in sources.items()], indent=1))
        return
    root = current_data_dir()
    table = Table(title=f"public sources (data directory: {root or 'not set: --data-dir or ALIGNLAB_DATA_DIR'})")
    for col in ("name", "file in the data directory", "found", "hub copy", "licence", "rows"):
        table.add_column(col, overflow="fold")
    for name, s in sources.items():
        hub = (f"{s.hub}#{s.revision}" if s.revision else f"{s.hub} (unpinned)") if s.hub else "—"
        table.add_row(name, s.files[0], "yes" if found[name] else "no", hub, s.license,
                      str(s.rows) if s.rows is not None else "—")
    print_table(table, _console())


@data_app.command("formats")
@friendly_errors
def formats_cmd() -> None:
    """Input formats (adapters): what each reads and the record kind it writes."""
    from rich.table import Table

    from alignlab.data import adapters, record_kinds

    table = Table(title="input formats (--from)")
    for col in ("format", "writes", "reads"):
        table.add_column(col, overflow="fold")
    kinds = record_kinds()
    for name, spec in adapters().items():
        if name in kinds:
            continue  # record kinds are listed by `alignlab data kinds`
        writes = f"{spec.produces} → {spec.to}" if spec.to else spec.produces
        table.add_row(name, writes, spec.summary)
    print_table(table, _console())
    _console().print("Every record kind is an input format too (`alignlab data kinds`).")


@data_app.command("kinds")
@friendly_errors
def kinds_cmd() -> None:
    """Record kinds and their fields (TRL's column names for the training kinds)."""
    from rich.table import Table

    from alignlab.data import record_kinds

    table = Table(title="record kinds (--as / --to)")
    for col in ("kind", "fields (* required)", "what"):
        table.add_column(col, overflow="fold")
    for kind, cls in record_kinds().items():
        fields = ", ".join(n + ("*" if f.is_required() else "") for n, f in cls.model_fields.items())
        table.add_row(kind, fields, (cls.__doc__ or "").strip().splitlines()[0])
    print_table(table, _console())
