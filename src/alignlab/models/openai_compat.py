"""Any OpenAI-compatible server as a backend: vLLM, TGI, SGLang, Ollama, llama.cpp's server.

Spec: ``openai:MODEL@URL`` or ``openai:MODEL@URL1,URL2,...`` (a fleet serving the same model). Chat prompts go
to ``/v1/chat/completions``, raw prompts to ``/v1/completions``. Requests run concurrently (``concurrency``),
are retried with backoff (``_http_retry``), and each ends as a result or as a result with ``error`` set.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from alignlab.errors import AlignlabError, LoglikelihoodUnsupported, ModelSpecError, ServerUnreachable
from alignlab.models._api import ModelAPI
from alignlab.models._http_retry import AttemptError, Batch, RetryPolicy, Transport
from alignlab.models._openai_parse import NoLogprobs, parse_chat, parse_completion, parse_loglikelihood
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    as_messages,
)
from alignlab.models.provenance import Provenance, server_build

T = TypeVar("T")
Job = Callable[[httpx.AsyncClient, Batch], Awaitable[Any]]
"""One request, ready to run on a client within a batch."""

SPEC_HINT = "openai:MODEL@http://host:port/v1 (several servers: openai:MODEL@URL1,URL2)"
LL_SUITES = "multiple choice by log-likelihood, Likert value surveys, preference agreement"
_TARGET = re.compile(r"^(?P<model>[^@\s]+(?:@[^@\s]+)*?)@(?P<urls>https?://\S+)$")


def normalize_url(url: str) -> str:
    """``http://h:p``, ``http://h:p/`` and ``http://h:p/v1/`` all become ``http://h:p/v1``."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelSpecError(f"not a server URL: {url!r}", hint=SPEC_HINT)
    return url if url.endswith("/v1") else url + "/v1"


