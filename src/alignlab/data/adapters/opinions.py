"""Opinion-survey items (a question, its options, each population's answer shares) and their formats.

Two adapters: ``globalopinionqa`` reads Anthropic's GlobalOpinionQA (``data/global_opinions.csv`` or
``hf://Anthropic/llm_global_opinions``), whose ``selections`` and ``options`` cells hold Python literals;
``opinions`` reads alignlab's own JSONL/CSV format (the ``OpinionItem`` fields; in CSV, ``options`` and
``selections`` are JSON cells). Literals are parsed with ``ast.literal_eval``, never ``eval``.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any, ClassVar

from pydantic import Field, model_validator

from alignlab.data._records import Record
from alignlab.data._validate import RowError
from alignlab.data.adapters._registry import adapter, need

GLOBALOPINIONQA_HUB = "hf://Anthropic/llm_global_opinions"
GLOBALOPINIONQA_SOURCE = "https://huggingface.co/datasets/Anthropic/llm_global_opinions"


class OpinionItem(Record):
    """A survey question with its answer options and, per population, the share choosing each option."""

    kind: ClassVar[str] = "opinion_item"
    signature: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"question", "options", "selections"}),)

    question: str
    """The question as asked."""
    options: list[str] = Field(min_length=2)
    """The answer options in the survey's order (for dimension-tagged items: from the low to the high pole)."""
    selections: dict[str, list[float]] = Field(default_factory=dict)
    """Population (country or group) → share of respondents choosing each option, aligned with ``options``."""
    source: str | None = None
    """The survey the item comes from (GlobalOpinionQA: ``GAS`` or ``WVS``)."""
    id: str | None = None
    """A stable identifier; derived from the row position when the source has none."""
    dimension: str | None = None
    """The cultural dimension the item measures (e.g. Hofstede's ``pdi``), if any."""
    reverse: bool = False
    """True when ``options`` run from the dimension's high pole to its low pole."""

    @model_validator(mode="after")
    def _aligned(self) -> OpinionItem:
        n = len(self.options)
        for pop, shares in self.selections.items():
            if len(shares) != n:
                raise ValueError(f"selections[{pop!r}]: expected {n} shares (one per option), got {len(shares)}")
            if any(not math.isfinite(s) or s < 0 for s in shares):
                raise ValueError(f"selections[{pop!r}]: shares must be finite and non-negative")
        return self


def parse_selections(text: str) -> dict[str, list[float]]:
    """GlobalOpinionQA's ``defaultdict(<class 'list'>, {...})`` string → a plain dict (no ``eval``)."""
    body = text.strip()
    if body.startswith("defaultdict("):
        # The repr of a defaultdict cannot be read as a literal; the dict inside it can.
        head, sep, rest = body.partition(", ")
        if not sep or not rest.endswith(")"):
            raise RowError("selections", "defaultdict(<class 'list'>, {...})", text[:80])
        body = rest[:-1]
    try:
        value = ast.literal_eval(body)
    except (ValueError, SyntaxError):
        raise RowError("selections", "a dict of population → list of shares", text[:80]) from None
    if not isinstance(value, dict):
        raise RowError("selections", "a dict of population → list of shares", text[:80])
    return {str(k): [float(x) for x in v] for k, v in value.items()}


def _literal_list(value: Any, key: str) -> list[str]:
    """A list cell: a list already, or a Python/JSON list literal in a string."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise RowError(key, "a list of strings", value[:80]) from None
    if not isinstance(value, list | tuple) or not all(isinstance(x, str | int | float) for x in value):
        raise RowError(key, "a list of strings", value)
    return [str(x) for x in value]


@adapter("globalopinionqa", produces="opinion_item", source=GLOBALOPINIONQA_SOURCE)
def globalopinionqa(row: dict[str, Any]) -> list[OpinionItem]:
    """GlobalOpinionQA rows (question, selections, options, source) → opinion items with per-country shares."""
    raw = row.get("selections")
    selections = raw if isinstance(raw, dict) else parse_selections(need(row, "selections"))
    options = _literal_list(need(row, "options", object, "a list of strings"), "options")
    return [OpinionItem(question=need(row, "question"), options=options, selections=selections,
                        source=row.get("source") or None)]


@adapter("opinions", produces="opinion_item", source="alignlab (src/alignlab/suites/data/opinions.md)")
def opinions(row: dict[str, Any]) -> list[OpinionItem]:
    """alignlab's opinion items (id, question, options, selections, source, dimension, reverse); JSON in CSV cells."""
    row = dict(row)
    if isinstance(row.get("options"), str):
        row["options"] = _literal_list(row["options"], "options")
    if isinstance(row.get("selections"), str):
        try:
            row["selections"] = json.loads(row["selections"])
        except ValueError:
            row["selections"] = parse_selections(row["selections"])
    if isinstance(row.get("reverse"), str):  # a CSV cell
        row["reverse"] = row["reverse"].strip().lower() in ("1", "true", "yes")
    for key in ("id", "source", "dimension"):
        if row.get(key) == "":
            row[key] = None
    return [OpinionItem.model_validate(row)]
