"""Votes as preference pairs in TRL's ``prompt``/``chosen``/``rejected`` schema (what ``alignlab align dpo`` and
``alignlab align reward`` read through ``alignlab.data``).

One row per vote — an annotator's latest vote on an item (prompt and pair of models), as the leaderboard counts. A
vote for A or B becomes ``chosen`` = the winner's response. Ties are dropped by default; with
``ties="both"`` a tie becomes two rows, one per direction, with ``margin`` 0 (the pair then pulls the two rewards
together rather than apart). "Both bad" votes are always dropped: neither response is one to prefer. A prompt stored
as chat messages is exported in the conversational form (prompt = messages, chosen/rejected = one assistant message).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from alignlab.arena._models import Annotator, Prompt, Response, Vote
from alignlab.arena._stats import latest_votes

TiePolicy = Literal["drop", "both"]


def _completion(text: str, conversational: bool) -> Any:
    return [{"role": "assistant", "content": text}] if conversational else text


def preference_rows(engine: Engine, ties: TiePolicy = "drop") -> list[dict[str, Any]]:
    """The preference records for every counted vote (see the module docstring for ties and both-bad)."""
    if ties not in ("drop", "both"):
        raise ValueError(f"ties must be 'drop' or 'both', got {ties!r}")
    ra, rb = aliased(Response), aliased(Response)
    q = (select(Vote.id, Vote.annotator_id, Vote.prompt_id, Vote.key, Vote.winner, Vote.reason, Vote.model_a,
                Vote.model_b, Prompt.key.label("pkey"), Prompt.input, ra.text.label("text_a"), rb.text.label("text_b"),
                Annotator.name.label("annotator"))
         .join(Prompt, Prompt.id == Vote.prompt_id).join(ra, ra.id == Vote.response_a_id)
         .join(rb, rb.id == Vote.response_b_id).join(Annotator, Annotator.id == Vote.annotator_id).order_by(Vote.id))
    out = []
    with engine.connect() as conn:
        votes = latest_votes(conn.execute(q).all())  # an annotator's latest vote per item, as the leaderboard
    for v in votes:
            conv = isinstance(v.input, list)
            prompt = v.input if conv or isinstance(v.input, str) else json.dumps(v.input)
            meta = {"prompt_key": v.pkey, "annotator": v.annotator, "winner": v.winner, "reason": v.reason}
            if v.winner in ("model_a", "model_b"):
                a_won = v.winner == "model_a"
                out.append({"id": f"vote-{v.id}", "prompt": prompt,
                            "chosen": _completion(v.text_a if a_won else v.text_b, conv),
                            "rejected": _completion(v.text_b if a_won else v.text_a, conv),
                            "meta": {**meta, "chosen_model": v.model_a if a_won else v.model_b,
                                     "rejected_model": v.model_b if a_won else v.model_a}})
            elif v.winner == "tie" and ties == "both":
                for suffix, (c, r, cm, rm) in (("a", (v.text_a, v.text_b, v.model_a, v.model_b)),
                                              ("b", (v.text_b, v.text_a, v.model_b, v.model_a))):
                    out.append({"id": f"vote-{v.id}-{suffix}", "prompt": prompt, "chosen": _completion(c, conv),
                                "rejected": _completion(r, conv), "margin": 0.0,
                                "meta": {**meta, "chosen_model": cm, "rejected_model": rm}})
    return out


def export_preferences(engine: Engine, path: Path, ties: TiePolicy = "drop") -> int:
    """Write the preference records as JSONL (atomically); returns the number of rows."""
    from alignlab.atomic import write_jsonl_atomic

    rows = preference_rows(engine, ties)
    write_jsonl_atomic(Path(path), rows)
    return len(rows)
