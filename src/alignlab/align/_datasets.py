"""alignlab records → rows in the TRL dataset schema each method reads, in conversational form.

Conversational rows make TRL apply the model's chat template, so the model is trained on exactly the text it
sees when alignlab evaluates it; prompt/completion rows make the SFT loss cover the completion only (TRL's
default for that schema). What each method reads:

- sft: ``prompt``/``completion``; a conversation is split before its last assistant turns, a preference pair
  trains on ``chosen``; ``text`` rows train on the whole text.
- reward, dpo, orpo: ``prompt``/``chosen``/``rejected`` (+ ``margin`` for reward); rankings and ratings become pairs.
- kto: ``prompt``/``completion``/``label``; preference pairs are unpaired (chosen → True, rejected → False).
- rloo, grpo: ``prompt`` plus the record's other columns, which TRL passes to reward functions
  (``instruction_id_list``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from alignlab.data import (
    LanguageModeling,
    Preference,
    PromptCompletion,
    Record,
    convert_record,
    iter_records,
    maybe_conversational,
)
from alignlab.errors import AlignlabError, DataError

# Target record kind per method (None: the method takes several kinds, sorted out by ``training_rows``).
TARGET_KIND: dict[str, str | None] = {
    "sft": None, "reward": "preference", "cost": "preference", "dpo": "preference", "orpo": "preference",
    "kto": "unpaired_preference", "rloo": None, "grpo": None,
}
NEEDS = {
    "sft": "prompt/completion, messages or text records (or preference pairs: trains on chosen)",
    "reward": "preference pairs (or rankings/ratings)",
    "cost": "pairs with the more harmful answer as chosen (format cost-pairs) or PKU-SafeRLHF rows (pku-saferlhf)",
    "dpo": "preference pairs (or rankings/ratings)",
    "orpo": "preference pairs (or rankings/ratings)", "kto": "unpaired preferences or preference pairs",
    "rloo": "records with a prompt", "grpo": "records with a prompt",
}
_DROP = ("id", "meta", "key")  # bookkeeping columns no trainer reads (and whose shapes vary from row to row)


def _sft_row(record: Record) -> dict[str, Any]:
    if isinstance(record, Preference):
        record = PromptCompletion(prompt=record.prompt, completion=record.chosen)  # type: ignore[arg-type]
    if isinstance(record, LanguageModeling) and record.messages:
        record = convert_record(record, "prompt_completion")[0]
    if isinstance(record, PromptCompletion):
        return {"prompt": _plain(record.prompt), "completion": _plain(record.completion)}
    if isinstance(record, LanguageModeling):
        return {"text": record.text}
    raise DataError(f"cannot train sft on {record.kind} records", hint=f"sft needs {NEEDS['sft']}")


def _rl_row(record: Record) -> dict[str, Any]:
    if isinstance(record, Preference):
        record = convert_record(record, "prompt_only")[0]
    row = record.to_row()
    if "prompt" not in row:
        raise DataError(f"{record.kind} records have no prompt to generate from", hint="rloo/grpo need prompts")
    if isinstance(row["prompt"], str):  # kinds maybe_conversational does not know (instruction_following, ...)
        row["prompt"] = [{"role": "user", "content": row["prompt"]}]
    for key in _DROP:
        row.pop(key, None)
    for key in ("chosen", "rejected", "completion", "completions"):  # answers would leak into reward kwargs only
        row.pop(key, None)
    return row


def _pair_row(record: Record, method: str) -> dict[str, Any]:
    row = record.to_row()
    keep = ("prompt", "chosen", "rejected", "margin") if method == "reward" else ("prompt", "chosen", "rejected")
    if method == "kto":
        keep = ("prompt", "completion", "label")
    return {k: row[k] for k in keep if k in row}


def _sign(safe: Any) -> float:
    """Safe RLHF's sign label: +1 unsafe, -1 safe, 0 unknown (no term in the loss)."""
    return 0.0 if safe is None else (-1.0 if safe else 1.0)


def _cost_row(record: Record) -> dict[str, Any] | None:
    """A cost pair: ``chosen`` = the more harmful answer, with sign labels; helpfulness pairs are skipped."""
    row = record.to_row()
    meta = getattr(record, "meta", None) or {}
    aspect = meta.get("aspect")
    if aspect == "helpfulness":
        return None
    chosen_safe, rejected_safe = meta.get("chosen_safe"), meta.get("rejected_safe")
    if aspect == "harmlessness":  # PKU-SafeRLHF's safer pairs: the safer answer is chosen; cost wants the other
        row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
        chosen_safe, rejected_safe = rejected_safe, chosen_safe
    return {"prompt": row.get("prompt"), "chosen": row["chosen"], "rejected": row["rejected"],
            "chosen_sign": _sign(chosen_safe), "rejected_sign": _sign(rejected_safe)}


def _plain(value: Any) -> Any:
    """Messages as plain dicts (what ``datasets`` stores); strings unchanged."""
    if isinstance(value, list):
        return [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else dict(m) for m in value]
    return value


def training_rows(method: str, records: Iterable[Record]) -> Iterator[dict[str, Any]]:
    """Rows of ``method``'s TRL schema from records already converted to ``TARGET_KIND[method]``."""
    for record in records:
        record = maybe_conversational(record)
        if method == "sft":
            yield _sft_row(record)
        elif method in ("rloo", "grpo"):
            yield _rl_row(record)
        elif method == "cost":
            if (row := _cost_row(record)) is not None:
                yield row
        else:
            yield _pair_row(record, method)


def load_rows(method: str, path: str, fmt: str = "auto", limit: int | None = None) -> list[dict[str, Any]]:
    """Read ``path`` (any format ``alignlab.data`` reads) into ``method``'s rows; errors name ``file:line``."""
    try:
        records = iter_records(path, fmt, to=TARGET_KIND[method], chat=True)
        rows = list(islice(training_rows(method, records), limit))
    except AlignlabError as exc:
        msg = exc.args[0]
        where = "" if msg.startswith(str(path)) else f" {path}:"  # the reader's error may already name file:line
        raise type(exc)(f"{method} data{where} {msg}", hint=exc.hint or f"{method} needs {NEEDS[method]}") from exc
    if not rows:
        raise DataError(f"{method} data {path}: no records", hint=f"{method} needs {NEEDS[method]}")
    if method == "reward" and not all("margin" in r for r in rows):
        rows = [{k: v for k, v in r.items() if k != "margin"} for r in rows]  # TRL reads margins only from all rows
    forms = {frozenset(r) for r in rows} if method not in ("rloo", "grpo") else set()
    if len(forms) > 1:
        raise DataError(f"{method} data {path}: rows of mixed kinds ({' | '.join(sorted(map(str, forms)))})",
                        hint="use one kind of record per file")
    return rows


def build_dataset(method: str, path: str, fmt: str = "auto", limit: int | None = None) -> Any:
    """``datasets.Dataset`` in ``method``'s TRL schema from ``path``."""
    from datasets import Dataset

    return Dataset.from_list(load_rows(method, path, fmt, limit))
