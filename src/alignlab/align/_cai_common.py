"""Shared pieces of the constitutional methods: prompt items (id, messages, tags) and cleaning of model text."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignlab.errors import DataError
from alignlab.models import Message, as_messages


@dataclass(frozen=True)
class PromptItem:
    """A prompt to align on: its id, its chat messages and the tags that choose applicable principles."""

    id: str
    messages: list[Message]
    tags: tuple[str, ...] = ()


def prompt_items(prompts: Sequence[Any]) -> list[PromptItem]:
    """Strings, message lists, or mappings with ``prompt`` (+ optional ``id``, ``tags``, ``label``, ``category``,
    as in ``SafetyPrompt`` records) → items. ``label`` and ``category`` become tags (``unsafe``, ``weapons``)."""
    items, seen = [], set()
    for n, p in enumerate(prompts):
        if hasattr(p, "model_dump"):
            p = p.model_dump(exclude_none=True)
        if isinstance(p, Mapping):
            if "prompt" not in p:
                raise DataError(f"prompt {n}: a mapping needs a 'prompt' field (got {', '.join(map(str, p))})")
            tags = [*(p.get("tags") or ()), *(str(p[k]) for k in ("label", "category") if p.get(k))]
            pid, prompt = str(p.get("id", n)), p["prompt"]
        else:
            pid, prompt, tags = str(n), p, []
        if not isinstance(prompt, str | list) or not prompt:
            raise DataError(f"prompt {pid}: expected a non-empty string or a list of messages")
        if pid in seen:
            raise DataError(f"prompt {pid}: duplicate id")
        seen.add(pid)
        items.append(PromptItem(pid, as_messages(prompt), tuple(dict.fromkeys(tags))))
    return items


def user_text(messages: Sequence[Message]) -> str:
    """The last user message (what the prompt asks)."""
    for m in reversed(messages):
        if m.get("role") == "user":
            return str(m.get("content", ""))
    return ""


_LABEL = re.compile(
    r"^\s*(?:[*_#>\s]*)(?:(?:here\s+is\s+)?(?:the|my|a)\s+)?"
    r"(?:revised|rewritten|new|improved|updated|final)?\s*(?:revision|response|reply|answer|version)"
    r"\s*(?:[*_]*)\s*[:：]\s*(?:[*_]*)\s*", re.I)


def strip_label(text: str) -> str:
    """``"Revision: ..."``, ``"**Revised response:** ..."`` → ``"..."``; also surrounding quotes."""
    out = text.strip()
    for _ in range(3):  # "Revision: Revised reply: ..." happens
        new = _LABEL.sub("", out, count=1).strip()
        if new == out:
            break
        out = new
    if len(out) >= 2 and out[0] == out[-1] and out[0] in "\"'":
        out = out[1:-1].strip()
    return out


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def similarity(a: str, b: str) -> float:
    """difflib's ratio of the normalised texts (0 = nothing shared, 1 = the same words)."""
    return difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


def echoes(text: str, sources: Sequence[str], threshold: float = 0.8) -> bool:
    """True when ``text`` is (nearly) one of ``sources`` or just repeats one — a model parroting its instruction.

    Compares normalised text (case, punctuation and spacing ignored) by containment and by difflib's ratio.
    """
    t = _norm(text)
    if not t:
        return False
    for s in sources:
        s = _norm(s)
        if not s:
            continue
        if t in s or (s in t and len(s) >= 0.7 * len(t)):
            return True
        if difflib.SequenceMatcher(None, t, s, autojunk=False).ratio() >= threshold:
            return True
    return False
