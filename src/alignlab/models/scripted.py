"""``scripted:NAME``: a real backend whose answers and log-likelihoods come from a script, for tests and examples
(like Inspect's ``mockllm``). Nothing is downloaded or run.

    from alignlab.testing import ScriptedAPI, scripted_models  # or alignlab.models.scripted
    judge = ScriptedAPI(reply=lambda user: "Rating: [[7]]")              # from a function of the user message
    policy = ScriptedAPI(reply={"weather": "Sunny.", "": "I don't know."}) # first key found in the message wins
    letters = ScriptedAPI(logprob={"A": -0.1, "B": -2.0})                  # continuation (stripped) → logprob
    with scripted_models(judge=judge, policy=policy):                     # load_model("scripted:judge") → judge
        ...

A reply that raises ``RuntimeError`` becomes an error result, as a failing server's would. Every request is kept
(``requests``, ``prompts``, ``batches``, ``loglikelihood_requests``) so a test can check what the model was asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from alignlab.errors import ModelSpecError
from alignlab.models._api import ModelAPI
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    Prompt,
)

Reply = str | Mapping[str, str] | Callable[[str], str]
LogProb = Mapping[str, float] | Callable[[LoglikelihoodRequest], "float | tuple[float, int]"]

_NAMED: dict[str, ScriptedAPI] = {}


def user_text(prompt: Prompt) -> str:
    """The last user message of a chat prompt, or the string itself."""
    if isinstance(prompt, str):
        return prompt
    return next((str(m.get("content", "")) for m in reversed(prompt) if m.get("role") == "user"), "")


class ScriptedAPI(ModelAPI):
    """Answers from ``reply`` (text, substring table or function of the user message) or ``reply_to`` (function
    of the whole ``GenerateRequest``); scores continuations from ``logprob`` (table by stripped continuation, with
    ``default_logprob`` for the rest, or a function of the request returning a logprob or (logprob, tokens))."""

    backend = "scripted"

    def __init__(self, reply: Reply | None = None, *, reply_to: Callable[[GenerateRequest], str] | None = None,
                 logprob: LogProb | None = None, default_logprob: float | None = None, spec: str = "scripted",
                 is_chat: bool = True) -> None:
        self.reply, self.reply_to, self.logprob, self.default_logprob = reply, reply_to, logprob, default_logprob
        self.spec, self.is_chat = spec, is_chat
        self.requests: list[GenerateRequest] = []
        self.batches: list[int] = []
        """The number of requests in each ``generate`` call."""
        self.loglikelihood_requests: list[LoglikelihoodRequest] = []

    @property
    def prompts(self) -> list[Prompt]:
        """The prompts of every generate request, in order."""
        return [r.prompt for r in self.requests]

    def fingerprint(self) -> str:
        return self.spec

    def _answer(self, request: GenerateRequest) -> str:
        if self.reply_to is not None:
            return self.reply_to(request)
        text = user_text(request.prompt)
        if isinstance(self.reply, str):
            return self.reply
        if isinstance(self.reply, Mapping):
            hit = next((v for k, v in self.reply.items() if k in text), None)
            if hit is None:
                raise RuntimeError(f"no scripted reply for {text[:60]!r}")
            return hit
        if self.reply is None:
            raise AssertionError(f"{self.spec}: this scripted model does not generate")
        return self.reply(text)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        self.batches.append(len(requests))
        out = []
        for r in requests:
            self.requests.append(r)
            try:
                out.append(GenerateResult(text=self._answer(r)))
            except RuntimeError as exc:
                out.append(GenerateResult(error=str(exc), finish_reason="error"))
        return out

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        if self.logprob is None:
            return super().loglikelihood(requests)
        out = []
        for r in requests:
            self.loglikelihood_requests.append(r)
            if isinstance(self.logprob, Mapping):
                key = r.continuation.strip()
                if key not in self.logprob and self.default_logprob is None:
                    raise KeyError(f"{self.spec}: no scripted logprob for {key!r}")
                value: float | tuple[float, int] = self.logprob.get(key, self.default_logprob)  # type: ignore[arg-type]
            else:
                value = self.logprob(r)
            lp, n = value if isinstance(value, tuple) else (value, 1)
            out.append(LoglikelihoodResult(logprob=lp, n_tokens=n))
        return out


@contextmanager
def scripted_models(**apis: ScriptedAPI) -> Iterator[dict[str, ScriptedAPI]]:
    """Make ``scripted:NAME`` open ``apis[NAME]`` (for code that opens models by spec) inside the block."""
    for name, api in apis.items():
        api.spec = f"scripted:{name}"
    _NAMED.update(apis)
    try:
        yield apis
    finally:
        for name in apis:
            _NAMED.pop(name, None)


def create(target: str, **options: Any) -> ScriptedAPI:
    """``scripted:NAME`` (one given to ``scripted_models``) or ``scripted:TEXT`` for a model that always says it."""
    if options:
        raise ModelSpecError(f"scripted: takes no options ({', '.join(options)})")
    return _NAMED.get(target) or ScriptedAPI(reply=target, spec=f"scripted:{target}")

