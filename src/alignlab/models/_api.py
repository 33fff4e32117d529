"""The backend protocol (``ModelAPI``) and the caller-facing ``Model`` that adds caching and the system prompt.

Backends implement one batched ``generate`` and one batched ``loglikelihood``; everything shared (cache lookups,
counting model calls, system-prompt override) lives in ``Model`` so a new backend stays small.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from alignlab.errors import LoglikelihoodUnsupported
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    Prompt,
    as_messages,
)
from alignlab.models.provenance import ROLES, Provenance

if TYPE_CHECKING:
    from alignlab.models._cache import ResponseCache


class ModelAPI(ABC):
    """What a backend implements. Results come back in request order, one per request."""

    backend: str = "?"
    spec: str = "?"
    is_chat: bool = True
    """Whether plain-string prompts are wrapped as a user message by default."""

    @abstractmethod
    def fingerprint(self) -> str:
        """Identity of the weights (file hash) or of the served model (model id + URL)."""

    def render(self, prompt: Prompt, chat: bool | None) -> str:
        """The exact text (or message JSON) the model sees; part of the cache key."""
        if self.use_chat(prompt, chat):
            return json.dumps(as_messages(prompt), ensure_ascii=False)
        return prompt if isinstance(prompt, str) else json.dumps(prompt, ensure_ascii=False)

    def use_chat(self, prompt: Prompt, chat: bool | None) -> bool:
        if chat is not None:
            return chat
        return isinstance(prompt, list) or self.is_chat

    @abstractmethod
    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        """Generate for every request; a failure becomes a result with ``error`` set, not an exception."""

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        raise LoglikelihoodUnsupported(
            f"backend {self.backend!r} cannot score continuations",
            hint="suites that score options by log-likelihood (multiple choice, Likert surveys, preference "
            "agreement) need hf:, gguf:, default, vllm:, or an OpenAI-compatible server that returns "
            "prompt logprobs",
        )

    def info(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend=self.backend, fingerprint=self.fingerprint())

    def provenance(self) -> Provenance:
        """What runs each role (engine, library versions and build, device, dtype, threads); see provenance."""
        return {role: {"engine": self.backend} for role in ROLES}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release processes, clients or GPU memory."""


class Model:
    """A backend plus the response cache. This is what suites and the runner call."""

    def __init__(self, api: ModelAPI, cache: ResponseCache | None = None, system: str | None = None) -> None:
        self.api = api
        self.cache = cache
        self.system = system
        self.model_calls = 0
        """Requests that reached the backend (cache misses); tests use it to prove a warm run calls nothing."""

    @property
    def spec(self) -> str:
        return self.api.spec

    def fingerprint(self) -> str:
        return self.api.fingerprint()

    def info(self) -> ModelInfo:
        return self.api.info()

    def provenance(self) -> Provenance:
        return self.api.provenance()

    def _with_system(self, prompt: Prompt, chat: bool | None) -> Prompt:
        if self.system is None or not self.api.use_chat(prompt, chat):
            return prompt
        return as_messages(prompt, self.system)

    def _key(self, kind: str, prompt: Prompt, chat: bool | None, params: dict) -> str:
        assert self.cache is not None
        return self.cache.key(
            fingerprint=self.api.fingerprint(),
            backend=self.api.backend,
            kind=kind,
            rendered=self.api.render(prompt, chat),
            params=params,
        )

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        reqs = [
            GenerateRequest(**{**r.__dict__, "prompt": self._with_system(r.prompt, r.chat)}) for r in requests
        ]
        return self._cached(
            "generate", reqs, self.api.generate, GenerateResult, lambda r: (r.prompt, r.chat, r.params())
        )

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        reqs = [
            LoglikelihoodRequest(self._with_system(r.context, r.chat), r.continuation, r.chat) for r in requests
        ]
        return self._cached(
            "loglikelihood", reqs, self.api.loglikelihood, LoglikelihoodResult,
            lambda r: (r.context, r.chat, r.params()),
        )

    def _cached(self, kind, reqs, call, result_cls, parts):  # noqa: ANN001 - two kinds share this path
        keys: list[str | None] = [None] * len(reqs)
        results: list = [None] * len(reqs)
        if self.cache is not None:
            keys = [self._key(kind, *parts(r)) for r in reqs]
            for i, hit in enumerate(self.cache.get_many(keys)):
                if hit is not None:
                    results[i] = result_cls(**hit, cached=True)
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            self.model_calls += len(todo)
            fresh = call([reqs[i] for i in todo])
            if len(fresh) != len(todo):
                raise RuntimeError(f"{self.api.backend} returned {len(fresh)} results for {len(todo)} requests")
            store = {}
            for i, res in zip(todo, fresh, strict=True):
                results[i] = res
                if self.cache is not None and res.error is None:
                    store[keys[i]] = {k: v for k, v in res.__dict__.items() if k != "cached"}
            if store and self.cache is not None:
                self.cache.put_many(store)
        return results

    def close(self) -> None:
        self.api.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
