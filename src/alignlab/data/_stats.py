"""Describe a record stream: counts, length distributions, duplicates and label balance, in one pass.

Memory grows by a hash (for duplicates) and a length per record, about 100 bytes a row, never by the texts.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from typing import Any

from alignlab.data._records import Message, Record

# Fields whose length is worth a distribution, in the order they are reported.
TEXT_FIELDS = ("text", "messages", "prompt", "completion", "chosen", "rejected", "completions", "question",
               "context", "choices", "scenario", "turns")
_QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


def text_length(value: Any) -> int:
    """Characters in a string, or in the text of a list of messages."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        total = 0
        for item in value:
            if isinstance(item, Message):
                content = item.content
            else:
                content = item.get("content") if isinstance(item, dict) else item
            total += len(content) if isinstance(content, str) else 0
        return total
    return 0


def summarize(values: array) -> dict[str, float]:
    """n, min, mean, quantiles and max of a length array."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    n = len(ordered)
    out: dict[str, float] = {"n": n, "min": ordered[0], "mean": round(sum(ordered) / n, 1)}
    for name, q in _QUANTILES:
        out[name] = ordered[min(n - 1, int(q * n))]
    out["max"] = ordered[-1]
    return out


def _labels(record: Record) -> list[tuple[str, Any]]:
    """(label name, value) pairs whose balance matters for this record's kind."""
    kind = record.kind
    r: Any = record
    if kind == "preference":
        out = [("prompt", "explicit" if r.prompt is not None else "implicit")]
        if r.chosen == r.rejected:
            out.append(("chosen == rejected", True))
        return out
    if kind == "unpaired_preference":
        return [("label", r.label)]
    if kind == "safety_prompt":
        return [("label", r.label), ("category", r.category)]
    if kind == "multiple_choice":
        return [("answer", r.answer), ("choices", len(r.choices)), ("category", r.category)]
    if kind == "battle":
        return [("winner", r.winner)]
    if kind == "moral_scenario":
        return [("framework", r.framework), ("label", f"{r.framework}:{r.label}")]
    if kind == "questionnaire_item":
        return [("value", r.value), ("reverse", r.reverse)]
    if kind in ("rating", "ranking"):
        return [("completions", len(r.completions))]
    if kind == "instruction_following":
        return [("instruction", i) for i in r.instruction_id_list]
    if kind in ("multi_turn",):
        return [("category", r.category), ("turns", len(r.turns))]
    if kind == "language_modeling":
        return [("messages", len(r.messages) if r.messages is not None else None)]
    if kind == "dilemma":
        return [("value", v) for o in r.options for v in o.values]
    return []


def compute_stats(records: Iterable[Record], top: int = 12) -> dict[str, Any]:
    """Counts per kind and form, length distributions (characters) per text field, exact duplicate records and
    prompts, and label balance, for any record stream."""
    kinds: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    lengths: dict[str, array] = {}
    labels: dict[str, Counter[Any]] = {}
    seen: set[int] = set()
    seen_prompts: set[int] = set()
    dup_records = dup_prompts = 0
    for record in records:
        kinds[record.kind] += 1
        fields = record.__dict__
        conversational = False
        for name in TEXT_FIELDS:
            value = fields.get(name)
            if value is None:
                continue
            items = value if name in ("completions", "choices", "turns") else [value]
            arr = lengths.setdefault(name, array("l"))
            for item in items:
                arr.append(text_length(item))
                conversational = conversational or isinstance(item, list)
        forms["conversational" if conversational else "standard"] += 1
        key = hash(record.model_dump_json(exclude_none=True, exclude={"id"}))
        if key in seen:
            dup_records += 1
        else:
            seen.add(key)
        prompt = fields.get("prompt", fields.get("question", fields.get("scenario")))
        if prompt is not None:
            pkey = hash(prompt) if isinstance(prompt, str) else hash(repr(prompt))
            if pkey in seen_prompts:
                dup_prompts += 1
            else:
                seen_prompts.add(pkey)
        for name, value in _labels(record):
            if value is not None:
                labels.setdefault(name, Counter())[value] += 1
    return {
        "records": sum(kinds.values()),
        "kinds": dict(kinds),
        "forms": dict(forms),
        "lengths": {name: summarize(arr) for name, arr in lengths.items()},
        "duplicates": {"records": dup_records, "prompts": dup_prompts},
        "labels": {name: dict(counter.most_common(top)) | ({"…": len(counter) - top} if len(counter) > top else {})
                   for name, counter in labels.items()},
    }
