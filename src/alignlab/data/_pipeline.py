"""Source → adapter → (conversion) → records, streaming, with bad rows either stopping the run or reported."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from alignlab.data._convert import PairStrategy, convert_record, maybe_conversational
from alignlab.data._io import BadRow, Part, open_source, write_records
from alignlab.data._records import Record, record_kinds
from alignlab.data._validate import Problem, describe_error
from alignlab.errors import DataError

# What a malformed row makes an adapter or a record raise; anything else is a bug and propagates.
ROW_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError)
# Problems (describe_error's keys) that mean a row is not a row of its file's format at all.
UNPARSED = frozenset({"invalid JSON", "not a JSON object", "not UTF-8"})
SKIP_HINT = "fix the row, or pass --skip-invalid to skip bad rows and report them"


@dataclass
class SkipReport:
    """What a run read, wrote and skipped, and why (like problems counted together)."""

    rows: int = 0
    """Input rows read."""
    records: int = 0
    """Records produced."""
    skipped: int = 0
    """Rows skipped as invalid."""
    reasons: Counter[str] = field(default_factory=Counter)
    """Skipped rows per kind of problem."""
    examples: list[tuple[str, str]] = field(default_factory=list)
    """(where, message) for the first ``max_examples`` skipped rows."""
    max_examples: int = 10_000
    kind: str | None = None
    """The kind of the records produced."""
    columns: list[str] = field(default_factory=list)
    """The first row's columns."""

    def add(self, where: str, problem: Problem) -> None:
        self.skipped += 1
        self.reasons[problem.key] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append((where, problem.message))

    def ignored_columns(self) -> list[str]:
        """Input columns the produced kind has no field for (TRL-style input only)."""
        cls = record_kinds().get(self.kind or "")
        return [c for c in self.columns if cls is not None and c not in cls.model_fields]

    def summary(self) -> str:
        """One line: skipped count and the reasons."""
        if not self.skipped:
            return f"read {self.rows} rows, skipped none"
        why = "; ".join(f"{n} × {key}" for key, n in self.reasons.most_common())
        return f"read {self.rows} rows, skipped {self.skipped}: {why}"

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "records": self.records, "skipped": self.skipped, "kind": self.kind,
                "reasons": dict(self.reasons), "examples": [list(e) for e in self.examples]}


def _model_for(exc: BaseException) -> type[Any] | None:
    if isinstance(exc, ValidationError):
        by_name = {cls.__name__: cls for cls in record_kinds().values()}
        return by_name.get(exc.title)
    return None


