"""``llamacpp:PATH``: a GGUF file run in-process by llama-cpp-python (7× transformers at batch 1 on CPU).

Chat prompts are rendered here with the GGUF's own chat template (llama-cpp-python's Jinja formatter, which
follows transformers' Jinja settings) and sent as tokens, so ``render()`` is exactly what the model reads.

Log-likelihoods come from llama.cpp's logits without ``logits_all=True`` (which would keep an (n_ctx, vocab)
float array, 1.6 GB for SmolLM2): a context is decoded once and its last logits score every continuation's
first token; the rest of a continuation is decoded on top of the context's KV cache with logits for its tokens
only, then the cache is cut back to the context for the next continuation. That uses llama-cpp-python's decode
internals (``_ctx``, ``_batch``), so an incompatible version raises LoglikelihoodUnsupported rather than
scoring wrongly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.errors import AlignlabError, BackendUnavailable, LoglikelihoodUnsupported
from alignlab.models._api import ModelAPI
from alignlab.models._pairs import encode_requests
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    Prompt,
    as_messages,
)
from alignlab.models._weights import check_gguf_file, file_sha256
from alignlab.models.provenance import Provenance, llama_cpp_build


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as e:
        raise BackendUnavailable(
            "llama-cpp-python is not installed",
            hint="pip install llama-cpp-python (compiles llama.cpp, about 6 minutes on CPU)",
        ) from e
    return llama_cpp


def _system_info() -> str:
    import llama_cpp

    return llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")


_defaults_lock = threading.Lock()


@contextmanager
def _model_defaults(**fields: Any) -> Iterator[None]:
    """Set fields of llama.cpp's model parameters that ``Llama()`` does not expose (it starts from the defaults)."""
    if not fields:
        yield
        return
    from llama_cpp import llama as llama_module

    module = llama_module.llama_cpp
    original = module.llama_model_default_params

    def patched() -> Any:
        params = original()
        for key, value in fields.items():
            if hasattr(params, key):
                setattr(params, key, value)
        return params

    with _defaults_lock:
        module.llama_model_default_params = patched
        try:
            yield
        finally:
            module.llama_model_default_params = original


def extra_buffer_types_safe() -> bool:
    """Whether llama.cpp's extra buffer types (AMX, repack) may be used: not on a build that reports AMX, whose
    kernels fault in llama-cpp-python 0.3.x (SIGSEGV on the first decode), unless ALIGNLAB_LLAMA_AMX=1."""
    return "AMX_INT8 = 1" not in _system_info() or os.environ.get("ALIGNLAB_LLAMA_AMX") == "1"


@contextmanager
def safe_load_defaults() -> Iterator[None]:
    """Load models inside this block with the extra buffer types off where they are unsafe (see above), for code
    that builds ``llama_cpp.Llama`` itself: llama-cpp-python's server (``python -m alignlab.models.llama_server``)."""
    with _model_defaults(use_extra_bufts=extra_buffer_types_safe()):
        yield


