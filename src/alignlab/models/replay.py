"""``responses:PATH``: a backend that answers ``generate`` from recorded responses instead of running a model.

The file is JSON lines with ``prompt`` and ``response`` (``key`` or ``id`` optional), e.g. another model's
completions. A request is answered by the response whose prompt is exactly the request's text (the string, or the
last user message of a chat prompt); a request with none is an error naming the prompt, never a guess.
``alignlab score`` joins responses to a suite's samples first (by key, else by exact prompt) and hands this
backend the resulting table. It cannot score continuations, so it serves generation suites only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.data import json_lines
from alignlab.errors import DataError, ModelSpecError
from alignlab.files import read_bytes, read_text
from alignlab.models._api import ModelAPI
from alignlab.models._types import GenerateRequest, GenerateResult, Prompt


@dataclass(frozen=True)
class RecordedResponse:
    """One row of a responses file."""

    line: int
    prompt: str | None
    response: str
    key: str | None
    """The row's ``key`` or ``id`` as a string (sample ids are strings), or None."""


def read_responses(path: str | Path) -> list[RecordedResponse]:
    """Rows with ``response`` and ``prompt`` (``key``/``id`` may stand in for the prompt); errors name file:line."""
    path = Path(path)
    rows = []
    for n, row in json_lines(read_text(path), str(path)):
        key = row.get("key", row.get("id"))
        if not isinstance(row.get("response"), str):
            raise DataError(f"{path}:{n}: field 'response' must be a string")
        if "prompt" in row and not isinstance(row["prompt"], str):
            raise DataError(f"{path}:{n}: field 'prompt' must be a string")
        if row.get("prompt") is None and key is None:
            raise DataError(f"{path}:{n}: a response needs a 'prompt' (or a 'key' naming its sample)")
        rows.append(RecordedResponse(n, row.get("prompt"), row["response"], None if key is None else str(key)))
    if not rows:
        raise DataError(f"{path}: no responses in the file")
    return rows


def prompt_text(prompt: Prompt) -> str:
    """What a recorded prompt is compared with: the string, or the last user message of a chat prompt."""
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def file_fingerprint(path: str | Path) -> str:
    return "sha256:" + hashlib.sha256(read_bytes(path)).hexdigest()


class ReplayAPI(ModelAPI):
    """Answers each request with the recorded response for its prompt text (see the module docstring)."""

    backend = "responses"
    is_chat = False

    def __init__(self, table: Mapping[str, str], *, source: str, fingerprint: str) -> None:
        self.table = dict(table)
        self.source = source
        self._fingerprint = fingerprint

    def fingerprint(self) -> str:
        return self._fingerprint

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        out = []
        for r in requests:
            text = prompt_text(r.prompt)
            if text not in self.table:
                shown = text if len(text) <= 80 else text[:77] + "..."
                raise DataError(f"{self.source}: no recorded response for the prompt {shown!r}",
                                hint="responses are matched by exact prompt text; `alignlab score SUITE "
                                     "--responses FILE` also joins by key and can score a subset")
            out.append(GenerateResult(text=self.table[text], finish_reason="stop"))
        return out


def create(target: str, **options: Any) -> ReplayAPI:
    """``responses:PATH`` → a replay of that file (its rows by exact prompt text)."""
    if options:
        raise ModelSpecError(f"responses: takes no options ({', '.join(options)})")
    path = Path(target).expanduser()
    rows = read_responses(path)
    table: dict[str, str] = {}
    for row in rows:
        if row.prompt is not None:
            table[row.prompt] = row.response  # a repeated prompt: the last row wins
    return ReplayAPI(table, source=str(path), fingerprint=file_fingerprint(path))
