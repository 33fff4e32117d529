"""Requests and results that every model backend speaks.

A prompt is either a plain string or a list of chat messages. Chat prompts are rendered with the model's own
chat template; plain strings are sent as raw completions (base models) unless the request asks for chat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Message = dict[str, str]
"""One chat message: ``{"role": "system"|"user"|"assistant", "content": str}``."""

Prompt = str | list[Message]


def as_messages(prompt: Prompt, system: str | None = None) -> list[Message]:
    """Return ``prompt`` as chat messages, with ``system`` replacing any system message when given."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [dict(m) for m in prompt]
    if system is not None:
        messages = [m for m in messages if m.get("role") != "system"]
        messages.insert(0, {"role": "system", "content": system})
    return messages


@dataclass(frozen=True)
class GenerateRequest:
    """Ask the model to continue ``prompt``."""

    prompt: Prompt
    """A raw string or chat messages."""
    max_tokens: int = 256
    """Upper bound on generated tokens."""
    temperature: float = 0.0
    """0 means greedy decoding."""
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    """Generation stops before the first of these strings."""
    seed: int = 0
    """Sampling seed; part of the cache key."""
    chat: bool | None = None
    """Render with the chat template. None: chat for message lists and for strings on chat models."""

    def params(self) -> dict[str, Any]:
        """Every field but the prompt: what besides the rendered prompt changes an answer."""
        out = asdict(self)
        out.pop("prompt")
        out["stop"] = list(self.stop)
        return out


@dataclass
class GenerateResult:
    """A generation, or the error that prevented it."""

    text: str = ""
    n_tokens: int = 0
    """Generated tokens (as the backend counts them)."""
    finish_reason: str = "stop"
    """``stop`` (EOS or a stop string), ``length`` (hit max_tokens) or ``error``."""
    error: str | None = None
    """Why no text came back; errors are counted, never cached."""
    cached: bool = False


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score ``continuation`` after ``context``.

    A chat context (messages) is rendered with the chat template and the generation prompt, so the
    continuation is scored as the start of the assistant's reply.
    """

    context: Prompt
    continuation: str
    chat: bool | None = None

    def params(self) -> dict[str, Any]:
        return {"continuation": self.continuation, "chat": self.chat}


@dataclass
class LoglikelihoodResult:
    """Summed log-probability of the continuation's tokens given the context."""

    logprob: float = float("nan")
    n_tokens: int = 0
    """Tokens in the continuation."""
    is_greedy: bool = False
    """True when every continuation token is the argmax at its position."""
    error: str | None = None
    cached: bool = False


@dataclass
class ModelInfo:
    """What ``alignlab models info`` shows."""

    spec: str
    backend: str
    fingerprint: str
    parameters: int | None = None
    context_length: int | None = None
    chat_template: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


RequestKind = Literal["generate", "loglikelihood"]
