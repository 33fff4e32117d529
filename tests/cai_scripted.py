"""Scripted models for the constitutional-method tests, on ``alignlab.testing.ScriptedAPI``: a chat model that sees
whole conversations, and one that also scores continuations (log-prob mode)."""

from __future__ import annotations

from collections.abc import Callable

from alignlab.models import Message, as_messages
from alignlab.testing import ScriptedAPI


def ScriptedChat(reply: Callable[[list[Message]], str], spec: str = "scripted-chat") -> ScriptedAPI:  # noqa: N802
    """Answers ``reply(messages)`` (the whole conversation)."""
    return ScriptedAPI(reply_to=lambda r: reply(as_messages(r.prompt)), spec=spec)


def ScriptedScorer(score: Callable[[list[Message], str], float], spec: str = "scripted-scorer",  # noqa: N802
                   reply: Callable[[list[Message]], str] = lambda _: "") -> ScriptedAPI:
    """Also scores continuations: ``score(messages, continuation) -> logprob``."""
    return ScriptedAPI(reply_to=lambda r: reply(as_messages(r.prompt)),
                       logprob=lambda r: score(as_messages(r.context), r.continuation), spec=spec)


def scored(api: ScriptedAPI) -> list[tuple[list[Message], str]]:
    """(conversation, continuation) of every continuation the model scored."""
    return [(as_messages(r.context), r.continuation) for r in api.loglikelihood_requests]
