"""``hf:PATH`` (a local transformers dir) and ``gguf:PATH`` (a GGUF file, converted once) backends.

A GGUF file loads in transformers with ``gguf_file=`` (dequantised to fp32, ~18 s for SmolLM2-135M) but
comes back marked as quantised, so it could be neither saved nor trained. ``converted_dir`` drops that mark
and saves a plain transformers dir under ``$ALIGNLAB_HOME/models/<sha256 prefix>/`` once; later loads take
under a second, and ``align`` trains from the same dir. A ``gguf:`` model's fingerprint is the GGUF file's
hash, so its cache entries do not depend on where or when it was converted.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError, ModelSpecError
from alignlab.models._api import ModelAPI
from alignlab.models._hf_cache import Forward
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    Prompt,
    as_messages,
)
from alignlab.models._weights import check_gguf_file, check_model_dir, dir_fingerprint, file_sha256
from alignlab.models.provenance import Provenance, torch_build
from alignlab.paths import alignlab_home
from alignlab.progress import note

_MARKER = "alignlab-conversion.json"  # written last, so a dir that has it is complete


class HFModelAPI(ModelAPI):
    """A transformers causal LM on cuda when available, else on CPU in float32."""

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 8,
        shared_context: bool = True,
        device: str | None = None,
        dtype: str | None = None,
        fingerprint: str | None = None,
        backend: str = "hf",
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = check_model_dir(path)
        self.batch_size = max(1, int(batch_size))
        self.shared_context = shared_context
        self.backend = backend
        self._fingerprint = fingerprint
        self.device, self.dtype = device_and_dtype(device, dtype)
        try:
            with _no_progress_bars():  # a one-second load needs no bar; callers show their own progress
                self.tokenizer = AutoTokenizer.from_pretrained(self.path)
                model = AutoModelForCausalLM.from_pretrained(self.path, dtype=self.dtype)
        except (OSError, ValueError) as e:
            raise ModelSpecError(
                f"cannot load a causal LM from {self.path}: {str(e).splitlines()[0]}",
                hint="hf:PATH takes a dir written by save_pretrained (config, weights, tokenizer)",
            ) from e
        self.model = model.to(self.device).eval()
        tok = self.tokenizer
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if self.pad_id is None:
            self.pad_id = 0  # pads are masked out; any id will do
        eos = model.generation_config.eos_token_id
        self.eos_ids = {eos} if isinstance(eos, int) else set(eos or [])
        if tok.eos_token_id is not None:
            self.eos_ids.add(tok.eos_token_id)
        self.is_chat = bool(getattr(tok, "chat_template", None))
        self.context_length = int(getattr(model.config, "max_position_embeddings", 0) or tok.model_max_length)
        self._forward = Forward(self.model)
        self._prefix_store: Any = None  # the last shared prefix's KV cache (alignlab.models._hf_loglik)

    # -- identity -------------------------------------------------------------------------------------------

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = dir_fingerprint(self.path)
        return self._fingerprint

    def info(self) -> ModelInfo:
        return ModelInfo(
            spec=self.spec,
            backend=self.backend,
            fingerprint=self.fingerprint(),
            parameters=sum(p.numel() for p in self.model.parameters()),
            context_length=self.context_length,
            chat_template=getattr(self.tokenizer, "chat_template", None),
            extra={"path": str(self.path), "dtype": str(self.dtype).removeprefix("torch."),
                   "device": str(self.device)},
        )

    def provenance(self) -> Provenance:
        build = torch_build(self.device, self.dtype)
        return {"generate": build, "loglikelihood": build}

    # -- prompts --------------------------------------------------------------------------------------------

    def render(self, prompt: Prompt, chat: bool | None) -> str:
        """The exact text the model reads: the chat template with the generation prompt, or the raw string."""
        if self.use_chat(prompt, chat):
            if not self.is_chat:
                raise AlignlabError(f"{self.path} has no chat template", hint="pass chat=False")
            return self.tokenizer.apply_chat_template(
                as_messages(prompt), tokenize=False, add_generation_prompt=True
            )
        if isinstance(prompt, str):
            return prompt
        return "\n\n".join(m["content"] for m in prompt)  # messages sent raw: one paragraph each

    def _tokenize(self, text: str, add_special: bool) -> list[int]:
        return self.tokenizer(text, add_special_tokens=add_special)["input_ids"]

    def _encode(self, prompt: Prompt, chat: bool | None) -> list[int]:
        # chat text already carries its special tokens; a raw prompt gets the tokenizer's BOS if it adds one
        return self._tokenize(self.render(prompt, chat), not self.use_chat(prompt, chat))

    # -- generation -----------------------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        from alignlab.models._hf_generate import GenRow, generate_batch

        results: list[GenerateResult | None] = [None] * len(requests)
        rows: dict[int, GenRow] = {}
        for i, r in enumerate(requests):
            try:
                ids = self._encode(r.prompt, r.chat)
            except AlignlabError as e:
                results[i] = GenerateResult(finish_reason="error", error=str(e))
                continue
            room = self.context_length - len(ids)
            if room <= 0:
                results[i] = GenerateResult(
                    finish_reason="error",
                    error=f"prompt has {len(ids)} tokens; the model's context is {self.context_length}",
                )
                continue
            rows[i] = GenRow(ids, min(r.max_tokens, room), r.temperature, r.top_p, r.seed, tuple(r.stop))
        order = sorted(rows, key=lambda i: -len(rows[i].ids))  # similar lengths together: little padding
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            try:
                outs = generate_batch(
                    self._forward, self.tokenizer, [rows[i] for i in batch],
                    eos_ids=self.eos_ids, pad_id=self.pad_id,
                )
            except RuntimeError as e:  # e.g. out of memory: report it on these requests, keep going
                for i in batch:
                    results[i] = GenerateResult(finish_reason="error", error=f"{type(e).__name__}: {e}")
                continue
            for i, o in zip(batch, outs, strict=True):
                results[i] = GenerateResult(text=o.text, n_tokens=o.n_tokens, finish_reason=o.finish_reason)
        missing = GenerateResult(finish_reason="error", error="not run")
        return [r if r is not None else missing for r in results]

    # -- scoring --------------------------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        from alignlab.models._hf_loglik import Pair, PrefixStore, score_naive, score_shared
        from alignlab.models._pairs import encode_requests

        tok = self.tokenizer
        start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        results, todo = encode_requests(self, requests, self._tokenize, start_token=start,
                                        max_tokens=self.context_length)
        pairs = {i: Pair(tuple(ctx), tuple(cont)) for i, ctx, cont in todo}
        if pairs:
            idx = list(pairs)
            batch = [pairs[i] for i in idx]
            if self.shared_context:
                if self._prefix_store is None:
                    self._prefix_store = PrefixStore(self.model)
                scores = score_shared(self._forward, batch, batch_size=self.batch_size, pad_id=self.pad_id,
                                      store=self._prefix_store)
            else:
                scores = score_naive(self._forward, batch, batch_size=self.batch_size, pad_id=self.pad_id)
            for i, (logprob, greedy) in zip(idx, scores, strict=True):
                n = len(pairs[i].cont)
                results[i] = LoglikelihoodResult(logprob=logprob, n_tokens=n, is_greedy=greedy)
        return [r if r is not None else LoglikelihoodResult(error="not run") for r in results]

    def close(self) -> None:
        import torch

        self.model = None  # type: ignore[assignment]
        self._prefix_store = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def device_and_dtype(device: str | None = None, dtype: str | None = None) -> tuple[Any, Any]:
    """(torch device, torch dtype): cuda when available, else CPU in float32 unless asked otherwise."""
    import torch

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dtype is not None:
        return dev, getattr(torch, dtype)
    if dev.type == "cuda":
        return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return dev, torch.float32  # CPU half precision is slow and inexact


@contextmanager
def _no_progress_bars(gguf: bool = False) -> Iterator[None]:
    """Without transformers' progress bars; with ``gguf``, also its GGUF dequantising bar (plain tqdm, which
    transformers' switch does not reach, so the module's tqdm is swapped for a disabled one meanwhile)."""
    from transformers.utils import logging

    was_on = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    gguf_utils = original = None
    if gguf:
        import functools

        from transformers import modeling_gguf_pytorch_utils as gguf_utils

        original = gguf_utils.tqdm
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if gguf_utils is not None:
            gguf_utils.tqdm = original
        if was_on:
            logging.enable_progress_bar()


# -- GGUF conversion ----------------------------------------------------------------------------------------


def converted_dir(gguf_path: str | Path) -> Path:
    """A transformers dir holding ``gguf_path``'s weights, converted on first use; safe to train and save.

    The dir is named after the file's content hash. Conversion writes into a temporary sibling and renames it
    into place, so a killed conversion never leaves a half-written model where a later load would find it.
    """
    src = check_gguf_file(gguf_path)
    digest = file_sha256(src)
    root = alignlab_home() / "models"
    final = root / digest[:16]
    if (final / _MARKER).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{digest[:16]}-", dir=root))
    started = time.perf_counter()
    try:
        with _no_progress_bars(gguf=True):  # transformers' dequantising and shard-writing bars: one line instead
            _convert(src, tmp)
        (tmp / _MARKER).write_text(json.dumps({"gguf": str(src.resolve()), "sha256": digest}, indent=2))
        if final.exists():  # no marker, so not a finished conversion: leftovers from older code or by hand
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / _MARKER).is_file():  # not a concurrent conversion that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    note(f"converted {src} to transformers in {final} ({time.perf_counter() - started:.1f} s, once per file)")
    return final


def _convert(src: Path, out: Path) -> None:
    """Load a GGUF through transformers, drop the quantised mark, save model and tokenizer to ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ModelSpecError(
            f"transformers cannot load {src}: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
            hint="transformers reads GGUF files of common architectures (llama, qwen2, mistral, ...); "
            "for others use llamacpp:PATH",
        ) from e
    unquantise(model)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def unquantise(model: Any) -> None:
    """Forget that weights came from a quantised file: they are dequantised already, so this is true."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if getattr(model, "quantization_method", None) is not None:
        model.quantization_method = None


def _remove_stale_tmp(root: Path, older_than_s: float = 6 * 3600) -> None:
    """Remove temp dirs that killed conversions left behind (old enough not to be running now)."""
    for p in root.glob(".tmp-*"):
        try:
            if time.time() - p.stat().st_mtime > older_than_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


# -- factories ----------------------------------------------------------------------------------------------

_OPTIONS = {"batch_size", "shared_context", "device", "dtype"}


def _check_options(spec: str, options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ModelSpecError(f"{spec}: unknown options {', '.join(unknown)}", hint=f"use {sorted(_OPTIONS)}")


def create(target: str, **options: Any) -> HFModelAPI:
    """``hf:PATH``: a local transformers dir."""
    _check_options("hf", options)
    return HFModelAPI(target, **options)


def create_gguf(target: str, **options: Any) -> HFModelAPI:
    """``gguf:PATH``: a GGUF file, converted to a transformers dir once."""
    _check_options("gguf", options)
    path = check_gguf_file(target, spec="gguf")
    fingerprint = "sha256:" + file_sha256(path)
    return HFModelAPI(converted_dir(path), fingerprint=fingerprint, backend="gguf", **options)
