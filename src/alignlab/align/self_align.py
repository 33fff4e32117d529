"""Principle-driven self-alignment (SELF-ALIGN, Sun et al., 2023): principles and in-context exemplars make the
model answer well, and the answers become SFT data *without* the principles in the prompt, so the fine-tuned model
behaves that way unprompted.

The in-context prompt is: a system message listing the principles (``statement`` of each), then each exemplar as a
user turn and an assistant turn ``Thought: ... / Answer: ...``, then the user's prompt. The model's ``Thought``
is stripped from the answer (the "internal thoughts" of the paper). Answers that come back empty, with a thought
but no answer, or copying an exemplar's answer, are dropped and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alignlab.align._cai_common import prompt_items, similarity
from alignlab.errors import AlignlabError
from alignlab.files import read_text
from alignlab.located_yaml import line_of, load_yaml
from alignlab.models import GenerateRequest, Message, Model
from alignlab.targets.constitution import Constitution, load_constitution

PROBLEMS = ("error", "empty", "thought_only", "copied_exemplar")

_INTRO = ("You are a helpful, honest and harmless AI assistant. Before answering, think about which of these "
          "principles apply, write that as one line starting with 'Thought:', then write your reply after "
          "'Answer:'.\n\nPrinciples:\n")


class Exemplar(BaseModel):
    """One in-context demonstration: a request, the principles it engages, a short thought, the answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prompt: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    thought: str = ""
    principles: tuple[str, ...] = ()
    """Ids of the principles the thought refers to (documentation; not checked against a constitution)."""


def load_exemplars(path: str | Path | None = None) -> list[Exemplar]:
    """Exemplars from a YAML file with an ``exemplars:`` list (alignlab's own five when ``path`` is None)."""
    if path is None:
        where = "self_align_exemplars.yaml"
        text = resources.files("alignlab.targets").joinpath(where).read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = read_text(path)
        except OSError as exc:
            raise AlignlabError(f"cannot read exemplars {path}: {exc.strerror}") from None
    raw, node = load_yaml(text, where)
    items = raw.get("exemplars") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise AlignlabError(f"{where}:1: expected a non-empty list under 'exemplars'")
    out = []
    loc0 = ("exemplars",) if isinstance(raw, dict) else ()
    for i, item in enumerate(items):
        try:
            out.append(Exemplar.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = (*loc0, i, *err["loc"])
            raise AlignlabError(f"{where}:{line_of(node, loc) or 1}: exemplar {i}: {'.'.join(map(str, err['loc']))}: "
                                f"{err['msg']}") from None
    return out


def self_align_prompt(messages: Sequence[Message], constitution: Constitution,
                      exemplars: Sequence[Exemplar]) -> list[Message]:
    """The in-context prompt: principles (system), exemplar turns, then the user's own messages."""
    rules = "\n".join(f"{i}. {p.name}: {p.rule}" for i, p in enumerate(constitution.principles, 1))
    out: list[Message] = [{"role": "system", "content": _INTRO + rules}]
    for ex in exemplars:
        out.append({"role": "user", "content": ex.prompt})
        thought = f"Thought: {ex.thought}\n" if ex.thought else ""
        out.append({"role": "assistant", "content": f"{thought}Answer: {ex.answer}"})
    out.extend(dict(m) for m in messages if m.get("role") != "system")
    return out


_ANSWER = re.compile(r"(?:^|\n)\s*\**answer\**\s*:\s*\**\s*", re.I)
_THOUGHT = re.compile(r"^\s*\**thought\**\s*:", re.I)


def extract_answer(text: str) -> tuple[str, str | None]:
    """(answer, problem): the text after ``Answer:``; without that label, the text less a leading ``Thought:``
    paragraph; ``thought_only`` when only a thought is left."""
    m = _ANSWER.search(text)
    if m:
        answer = text[m.end():].strip()
    elif _THOUGHT.match(text):
        parts = re.split(r"\n\s*\n|\n", text.strip(), maxsplit=1)
        answer = parts[1].strip() if len(parts) > 1 else ""
        if not answer:
            return "", "thought_only"
    else:
        answer = text.strip()
    # The model may go on to invent the next user turn, exemplar style.
    answer = re.split(r"\n\s*(?:user|User|USER)\s*:", answer, maxsplit=1)[0].strip()
    return answer, (None if answer else "empty")


@dataclass
class SelfAlignRecord:
    """One prompt: the in-context prompt the model saw, its raw output, and the answer kept for training."""

    id: str
    prompt: list[Message]
    """The user's prompt alone — what the SFT row contains."""
    tags: tuple[str, ...]
    context: list[Message]
    """The full in-context prompt (principles + exemplars + prompt), for audit."""
    raw: str
    answer: str
    problem: str | None = None

    def sft_row(self) -> dict[str, Any]:
        """TRL conversational prompt/completion WITHOUT the principles and exemplars."""
        return {"prompt": self.prompt, "completion": [{"role": "assistant", "content": self.answer}], "id": self.id}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tags"] = list(self.tags)
        return out


def self_align(policy: Model, prompts: Sequence[Any], constitution: Constitution | str = "hhh", *,
               exemplars: Sequence[Exemplar] | str | Path | None = None, n_exemplars: int | None = None,
               max_tokens: int = 256, seed: int = 0, temperature: float = 0.0) -> list[SelfAlignRecord]:
    """Answer every prompt with the principles and ``n_exemplars`` exemplars (all by default) in context."""
    constitution = load_constitution(constitution)
    shots = list(exemplars) if isinstance(exemplars, list | tuple) else load_exemplars(exemplars)
    shots = shots[:n_exemplars] if n_exemplars is not None else shots
    items = prompt_items(prompts)
    contexts = [self_align_prompt(it.messages, constitution, shots) for it in items]
    reqs = [GenerateRequest(c, max_tokens=max_tokens, temperature=temperature, seed=seed) for c in contexts]
    out = []
    for it, ctx, res in zip(items, contexts, policy.generate(reqs) if reqs else [], strict=True):
        if res.error is not None:
            out.append(SelfAlignRecord(it.id, it.messages, it.tags, ctx, "", "", "error"))
            continue
        answer, problem = extract_answer(res.text)
        if problem is None and any(similarity(answer, ex.answer) >= 0.9 for ex in shots):
            problem = "copied_exemplar"
        out.append(SelfAlignRecord(it.id, it.messages, it.tags, ctx, res.text, answer, problem))
    return out


def self_align_sft_rows(records: Sequence[SelfAlignRecord]) -> list[dict[str, Any]]:
    """SFT rows of the usable answers (records with a problem are left out)."""
    return [r.sft_row() for r in records if r.problem is None]


def self_align_stats(records: Sequence[SelfAlignRecord]) -> dict[str, Any]:
    problems = Counter(r.problem for r in records if r.problem)
    return {"prompts": len(records), "kept": sum(r.problem is None for r in records),
            "problems": {k: problems.get(k, 0) for k in PROBLEMS}}
