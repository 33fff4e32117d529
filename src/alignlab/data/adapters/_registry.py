"""Adapters: published dataset formats → records, registered by name with ``@adapter("hh-rlhf", ...)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from alignlab.data._records import Record
from alignlab.data._validate import RowError, describe_type
from alignlab.errors import DataError
from alignlab.registry import Registry

RowFn = Callable[[dict[str, Any]], Iterable[Record]]
# A stream adapter sees every row ((where, row) pairs) and yields (where, records or the exception for that row):
# for formats whose records span rows, such as OpenAssistant's flat message tables.
StreamFn = Callable[[Iterator[tuple[str, dict[str, Any]]]], Iterator[tuple[str, "list[Record] | Exception"]]]


@dataclass(frozen=True)
class Adapter:
    """A registered format: ``fn`` turns one raw row (or, if ``stream``, all rows) into records."""

    name: str
    fn: Callable[..., Any]
    produces: str
    """The record kind ``fn`` yields."""
    to: str | None = None
    """The kind ``convert`` writes by default (e.g. ratings → ``preference``); None keeps ``produces``."""
    summary: str = ""
    source: str = ""
    """Where the published format is defined (repository or dataset card)."""
    stream: bool = False
    csv_columns: tuple[str, ...] | None = None
    """Column names for published CSVs without a header row."""
    from_json: Callable[[bytes], Record] | None = None
    """Parse and validate one JSON line at once (pydantic-core), for alignlab's own kinds: twice as fast."""


# The adapter modules register their formats when imported (on first lookup).
ADAPTERS: Registry[Adapter] = Registry("format", [
    "alignlab.data.adapters.native",
    "alignlab.data.adapters.instructions",
    "alignlab.data.adapters.preferences",
    "alignlab.data.adapters.oasst",
    "alignlab.data.adapters.benchmarks",
    "alignlab.data.adapters.opinions",
    "alignlab.data.adapters.ifbench",
], hint="see `alignlab data formats`", error=DataError)


def adapter(
    name: str,
    *,
    produces: str,
    to: str | None = None,
    source: str = "",
    stream: bool = False,
    csv_columns: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the adapter for format ``name``; its docstring's first line is the summary."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        ADAPTERS.add(name, Adapter(name, fn, produces, to, summary, source, stream, csv_columns))
        return fn

    return deco


def register_adapter(spec: Adapter) -> None:
    """Register a ready-made ``Adapter`` (for adapters built in a loop)."""
    ADAPTERS.add(spec.name, spec)


def adapters() -> dict[str, Adapter]:
    """Every registered adapter by name (the built-in modules are imported on first use)."""
    return ADAPTERS.entries()


def get_adapter(name: str) -> Adapter:
    """The adapter for ``name``; ``DataError`` lists the known formats otherwise."""
    return ADAPTERS.get(name)


def need(row: dict[str, Any], key: str, kind: Any = str, expected: str | None = None) -> Any:
    """``row[key]``, checked to be a ``kind``; ``RowError`` names the field and what was expected otherwise."""
    value = row.get(key)
    if value is None:
        raise RowError(key, expected or describe_type(kind))
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RowError(key, expected or describe_type(kind), value)
    return value


def to_int(row: dict[str, Any], key: str) -> int:
    """``row[key]`` as an integer (CSV cells are strings)."""
    value = row.get(key)
    if value is None:
        raise RowError(key, "an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RowError(key, "an integer", value) from None