def parse_target(target: str) -> tuple[str, list[str]]:
    """``MODEL@URL[,URL...]`` → (model id, normalized URLs without duplicates)."""
    match = _TARGET.match(target.strip())
    if match is None:
        raise ModelSpecError(f"cannot read openai target {target!r}", hint=SPEC_HINT)
    urls = list(dict.fromkeys(normalize_url(u) for u in match["urls"].split(",") if u.strip()))
    if not urls:
        raise ModelSpecError(f"no server URL in {target!r}", hint=SPEC_HINT)
    return match["model"], urls


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # asyncio.run refuses to nest; a worker thread gets its own loop (e.g. in Jupyter or a FastAPI handler).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OpenAIModelAPI(ModelAPI):
    """A model served over the OpenAI HTTP API by one server or a fleet."""

    backend = "openai"

    def __init__(
        self,
        model: str,
        urls: Sequence[str],
        *,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 16,
        max_retries: int = 5,
        timeout: float = 120.0,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        chat: bool = True,
        tokenizer: str | None = None,
    ) -> None:
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise ModelSpecError(
                f"bad options concurrency={concurrency} max_retries={max_retries} timeout={timeout}",
                hint="concurrency >= 1, max_retries >= 0, timeout > 0",
            )
        self.model = model
        self.urls = [normalize_url(u) for u in urls]
        self.spec = f"openai:{model}@{','.join(self.urls)}"
        self.is_chat = chat
        self.concurrency = concurrency
        self.tokenizer_dir = tokenizer
        self._tokenizer: Any = None
        self._ll_supported = False
        # ALIGNLAB_API_KEY first, so alignlab can use a key other than the one the user's shell exports.
        key = os.environ.get("ALIGNLAB_API_KEY") or os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.transport = Transport(
            self.urls,
            headers=headers,
            timeout=float(timeout),
            policy=RetryPolicy(max_retries=max_retries, base=backoff, cap=backoff_cap),
        )

    @property
    def stats(self) -> dict[str, Any]:
        """Attempts, retries, final errors by cause, retry causes and answers per server, since creation."""
        return self.transport.stats.as_dict()

    def fingerprint(self) -> str:
        return f"openai:{self.model}@{','.join(sorted(self.urls))}"

    # ---- generation -------------------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        if not requests:
            return []
        return run_sync(self._gather([self._generate_one_factory(r) for r in requests]))

    def _generate_one_factory(self, req: GenerateRequest) -> Job:
        chat = self.use_chat(req.prompt, req.chat)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": req.seed,
        }
        if req.stop:
            body["stop"] = list(req.stop)
        if chat:
            path, body["messages"] = "/chat/completions", as_messages(req.prompt)
        else:
            path, body["prompt"] = "/completions", self.render(req.prompt, False)
        parse = parse_chat if chat else parse_completion

        async def run(client: httpx.AsyncClient, batch: Batch) -> GenerateResult:
            try:
                return await self.transport.post_json(client, path, body, batch, parse)
            except AttemptError as err:
                self.transport.count_error(err.kind)
                return GenerateResult(error=err.cause(), finish_reason="error")
            except Exception as exc:  # a bug in one request must not lose the others' results
                self.transport.count_error("internal")
                return GenerateResult(error=f"internal: {type(exc).__name__}: {exc}", finish_reason="error")

        return run

    async def _gather(self, jobs: list[Job]) -> list[Any]:
        """Run every job under the concurrency limit on one client; results in job order."""
        batch = Batch()
        limit = asyncio.Semaphore(self.concurrency)

        async def guarded(job: Job, client: httpx.AsyncClient) -> Any:
            async with limit:
                return await job(client, batch)

        async with self.transport.client(self.concurrency) as client:
            return list(await asyncio.gather(*(guarded(j, client) for j in jobs)))

    # ---- log-likelihood ---------------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        """Score continuations from the prompt log-probabilities the server echoes back.

        Raises ``LoglikelihoodUnsupported`` once for the batch when contexts need a chat template we cannot
        render, or when the server returns no prompt log-probabilities.
        """
        if not requests:
            return []
        texts = [(ctx, ctx + r.continuation) for r in requests for ctx in [self._context_text(r)]]
        return run_sync(self._loglikelihood_all(texts))

    def _context_text(self, req: LoglikelihoodRequest) -> str:
        if not self.use_chat(req.context, req.chat):
            assert isinstance(req.context, str)
            return req.context
        if self.tokenizer_dir is None:
            raise LoglikelihoodUnsupported(
                f"{self.spec}: a chat context needs the model's chat template; the server does not expose it",
                hint="pass the option tokenizer=DIR (a local Hugging Face tokenizer of the served model), or "
                "request chat=False / create the model with chat=False",
            )
        if self._tokenizer is None:
            from transformers import AutoTokenizer  # heavy; only for this optional path

            self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_dir)
        return self._tokenizer.apply_chat_template(
            as_messages(req.context), tokenize=False, add_generation_prompt=True
        )

    async def _loglikelihood_all(self, texts: list[tuple[str, str]]) -> list[LoglikelihoodResult]:
        jobs = [self._loglikelihood_one_factory(ctx, full) for ctx, full in texts]
        results: list[LoglikelihoodResult | NoLogprobs] = []
        if not self._ll_supported:
            # Probe with one request so an unsupported server costs one call, not the whole batch.
            results = await self._gather(jobs[:1])
            self._raise_if_unsupported(results)
            jobs = jobs[1:]
        results += await self._gather(jobs)
        self._raise_if_unsupported(results)
        return results  # type: ignore[return-value] - no NoLogprobs left

    def _raise_if_unsupported(self, results: list[Any]) -> None:
        for res in results:
            if isinstance(res, NoLogprobs):
                raise LoglikelihoodUnsupported(
                    f"{self.spec} returned no prompt log-probabilities ({res.why})",
                    hint=f"the suites that need them ({LL_SUITES}) require a server that echoes prompt "
                    "logprobs on /v1/completions (vLLM; llama.cpp's python server started with "
                    "--logits_all true), or a local backend: default, hf:, gguf:, llamacpp:",
                )
        if any(isinstance(r, LoglikelihoodResult) and r.error is None for r in results):
            self._ll_supported = True

    def _loglikelihood_one_factory(self, context: str, full: str) -> Job:
        # max_tokens=1, not 0: llama.cpp reads 0 as "until the context is full". The extra token is ignored.
        body = {
            "model": self.model,
            "prompt": full,
            "max_tokens": 1,
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
        }

        def parse(data: dict[str, Any]) -> LoglikelihoodResult | NoLogprobs:
            return parse_loglikelihood(data, len(context), len(full))

        async def run(client: httpx.AsyncClient, batch: Batch) -> LoglikelihoodResult | NoLogprobs:
            try:
                return await self.transport.post_json(client, "/completions", body, batch, parse)
            except AttemptError as err:
                if err.status in (400, 422) and re.search(r"logprob|echo", err.detail, re.I):
                    return NoLogprobs(f"the server refused: {err.detail}")
                self.transport.count_error(err.kind)
                return LoglikelihoodResult(error=err.cause())
            except Exception as exc:  # keep the other results
                self.transport.count_error("internal")
                return LoglikelihoodResult(error=f"internal: {type(exc).__name__}: {exc}")

        return run

    # ---- server checks ----------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """GET ``/v1/models`` on every server; the served model ids. Raises ``ServerUnreachable`` if none
        answers, ``AlignlabError`` if one answers with an error (e.g. a missing API key)."""
        served: set[str] = set()
        answered = False
        failures = []
        with httpx.Client(
            headers=self.transport.headers, timeout=min(self.transport.timeout, 10.0)
        ) as client:
            for url in self.urls:
                try:
                    resp = client.get(url + "/models")
                except httpx.HTTPError as exc:
                    failures.append(f"{url} ({type(exc).__name__})")
                    continue
                answered = True
                if resp.status_code >= 400:
                    raise AlignlabError(
                        f"{url}/models answered {resp.status_code}: {resp.text[:200]}",
                        hint="set OPENAI_API_KEY or ALIGNLAB_API_KEY if the server needs a key",
                    )
                try:
                    served.update(str(m.get("id")) for m in resp.json().get("data", []))
                except (ValueError, AttributeError):
                    pass
        if not answered:
            raise ServerUnreachable(
                f"server unreachable: {', '.join(failures)}",
                hint="is the server running? start one, e.g. `python -m llama_cpp.server --model M.gguf "
                f"--port 8000`, and check the URL: {SPEC_HINT}",
            )
        return sorted(served)

    def provenance(self) -> Provenance:
        build = server_build(",".join(self.urls), self.model)
        return {"generate": build, "loglikelihood": build}

    def info(self) -> ModelInfo:
        extra: dict[str, Any] = {
            "model": self.model,
            "urls": self.urls,
            "concurrency": self.concurrency,
            "max_retries": self.transport.policy.max_retries,
            "timeout": self.transport.timeout,
        }
        try:
            extra["served_models"] = self.check()
            extra["reachable"] = True
        except AlignlabError as exc:
            extra["reachable"] = False
            extra["error"] = str(exc)
        return ModelInfo(spec=self.spec, backend=self.backend, fingerprint=self.fingerprint(), extra=extra)


def create(target: str, **options: Any) -> OpenAIModelAPI:
    """Build the backend from ``MODEL@URL[,URL...]``; options are ``OpenAIModelAPI``'s keyword arguments."""
    model, urls = parse_target(target)
    known = set(inspect.signature(OpenAIModelAPI.__init__).parameters) - {"self", "model", "urls"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ModelSpecError(
            f"unknown option(s) for openai: {', '.join(unknown)}", hint=f"options: {sorted(known)}"
        )
    return OpenAIModelAPI(model, urls, **options)
