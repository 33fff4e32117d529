"""A scripted backend for tests of judges and generation suites: a real ModelAPI whose answers come from a
function of the last user message (a RuntimeError becomes an error result, as a failing server's would)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alignlab.models import GenerateRequest, GenerateResult, ModelAPI


class Scripted(ModelAPI):
    """Answers ``reply(last user message)``; records every prompt it was sent in ``prompts``."""

    backend = "scripted"

    def __init__(self, reply: Callable[[str], str], spec: str = "scripted") -> None:
        self.reply, self.spec, self.prompts = reply, spec, []

    def fingerprint(self) -> str:
        return self.spec

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        out = []
        for r in requests:
            user = r.prompt if isinstance(r.prompt, str) else r.prompt[-1]["content"]
            self.prompts.append(r.prompt)
            try:
                out.append(GenerateResult(text=self.reply(user)))
            except RuntimeError as exc:
                out.append(GenerateResult(error=str(exc), finish_reason="error"))
        return out
