"""alignlab's own records (TRL's column names) as input formats: one adapter per record kind, plus ``auto``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from alignlab.data._io import Part
from alignlab.data._records import Record, infer_kind, record_kinds
from alignlab.data._validate import describe_error
from alignlab.data.adapters._registry import Adapter, register_adapter
from alignlab.errors import DataError

_SNIFF_ROWS = 100
TRL_DOCS = "https://huggingface.co/docs/trl/dataset_formats"


def _validator(cls: type[Record]) -> Any:
    def fn(row: dict[str, Any]) -> list[Record]:
        return [cls.model_validate(row)]

    fn.__doc__ = f"alignlab/TRL {cls.kind} rows ({', '.join(cls.model_fields)})."
    return fn


for _kind, _cls in record_kinds().items():
    register_adapter(Adapter(_kind, _validator(_cls), _kind, summary=(_validator(_cls).__doc__ or ""),
                             source=TRL_DOCS, from_json=_cls.model_validate_json))


def sniff_kind(rows: list[dict[str, Any]]) -> str | None:
    """The kind most of ``rows`` look like (a broken first row must not decide it)."""
    votes = Counter(k for k in (infer_kind(r) for r in rows) if k is not None)
    return votes.most_common(1)[0][0] if votes else None


def _auto(row: dict[str, Any]) -> list[Record]:
    """alignlab/TRL rows of any kind, told apart by their columns (as TRL does)."""
    raise AssertionError("'auto' is resolved to a kind before reading (see resolve_auto)")


register_adapter(Adapter("auto", _auto, "auto", summary=_auto.__doc__ or "", source=TRL_DOCS))


def resolve_auto(parts: list[Part]) -> str:
    """The record kind of a source, from its first rows' columns. A source without rows, or where no row parses
    as its file format, raises ``DataError`` naming the first bad line and the format tried."""
    head: list[dict[str, Any]] = []
    first = ""
    bad: tuple[str, str, BaseException] | None = None
    for part in parts:
        for n, row in part.rows():
            if isinstance(row, dict):
                first = first or part.where(n)
                head.append(row)
                if len(head) >= _SNIFF_ROWS:
                    break
            elif bad is None:
                bad = (part.where(n), part.format, row.cause)
        if len(head) >= _SNIFF_ROWS:
            break
    if not head:
        if bad is not None:
            where, fmt, cause = bad
            raise DataError(f"{where}: {describe_error(cause).message}; no row parses as {fmt}",
                            hint="check the file's format and extension (.jsonl, .json, .csv, .tsv, .parquet)")
        raise DataError(f"{', '.join(p.name for p in parts)}: no rows", hint="the file is empty")
    kind = sniff_kind(head)
    if kind is None:
        raise DataError(
            f"{first}: cannot tell the record kind from the columns {sorted(head[0])}",
            hint="pass the kind (--as KIND / --from KIND); see `alignlab data kinds`",
        )
    return kind
