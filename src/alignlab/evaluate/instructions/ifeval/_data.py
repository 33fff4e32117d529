"""IFEval's two file formats: prompts (key, prompt, instruction_id_list, kwargs) and responses (prompt, response).

Responses are joined to prompts by prompt text, as the reference does. A prompt whose text has no response falls
back to the response with the same ``key`` (when the responses carry keys) or else on the same line (the published
files are in the same order); every such join is reported, because it means the two files disagree (IFEval's own
key 2785 was reworded after its GPT-4 responses were published).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.data import json_lines
from alignlab.errors import DataError
from alignlab.evaluate.instructions.ifeval._registry import get_instruction
from alignlab.files import read_text


@dataclass
class IFEvalPrompt:
    """One prompt with its verifiable instructions."""

    key: int | str
    prompt: str
    instruction_id_list: list[str]
    kwargs: list[dict[str, Any]]
    """One dict per instruction, validated and with nulls dropped."""


@dataclass
class Joined:
    """Prompts with their responses (None where none was found) and what the join had to do."""

    pairs: list[tuple[IFEvalPrompt, str | None]]
    by_text: int = 0
    fallbacks: list[dict[str, Any]] = field(default_factory=list)
    missing: list[int | str] = field(default_factory=list)
    unused_responses: int = 0


def parse_prompts(text: str, where: str = "<prompts>") -> list[IFEvalPrompt]:
    """Parse and validate IFEval's prompt format; errors name ``where:line: field``."""
    out, seen = [], set()
    for n, row in json_lines(text, where):
        for name in ("key", "prompt", "instruction_id_list", "kwargs"):
            if name not in row:
                raise DataError(f"{where}:{n}: missing field {name!r}")
        ids, kwargs = row["instruction_id_list"], row["kwargs"]
        if not isinstance(row["prompt"], str) or not row["prompt"].strip():
            raise DataError(f"{where}:{n}: field 'prompt' must be a non-empty string")
        if not isinstance(ids, list) or not ids or not isinstance(kwargs, list) or len(kwargs) != len(ids):
            raise DataError(f"{where}:{n}: 'instruction_id_list' and 'kwargs' must be lists of the same length")
        if row["key"] in seen:
            raise DataError(f"{where}:{n}: duplicate key {row['key']!r}")
        seen.add(row["key"])
        clean = []
        for i, (inst_id, kw) in enumerate(zip(ids, kwargs, strict=True)):
            try:
                clean.append(get_instruction(inst_id).validate(kw))
            except ValueError as exc:
                raise DataError(f"{where}:{n}: instruction {i} ({inst_id}): {exc}") from None
        out.append(IFEvalPrompt(row["key"], row["prompt"], list(ids), clean))
    return out


def read_prompts(path: str | Path) -> list[IFEvalPrompt]:
    path = Path(path)
    prompts = parse_prompts(read_text(path), str(path))
    if not prompts:
        raise DataError(f"{path}: no prompts", hint="the file is empty")
    return prompts


def read_responses(path: str | Path) -> list[dict[str, Any]]:
    """Rows with ``prompt`` and ``response`` (``key`` optional)."""
    path = Path(path)
    rows = []
    for n, row in json_lines(read_text(path), str(path)):
        for name in ("prompt", "response"):
            if not isinstance(row.get(name), str):
                raise DataError(f"{path}:{n}: field {name!r} must be a string")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no responses", hint="the file is empty")
    return rows


def join(prompts: list[IFEvalPrompt], responses: list[dict[str, Any]]) -> Joined:
    """Match each prompt to its response: by text, else by key, else by line (see the module docstring)."""
    by_text = {r["prompt"]: i for i, r in enumerate(responses)}  # a repeated prompt: the last one wins, as upstream
    by_key = {r["key"]: i for i, r in enumerate(responses) if "key" in r}
    used: set[int] = set()
    matched: list[int | None] = []
    for p in prompts:
        i = by_text.get(p.prompt)
        matched.append(i)
        if i is not None:
            used.add(i)
    result = Joined(pairs=[])
    for pos, (p, i) in enumerate(zip(prompts, matched, strict=True)):
        how = "text"
        if i is None:
            cand, how = by_key.get(p.key), "key"
            if cand is None and not by_key and pos < len(responses):
                cand, how = pos, "line"
            if cand is not None and cand not in used:
                i = cand
                used.add(i)
                other = responses[i]["prompt"]
                result.fallbacks.append({
                    "key": p.key, "by": how, "response_line": i + 1,
                    "similarity": round(difflib.SequenceMatcher(None, p.prompt, other).ratio(), 3),
                    "prompt": p.prompt, "response_prompt": other,
                })
            else:
                result.missing.append(p.key)
        else:
            result.by_text += 1
        result.pairs.append((p, None if i is None else responses[i]["response"]))
    result.unused_responses = len(responses) - len(used)
    return result
