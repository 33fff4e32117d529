"""Converters between record kinds. The ``maybe_*`` ones leave data that is already right alone (as TRL's do)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from alignlab.data._eval_records import Battle
from alignlab.data._records import (
    LanguageModeling,
    Message,
    Preference,
    PromptCompletion,
    PromptOnly,
    Ranking,
    Rating,
    Record,
    Text,
    UnpairedPreference,
)
from alignlab.errors import DataError

PairStrategy = Literal["all", "best_vs_rest", "best_vs_worst"]
PAIR_STRATEGIES: tuple[str, ...] = ("all", "best_vs_rest", "best_vs_worst")
# Where a dialogue string hands over to the assistant: HH-RLHF's and most "Human:/Assistant:" transcripts.
DEFAULT_MARKERS: tuple[str, ...] = ("\n\nAssistant:",)


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix, by binary search over slice comparisons (C speed, no per-character
    Python loop: HH-RLHF prompts run to thousands of characters)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # invariant: lo <= answer <= hi
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_shared_prefix(chosen: str, rejected: str, markers: Sequence[str] = DEFAULT_MARKERS) -> int:
    """Where the prompt ends in two strings that share it: after the last ``marker`` inside their common prefix,
    else at the last whitespace of that prefix (so no word is cut). ``chosen[:i] + chosen[i:] == chosen``."""
    i = common_prefix_length(chosen, rejected)
    common = chosen[:i]
    cut = max((common.rfind(m) + len(m) if m in common else -1) for m in markers) if markers else -1
    if cut > 0:
        return cut
    if i == len(chosen) or i == len(rejected):
        return i  # one is a prefix of the other: everything shared is prompt
    ws = max(common.rfind(" "), common.rfind("\n"))
    return ws if ws > 0 else i


def maybe_extract_prompt(record: Preference, markers: Sequence[str] = DEFAULT_MARKERS) -> Preference:
    """Make an implicit prompt explicit: move the start shared by ``chosen`` and ``rejected`` into ``prompt``.

    Strings split after the last ``marker`` (``"\\n\\nAssistant:"``) in the shared start, so ``prompt + chosen``
    is the original ``chosen`` exactly. Conversations split after the last shared message. A record that already
    has a prompt is returned unchanged.
    """
    if record.prompt is not None:
        return record
    chosen, rejected = record.chosen, record.rejected
    if isinstance(chosen, str) and isinstance(rejected, str):
        i = split_shared_prefix(chosen, rejected, tuple(markers))
    else:
        assert isinstance(chosen, list) and isinstance(rejected, list)
        i = 0
        while i < min(len(chosen), len(rejected)) and chosen[i] == rejected[i]:
            i += 1
    if i == 0:
        raise ValueError("expected 'chosen' and 'rejected' to start with a shared prompt; they share nothing")
    if isinstance(chosen, list) and (i >= len(chosen) or i >= len(rejected)):
        raise ValueError("expected 'chosen' and 'rejected' to differ after the prompt; one contains the other")
    return record.model_copy(update={"prompt": chosen[:i], "chosen": chosen[i:], "rejected": rejected[i:]})


def _as_user(text: Text) -> list[Message]:
    return [Message(role="user", content=text)] if isinstance(text, str) else text


def _as_assistant(text: Text) -> list[Message]:
    return [Message(role="assistant", content=text)] if isinstance(text, str) else text


def maybe_conversational(record: Record) -> Record:
    """Turn a standard record into a conversational one (prompt → user message, completions → assistant
    messages); conversational records and kinds without a prompt come back unchanged."""
    if isinstance(record, Preference):
        record = maybe_extract_prompt(record)
        if isinstance(record.chosen, str):
            return record.model_copy(update={
                "prompt": _as_user(record.prompt),  # type: ignore[arg-type]
                "chosen": _as_assistant(record.chosen),
                "rejected": _as_assistant(record.rejected),
            })
        return record
    if isinstance(record, PromptCompletion | UnpairedPreference) and isinstance(record.prompt, str):
        return record.model_copy(
            update={"prompt": _as_user(record.prompt), "completion": _as_assistant(record.completion)}
        )
    if isinstance(record, Ranking | Rating) and isinstance(record.prompt, str):
        return record.model_copy(
            update={"prompt": _as_user(record.prompt), "completions": [_as_assistant(c) for c in record.completions]}
        )
    if isinstance(record, PromptOnly) and isinstance(record.prompt, str):
        return record.model_copy(update={"prompt": _as_user(record.prompt)})
    return record


def _pairs(values: list[float], strategy: str, higher_is_better: bool) -> Iterator[tuple[int, int]]:
    """Index pairs (better, worse) by ``strategy``; ties never make a pair."""
    sign = 1 if higher_is_better else -1
    key = [sign * v for v in values]
    if strategy == "all":
        for i in range(len(key)):
            for j in range(len(key)):
                if key[i] > key[j]:
                    yield i, j
        return
    if not key:
        return
    best = max(range(len(key)), key=lambda k: key[k])
    if strategy == "best_vs_worst":
        worst = min(range(len(key)), key=lambda k: key[k])
        if key[best] > key[worst]:
            yield best, worst
    elif strategy == "best_vs_rest":
        yield from ((best, j) for j in range(len(key)) if key[best] > key[j])
    else:
        raise DataError(f"unknown pair strategy {strategy!r}", hint="one of " + ", ".join(PAIR_STRATEGIES))


def _pair_meta(meta: dict[str, Any] | None, i: int, j: int) -> dict[str, Any] | None:
    """A pair's meta: the record's, with a per-completion ``models`` list narrowed to the two models paired."""
    if not meta or not isinstance(meta.get("models"), list):
        return meta
    models = meta["models"]
    rest = {k: v for k, v in meta.items() if k != "models"}
    return rest | {"chosen_model": models[i] if i < len(models) else None,
                   "rejected_model": models[j] if j < len(models) else None}


def ranking_to_pairs(record: Ranking, strategy: PairStrategy = "all") -> list[Preference]:
    """Preference pairs from a ranking (rank 1 best); ``all`` makes every ordered pair, ties excluded."""
    return [
        Preference(prompt=record.prompt, chosen=record.completions[i], rejected=record.completions[j],
                   id=record.id, meta=_pair_meta(record.meta, i, j))
        for i, j in _pairs([float(r) for r in record.ranks], strategy, higher_is_better=False)
    ]


def rating_to_pairs(record: Rating, strategy: PairStrategy = "all", min_margin: float = 0.0) -> list[Preference]:
    """Preference pairs from ratings, each with ``margin`` = score difference; pairs at or under ``min_margin``
    (ties included) are left out."""
    out = []
    for i, j in _pairs(record.scores, strategy, higher_is_better=True):
        margin = record.scores[i] - record.scores[j]
        if margin > min_margin:
            out.append(Preference(prompt=record.prompt, chosen=record.completions[i],
                                  rejected=record.completions[j], margin=margin, id=record.id,
                                  meta=_pair_meta(record.meta, i, j)))
    return out


def battle_to_preference(record: Battle) -> Preference | None:
    """The winner's conversation over the loser's, prompt extracted; None for ties or battles without text."""
    if record.winner not in ("model_a", "model_b") or not record.conversation_a or not record.conversation_b:
        return None
    a, b = record.conversation_a, record.conversation_b
    chosen, rejected = (a, b) if record.winner == "model_a" else (b, a)
    meta = {"chosen_model": record.model_a if record.winner == "model_a" else record.model_b,
            "rejected_model": record.model_b if record.winner == "model_a" else record.model_a}
    return maybe_extract_prompt(Preference(chosen=chosen, rejected=rejected, id=record.id, meta=meta))


def unpair(record: Preference) -> list[UnpairedPreference]:
    """Two unpaired records (chosen → label True, rejected → False), as TRL's ``unpair_preference_dataset``."""
    p = maybe_extract_prompt(record)
    assert p.prompt is not None
    return [
        UnpairedPreference(prompt=p.prompt, completion=p.chosen, label=True, id=p.id, meta=p.meta),
        UnpairedPreference(prompt=p.prompt, completion=p.rejected, label=False, id=p.id, meta=p.meta),
    ]


