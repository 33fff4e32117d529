"""Scripted models for the constitutional-method tests: a chat backend that sees whole conversations, and one that
also scores continuations (log-prob mode). Both extend tests/scripted.py's ``Scripted``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alignlab.models import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    Message,
    as_messages,
)
from scripted import Scripted


class ScriptedChat(Scripted):
    """Answers ``reply(messages)`` (the whole conversation); ``batches`` records the size of every generate call."""

    def __init__(self, reply: Callable[[list[Message]], str], spec: str = "scripted-chat") -> None:
        super().__init__(lambda _: "", spec)
        self.chat_reply = reply
        self.batches: list[int] = []

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        self.batches.append(len(requests))
        out = []
        for r in requests:
            msgs = as_messages(r.prompt)
            self.prompts.append(msgs)
            try:
                out.append(GenerateResult(text=self.chat_reply(msgs)))
            except RuntimeError as exc:
                out.append(GenerateResult(error=str(exc), finish_reason="error"))
        return out


class ScriptedScorer(ScriptedChat):
    """Also scores continuations: ``score(messages, continuation) -> logprob``."""

    def __init__(self, score: Callable[[list[Message], str], float], spec: str = "scripted-scorer") -> None:
        super().__init__(lambda _: "", spec)
        self.score = score
        self.scored: list[tuple[list[Message], str]] = []

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        out = []
        for r in requests:
            msgs = as_messages(r.context)
            self.scored.append((msgs, r.continuation))
            out.append(LoglikelihoodResult(logprob=self.score(msgs, r.continuation), n_tokens=1))
        return out
