"""``vllm:PATH``: a model run in-process by vLLM on a GPU.

Prompts are rendered and tokenized here (the tokenizer's chat template) and passed as token ids, so vLLM adds
no second BOS and ``render()`` is exactly what the model reads. Log-likelihoods come from ``prompt_logprobs``
over context + continuation; vLLM's prefix cache (on by default) computes a shared context once.
Unverified here: written against vLLM's documented ``LLM``/``SamplingParams`` API, no GPU to run it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError, BackendUnavailable, ModelSpecError
from alignlab.models._api import ModelAPI
from alignlab.models._pairs import encode_pair
from alignlab.models._types import (
    GenerateRequest,
    GenerateResult,
    LoglikelihoodRequest,
    LoglikelihoodResult,
    ModelInfo,
    Prompt,
    as_messages,
)
from alignlab.models._weights import dir_fingerprint
from alignlab.models.provenance import Provenance, version


class VLLMModelAPI(ModelAPI):
    """A ``vllm.LLM``; every request of a call goes to vLLM at once and vLLM schedules the batches."""

    backend = "vllm"

    def __init__(self, path: str | Path, **engine_args: Any) -> None:
        try:
            import vllm
        except ImportError as e:
            raise BackendUnavailable(
                "vllm is not installed", hint="pip install 'alignlab[vllm]' on a GPU machine"
            ) from e
        self._vllm = vllm
        self.path = Path(path).expanduser()
        if not self.path.exists():
            raise ModelSpecError(f"no such model dir: {self.path}", hint="vllm:PATH takes a local model dir")
        engine_args.setdefault("seed", 0)
        self.llm = vllm.LLM(model=str(self.path), **engine_args)
        self.tokenizer = self.llm.get_tokenizer()
        self.is_chat = bool(getattr(self.tokenizer, "chat_template", None))
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = dir_fingerprint(self.path) if self.path.is_dir() else f"vllm:{self.path}"
        return self._fingerprint

    def info(self) -> ModelInfo:
        config = self.llm.llm_engine.model_config
        return ModelInfo(
            spec=self.spec, backend=self.backend, fingerprint=self.fingerprint(),
            context_length=int(config.max_model_len),
            chat_template=getattr(self.tokenizer, "chat_template", None),
            extra={"path": str(self.path), "dtype": str(config.dtype)},
        )

    def provenance(self) -> Provenance:
        config = self.llm.llm_engine.model_config
        build = {"engine": "vllm", "vllm": version("vllm"), "torch": version("torch"), "device": "cuda",
                 "dtype": str(config.dtype).removeprefix("torch.")}
        return {"generate": build, "loglikelihood": build}

    def render(self, prompt: Prompt, chat: bool | None) -> str:
        if self.use_chat(prompt, chat):
            if not self.is_chat:
                raise AlignlabError(f"{self.path} has no chat template", hint="pass chat=False")
            return self.tokenizer.apply_chat_template(
                as_messages(prompt), tokenize=False, add_generation_prompt=True
            )
        return prompt if isinstance(prompt, str) else "\n\n".join(m["content"] for m in prompt)

    def _tokenize(self, text: str, add_special: bool) -> list[int]:
        return self.tokenizer(text, add_special_tokens=add_special)["input_ids"]

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        prompts, params = [], []
        for r in requests:
            ids = self._tokenize(self.render(r.prompt, r.chat), not self.use_chat(r.prompt, r.chat))
            prompts.append({"prompt_token_ids": ids})
            params.append(self._vllm.SamplingParams(
                temperature=r.temperature, top_p=r.top_p, max_tokens=r.max_tokens,
                stop=list(r.stop) or None, seed=r.seed,
            ))
        try:
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
        except (ValueError, RuntimeError) as e:  # e.g. a prompt longer than max_model_len
            return [GenerateResult(finish_reason="error", error=f"{type(e).__name__}: {e}") for _ in requests]
        results = []
        for out in outputs:
            c = out.outputs[0]
            reason = c.finish_reason or "stop"
            results.append(GenerateResult(text=c.text, n_tokens=len(c.token_ids), finish_reason=reason))
        return results

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        tok = self.tokenizer
        start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        pairs = []
        for r in requests:
            chat = self.use_chat(r.context, r.chat)
            pairs.append(encode_pair(self._tokenize, self.render(r.context, r.chat), r.continuation,
                                     chat=chat, start_token=start))
        # prompt_logprobs=1: each prompt position reports its actual token (with its rank) and the top-1
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
        todo = [i for i, (_, cont) in enumerate(pairs) if cont]
        outputs = self.llm.generate(
            [{"prompt_token_ids": pairs[i][0] + pairs[i][1]} for i in todo], params, use_tqdm=False
        )
        results = [LoglikelihoodResult(logprob=0.0, n_tokens=0, is_greedy=True) for _ in requests]
        for i, out in zip(todo, outputs, strict=True):
            ctx, cont = pairs[i]
            total, greedy = 0.0, True
            for pos, token in enumerate(cont, start=len(ctx)):
                entry = out.prompt_logprobs[pos][token]  # position pos holds token's logprob given the prefix
                total += entry.logprob
                greedy = greedy and entry.rank == 1
            results[i] = LoglikelihoodResult(logprob=total, n_tokens=len(cont), is_greedy=greedy)
        return results

    def close(self) -> None:
        self.llm = None  # type: ignore[assignment]


def create(target: str, **options: Any) -> VLLMModelAPI:
    """``vllm:PATH``; options go to ``vllm.LLM`` (tensor_parallel_size, gpu_memory_utilization, ...)."""
    return VLLMModelAPI(target, **options)