def _join(prompt: Text, completion: Text) -> dict[str, Any]:
    if isinstance(prompt, str) and isinstance(completion, str):
        return {"text": prompt + completion}
    return {"messages": list(prompt) + list(completion)}  # type: ignore[arg-type]


_TO_PREFERENCE = (Preference, Ranking, Rating, Battle)


def convert_record(record: Record, kind: str, strategy: PairStrategy = "all") -> list[Record]:
    """``record`` as records of ``kind`` (may be several, or none: a tie makes no pair). Raises ``ValueError``
    when this record cannot be converted and ``DataError`` when no record of its kind can."""
    if record.kind == kind:
        return [maybe_extract_prompt(record) if isinstance(record, Preference) else record]
    if kind in ("preference", "unpaired_preference") and isinstance(record, _TO_PREFERENCE):
        if isinstance(record, Ranking):
            prefs: list[Preference] = ranking_to_pairs(record, strategy)
        elif isinstance(record, Rating):
            prefs = rating_to_pairs(record, strategy)
        elif isinstance(record, Battle):
            prefs = [p for p in [battle_to_preference(record)] if p is not None]
        else:
            prefs = [maybe_extract_prompt(record)]
        return list(prefs) if kind == "preference" else [u for p in prefs for u in unpair(p)]
    if kind == "language_modeling" and isinstance(record, PromptCompletion):
        return [LanguageModeling(**_join(record.prompt, record.completion), id=record.id, meta=record.meta)]
    if kind == "prompt_completion" and isinstance(record, LanguageModeling) and record.messages:
        last = max((i for i, m in enumerate(record.messages) if m.role != "assistant"), default=-1) + 1
        if last == 0 or last == len(record.messages):
            raise ValueError("expected a conversation that ends with an assistant reply after a prompt")
        return [PromptCompletion(prompt=record.messages[:last], completion=record.messages[last:],
                                 id=record.id, meta=record.meta)]
    if kind == "prompt_only" and hasattr(record, "prompt"):
        prompt = maybe_extract_prompt(record).prompt if isinstance(record, Preference) else record.prompt
        return [PromptOnly(prompt=prompt, id=getattr(record, "id", None), meta=record.meta)]  # type: ignore[attr-defined]
    raise DataError(f"cannot convert {record.kind} records to {kind}",
                    hint="preference, ranking, rating and battle records convert to preference or "
                         "unpaired_preference; prompt_completion ↔ language_modeling; any prompted kind to prompt_only")


def convert_records(records: Iterable[Record], kind: str, strategy: PairStrategy = "all") -> Iterator[Record]:
    """Stream ``convert_record`` over ``records``."""
    for record in records:
        yield from convert_record(record, kind, strategy)


_HH_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")


def parse_dialogue(text: str) -> list[Message]:
    """``"\\n\\nHuman: …\\n\\nAssistant: …"`` → messages (HH-RLHF's transcript form)."""
    parts = _HH_TURN.split(text)
    if parts[0].strip():
        raise ValueError("expected the dialogue to start with '\\n\\nHuman:'")
    roles = {"Human": "user", "Assistant": "assistant"}
    return [Message(role=roles[parts[k]], content=parts[k + 1])  # type: ignore[arg-type]
            for k in range(1, len(parts) - 1, 2)]
