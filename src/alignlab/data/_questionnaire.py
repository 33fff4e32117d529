"""Read a Likert questionnaire (``QuestionnaireItem`` rows) from a file, stopping at the first bad item with its
file:line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from alignlab.data._eval_records import QuestionnaireItem
from alignlab.data._io import BadRow, open_source
from alignlab.data._validate import describe_error
from alignlab.errors import DataError

# Column names a questionnaire row may carry: the fields and the older names still read.
_COLUMNS = frozenset(QuestionnaireItem.model_fields) | {"construct"}


@dataclass(frozen=True)
class LocatedItem:
    """An item and where it was read (``FILE:LINE``), so later checks (its value, its scale) can point at it."""

    where: str
    item: QuestionnaireItem


def parse_questionnaire(rows: Iterable[tuple[str, dict[str, Any] | BaseException]]) -> list[LocatedItem]:
    """Validate ``(where, row)`` pairs into items; unknown columns and duplicate ids are errors too, because a
    misspelt ``reverse`` column silently ignored would score a reverse-keyed item the wrong way round."""
    out: list[LocatedItem] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if isinstance(row, BaseException):
            cause = row.cause if isinstance(row, BadRow) else row
            raise DataError(f"{where}: {describe_error(cause).message}")
        unknown = sorted(set(row) - _COLUMNS)
        if unknown:
            raise DataError(f"{where}: unknown field {unknown[0]!r}",
                            hint="fields: id, value, text, reverse, paraphrases, scale, question, instrument, meta")
        try:
            item = QuestionnaireItem.model_validate(row)
        except ValidationError as exc:
            raise DataError(f"{where}: {describe_error(exc, QuestionnaireItem).message}") from None
        if item.id in seen:
            raise DataError(f"{where}: id {item.id!r} is already used at {seen[item.id]}")
        seen[item.id] = where
        out.append(LocatedItem(where, item))
    if not out:
        raise DataError("questionnaire has no items")
    return out


def read_questionnaire(path: str | Path) -> list[LocatedItem]:
    """The items of a questionnaire file (JSON lines, JSON, CSV/TSV or Parquet), in file order."""
    rows = ((part.where(n), row) for part in open_source(path) for n, row in part.rows())
    try:
        return parse_questionnaire(rows)
    except DataError as exc:
        if str(exc).startswith("questionnaire has no items"):
            raise DataError(f"{path}: no questionnaire items") from None
        raise