class LlamaCppModelAPI(ModelAPI):
    """One ``llama_cpp.Llama`` on all CPU cores; greedy requests decode ``n_parallel`` at a time (default one:
    each slot holds KV cells for its request, which for a large model is memory a user should choose to spend).

    ``n_parallel > 1`` (alignlab.models._llamacpp_batch) decodes several greedy sequences per llama.cpp batch at
    fewer CPU-seconds per token; every step has one shape whatever else is live, so the texts equal one-stream
    decoding's (bench/generation.py counts them; ``n_parallel=1`` is ``create_completion``, one request after
    another). Sampled requests always run one at a time, so their seeds keep their texts.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int = 0,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_parallel: int = 1,
        fingerprint: str | None = None,
        backend: str = "llamacpp",
    ) -> None:
        self.path = check_gguf_file(path, spec="llamacpp")
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.backend = backend
        self._fingerprint = fingerprint
        self.n_parallel = max(1, int(n_parallel))
        self._batcher: Any = None  # the batched-decoding context, made on the first greedy batch
        threads = n_threads or os.cpu_count() or 1
        # llama.cpp's AMX kernels (picked by a native build on CPUs that report AMX) fault in ldtilecfg in
        # llama-cpp-python 0.3.x (seen in a Firecracker VM: SIGSEGV on the first decode), so on such a build its
        # extra buffer types (AMX, repack) stay off; ALIGNLAB_LLAMA_AMX=1 turns them back on.
        self.extra_buffer_types = extra_buffer_types_safe()
        with _model_defaults(use_extra_bufts=self.extra_buffer_types):
            self.llm = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=n_ctx,  # 0: the model's training context
                n_batch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                seed=0,
                logits_all=False,
                verbose=False,  # llama.cpp's load and timing chatter goes nowhere
            )
        meta = self.llm.metadata
        self.chat_template: str | None = meta.get("tokenizer.chat_template")
        self.is_chat = self.chat_template is not None
        self._formatter = None
        if self.chat_template:
            self._formatter = Jinja2ChatFormatter(
                template=self.chat_template,
                eos_token=self._token_text(self.llm.token_eos()),
                bos_token=self._token_text(self.llm.token_bos()),
                add_generation_prompt=True,
            )

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    # -- identity -------------------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = "sha256:" + file_sha256(self.path)
        return self._fingerprint

    def info(self) -> ModelInfo:
        return ModelInfo(
            spec=self.spec,
            backend=self.backend,
            fingerprint=self.fingerprint(),
            parameters=int(self.llm._model.n_params()),
            context_length=int(self.llm.n_ctx()),
            chat_template=self.chat_template,
            extra={"path": str(self.path), "file_type": self.llm.metadata.get("general.file_type"),
                   "n_threads": self.llm.n_threads, "device": "cpu"},
        )

    def provenance(self) -> Provenance:
        build = {**llama_cpp_build(self.llm), "extra_buffer_types": self.extra_buffer_types}
        return {"generate": build, "loglikelihood": build}

    # -- prompts --------------------------------------------------------------------------------------------

    def render(self, prompt: Prompt, chat: bool | None) -> str:
        if self.use_chat(prompt, chat):
            if self._formatter is None:
                raise AlignlabError(f"{self.path} has no chat template", hint="pass chat=False")
            return self._formatter(messages=as_messages(prompt)).prompt
        if isinstance(prompt, str):
            return prompt
        return "\n\n".join(m["content"] for m in prompt)  # as the hf backend does

    def _tokenize(self, text: str, add_special: bool) -> list[int]:
        # special=True: a special token's text in the prompt (the template's <|im_start|>) is that token
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=True)

    def _encode(self, prompt: Prompt, chat: bool | None) -> list[int]:
        # the chat template writes BOS itself when the model wants one
        return self._tokenize(self.render(prompt, chat), not self.use_chat(prompt, chat))

    # -- generation -----------------------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        """Greedy requests decode side by side (``n_parallel`` sequences per llama.cpp batch); sampled ones run
        one at a time through llama.cpp's own sampler, so their seeds give the texts they always gave."""
        results: list[GenerateResult | None] = [None] * len(requests)
        greedy: dict[int, Any] = {}
        if self.n_parallel > 1:
            greedy = self._greedy_rows(requests, results)
        if len(greedy) > 1:
            from alignlab.models._llamacpp_batch import BatchDecoder

            if self._batcher is None or self._batcher.n_requested != self.n_parallel:
                if self._batcher is not None:
                    self._batcher.close()
                self._batcher = BatchDecoder(self.llm, self.n_parallel)
            idx = list(greedy)
            try:
                outs = self._batcher.generate([greedy[i] for i in idx])
            except RuntimeError as e:  # llama_decode failed: report it on these requests
                for i in idx:
                    results[i] = GenerateResult(finish_reason="error", error=f"{type(e).__name__}: {e}")
            else:
                for i, o in zip(idx, outs, strict=True):
                    results[i] = GenerateResult(text=o.text, n_tokens=o.n_tokens, finish_reason=o.finish_reason)
        return [r if r is not None else self._generate_one(requests[i]) for i, r in enumerate(results)]

    def _greedy_rows(self, requests: Sequence[GenerateRequest], results: list[GenerateResult | None]) -> dict:
        """Tokenized greedy requests by index (``max_tokens`` cut as ``create_completion`` cuts it); render
        errors and over-long prompts go into ``results``."""
        from alignlab.models._llamacpp_batch import GreedyRow

        n_ctx = self.llm.n_ctx()
        rows = {}
        for i, r in enumerate(requests):
            if r.temperature > 0 or r.max_tokens <= 0:
                continue
            try:
                tokens = self._encode(r.prompt, r.chat)
            except AlignlabError as e:
                results[i] = GenerateResult(finish_reason="error", error=f"{type(e).__name__}: {e}")
                continue
            if not tokens:  # nothing to decode a first token from: one stream answers as it always has
                continue
            if len(tokens) >= n_ctx:
                results[i] = GenerateResult(
                    finish_reason="error",
                    error=f"ValueError: Requested tokens ({len(tokens)}) exceed context window of {n_ctx}",
                )
                continue
            rows[i] = GreedyRow(tokens, min(r.max_tokens, n_ctx - len(tokens)), tuple(r.stop))
        return rows

    def _generate_one(self, r: GenerateRequest) -> GenerateResult:
        if r.max_tokens <= 0:  # llama-cpp-python reads 0 as "until the context is full"
            return GenerateResult(text="", n_tokens=0, finish_reason="length")
        try:
            tokens = self._encode(r.prompt, r.chat)
            if r.temperature > 0:
                # Sample from a prompt evaluated afresh: reusing a previous call's KV prefix changes the logits in
                # the last bits, which changes the sample, so one seed would not always give one text.
                self.llm.reset()
            out = self.llm.create_completion(
                prompt=tokens,
                max_tokens=r.max_tokens,
                temperature=r.temperature,  # 0: greedy
                top_p=r.top_p,
                # llama.cpp's defaults (top_k 40, min_p 0.05) would sample from another distribution than hf's
                top_k=0,
                min_p=0.0,
                typical_p=1.0,
                repeat_penalty=1.0,
                stop=list(r.stop),
                seed=r.seed,
            )
        except (AlignlabError, ValueError, RuntimeError) as e:
            return GenerateResult(finish_reason="error", error=f"{type(e).__name__}: {e}")
        choice = out["choices"][0]
        return GenerateResult(
            text=choice["text"],
            n_tokens=int(out["usage"]["completion_tokens"]),
            finish_reason=choice["finish_reason"] or "stop",
        )

    # -- scoring --------------------------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        llm = self.llm
        if not all(hasattr(llm, a) for a in ("_ctx", "_batch", "input_ids", "n_tokens")):
            raise LoglikelihoodUnsupported(
                "this llama-cpp-python version hides the decode state that scoring needs",
                hint="use gguf:PATH (transformers) for log-likelihood suites",
            )
        start = llm.token_bos() if llm.token_bos() >= 0 else llm.token_eos()
        results, todo = encode_requests(self, requests, self._tokenize, start_token=start, max_tokens=llm.n_ctx())
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        for i, ctx, cont in todo:
            groups.setdefault(tuple(ctx), []).append((i, cont))
        try:
            for ctx in sorted(groups):  # sorted: contexts sharing a prefix come one after another
                try:
                    self._score_group(list(ctx), groups[ctx], results)
                except RuntimeError as e:  # llama_decode failed (e.g. out of KV slots): report, start over
                    for i, _ in groups[ctx]:
                        results[i] = LoglikelihoodResult(error=f"{type(e).__name__}: {e}")
                    llm.reset()
        finally:
            llm._requires_eval = True  # the next generation re-decodes a token instead of trusting our logits
        return [r if r is not None else LoglikelihoodResult(error="not run") for r in results]

    def _score_group(
        self, ctx: list[int], conts: list[tuple[int, list[int]]], results: list[LoglikelihoodResult | None]
    ) -> None:
        last = self._decode_context(ctx)  # (V,) predicts each continuation's first token
        for i, cont in conts:
            logits = last[None, :]
            if len(cont) > 1:
                self.llm.n_tokens = len(ctx)  # back to the context's end; _decode cuts the KV cache
                logits = np.concatenate([logits, self._decode(cont[:-1], all_logits=True)])
            results[i] = _score(logits, cont)

    def _decode_context(self, ctx: list[int]) -> np.ndarray:
        """Decode ``ctx`` reusing the longest prefix already in the KV cache; return its last logits (V,)."""
        llm = self.llm
        have = llm.input_ids[: llm.n_tokens].tolist()
        common = 0
        for a, b in zip(have, ctx, strict=False):
            if a != b:
                break
            common += 1
        llm.n_tokens = min(common, len(ctx) - 1)  # decode at least one token to get fresh logits
        return self._decode(ctx[llm.n_tokens:], all_logits=False)[-1]

    def _decode(self, tokens: list[int], *, all_logits: bool) -> np.ndarray:
        """Append ``tokens`` after ``llm.n_tokens``; logits (len, V) for each token, or (1, V) for the last"""
        llm = self.llm
        n_vocab = llm.n_vocab()
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)  # forget anything past the kept prefix
        rows = []
        for s in range(0, len(tokens), llm.n_batch):
            batch = tokens[s:s + llm.n_batch]
            n_past = llm.n_tokens
            llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=all_logits)
            llm._ctx.decode(llm._batch)
            llm.input_ids[n_past:n_past + len(batch)] = batch
            llm.n_tokens += len(batch)
            n_out = len(batch) if all_logits else 1
            if all_logits or s + llm.n_batch >= len(tokens):
                flat = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_out * n_vocab,))
                rows.append(flat.reshape(n_out, n_vocab).copy())
        return np.concatenate(rows)

    def close(self) -> None:
        if getattr(self, "_batcher", None) is not None:
            self._batcher.close()
            self._batcher = None
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None  # type: ignore[assignment]


def _score(logits: np.ndarray, cont: Sequence[int]) -> LoglikelihoodResult:
    """Sum the continuation's log-probs from its (n, V) logits; greedy when each token is the argmax."""
    x = logits.astype(np.float64)
    logz = np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)  # (n,)
    idx = np.arange(len(cont))
    lp = x[idx, list(cont)] - logz
    greedy = bool((x.argmax(-1) == np.asarray(cont)).all())
    return LoglikelihoodResult(logprob=float(lp.sum()), n_tokens=len(cont), is_greedy=greedy)


def create(target: str, **options: Any) -> LlamaCppModelAPI:
    """``llamacpp:PATH``; options: n_ctx, n_threads, n_batch, n_parallel (greedy sequences decoded at once,
    same texts; default 1: ``create_completion``, one request at a time)."""
    return LlamaCppModelAPI(target, **options)