def iter_records(
    source: str | Path,
    fmt: str = "auto",
    *,
    to: str | None = None,
    strategy: PairStrategy = "all",
    chat: bool = False,
    skip_invalid: bool = False,
    report: SkipReport | None = None,
) -> Iterator[Record]:
    """Stream records from ``source`` read as format ``fmt`` (an adapter name; ``auto`` tells TRL-style kinds apart
    by their columns). ``to`` converts to another kind (default: the adapter's own choice, e.g. ratings → pairs);
    ``chat`` makes standard records conversational. A bad row raises ``DataError("FILE:LINE: ...")``, or with
    ``skip_invalid`` is counted in ``report``."""
    from alignlab.data.adapters import get_adapter

    spec = get_adapter(fmt)
    report = report if report is not None else SkipReport()
    if spec.name == "auto":
        from alignlab.data.adapters.native import resolve_auto

        spec = get_adapter(resolve_auto(open_source(source)))
    target = to or spec.to

    unparsed: list[tuple[str, str]] = []  # rows that are not rows of the file's format at all

    def fail(where: str, exc: BaseException, bad_row: bool = False) -> None:
        problem = describe_error(exc, _model_for(exc))
        if bad_row or problem.key in UNPARSED:
            unparsed.append((where, problem.message))
        if not skip_invalid:
            raise DataError(f"{where}: {problem.message}", hint=SKIP_HINT) from exc
        report.add(where, problem)

    def finish(records: list[Record]) -> list[Record]:
        if target:
            records = [c for r in records for c in convert_record(r, target, strategy)]
        if chat:
            records = [maybe_conversational(r) for r in records]
        if records and report.kind is None:
            report.kind = records[0].kind
        report.records += len(records)
        return records

    def good_rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for part in open_source(source, spec.csv_columns):
            for n, row in part.rows():
                report.rows += 1
                if isinstance(row, BadRow):
                    fail(part.where(n), row.cause, True)
                    continue
                if not report.columns:
                    report.columns = list(row)
                yield part.where(n), row

    def read() -> Iterator[Record]:
        if spec.stream:
            for where, result in spec.fn(good_rows()):
                if isinstance(result, Exception):
                    fail(where, result)
                    continue
                try:
                    out = finish(result)
                except ROW_ERRORS as exc:
                    fail(where, exc)
                    continue
                except DataError as exc:  # no record of this kind converts: say where it was found
                    raise _located(exc, where) from None
                yield from out
            return

        # The per-row path is the hot loop (1M rows in the benchmark): no per-row allocations beyond the records.
        fn = spec.fn
        for part in open_source(source, spec.csv_columns):
            if spec.from_json is not None and part.format == "jsonl" and not target and not chat:
                yield from _validate_lines(part, spec.from_json, report, fail)
                continue
            for n, row in part.rows():
                report.rows += 1
                if isinstance(row, BadRow):
                    fail(part.where(n), row.cause, True)
                    continue
                if not report.columns:
                    report.columns = list(row)
                try:
                    out = finish(fn(row))
                except ROW_ERRORS as exc:
                    fail(part.where(n), exc)
                    continue
                except DataError as exc:
                    raise _located(exc, part.where(n)) from None
                yield from out

    yield from read()
    # Never succeed on nothing: an empty source, or one where no row parses as its file format (CSV text in a
    # .jsonl, a binary file) is an error, not "0 of 0 rows valid". Rows that parse but fail the record's checks
    # are what --skip-invalid reports.
    if report.rows == 0:
        raise DataError(f"{source}: no rows", hint="the file is empty")
    if len(unparsed) == report.rows:
        where, message = unparsed[0]
        raise DataError(f"{where}: {message}; no row of {source} parses", hint="check the file's format")


def _located(exc: DataError, where: str) -> DataError:
    return DataError(f"{where}: {exc.args[0]}", hint=exc.hint)


def _validate_lines(
    part: Part, from_json: Callable[[bytes], Record], report: SkipReport, fail: Callable[..., None]
) -> Iterator[Record]:
    """JSON lines straight into records of one kind: pydantic-core parses and validates each line in one call."""
    for n, raw in part.lines():
        report.rows += 1
        if not report.columns:
            report.columns = _columns(raw)
        try:
            record = from_json(raw)
        except ValidationError as exc:  # invalid JSON included (error type "json_invalid")
            fail(part.where(n), exc)
            continue
        if report.kind is None:
            report.kind = record.kind
        report.records += 1
        yield record


def _columns(raw: bytes) -> list[str]:
    try:
        row = json.loads(raw)
    except ValueError:
        return []
    return list(row) if isinstance(row, dict) else []


def read_records(
    path: str | Path, kind: str | None = None, *, skip_invalid: bool = False, report: SkipReport | None = None
) -> Iterator[Record]:
    """Stream alignlab/TRL records of ``kind`` (told from the columns when None) from a file, directory or
    ``hf://NAME[:CONFIG][@SPLIT]``."""
    return iter_records(path, kind or "auto", skip_invalid=skip_invalid, report=report)


def convert(
    source: str | Path,
    out: str | Path,
    fmt: str = "auto",
    *,
    to: str | None = None,
    strategy: PairStrategy = "all",
    chat: bool = False,
    skip_invalid: bool = False,
) -> SkipReport:
    """Read ``source`` as ``fmt``, write records to ``out`` (atomically; nothing is written if a row stops the
    run) and return what was read, written and skipped."""
    report = SkipReport()
    records = iter_records(source, fmt, to=to, strategy=strategy, chat=chat, skip_invalid=skip_invalid,
                           report=report)
    write_records(records, out)
    return report
