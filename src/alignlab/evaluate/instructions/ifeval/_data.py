"""IFEval's prompt format (key, prompt, instruction_id_list, kwargs).

Its responses format (prompt, response) is read by the ``responses:`` replay; ``alignlab score ifeval`` joins
responses to prompts (``alignlab.evaluate.replay``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    """IFEval prompts from its input_data.jsonl, or from ``hf://`` (the hub copy, through the ``ifeval`` adapter)."""
    if str(path).startswith("hf://"):
        from alignlab.data import iter_records

        # The adapter drops the hub copy's null arguments; re-check every row as the file's rows are checked.
        text = "\n".join(json.dumps(r.model_dump(include={"key", "prompt", "instruction_id_list", "kwargs"}))
                          for r in iter_records(str(path), "ifeval"))
        prompts = parse_prompts(text, str(path))
        if not prompts:
            raise DataError(f"{path}: no prompts")
        return prompts
    path = Path(path)
    prompts = parse_prompts(read_text(path), str(path))
    if not prompts:
        raise DataError(f"{path}: no prompts", hint="the file is empty")
    return prompts
