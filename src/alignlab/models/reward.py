"""Reward models: any Hugging Face sequence-classification model with one output (``num_labels=1``).

    rm = load_reward_model("hf:/models/my-rm")             # or a plain path
    rm.score(["How do I boil an egg?"], ["Simmer it for 9 minutes."])   # -> [1.73]

A (prompt, response) pair is rendered with the reward model's own chat template (prompt messages + one assistant
message), as TRL's reward trainer saw it; a tokenizer without a template reads ``prompt + response``. Scores are
the raw logit, so they compare across responses of one model, not across reward models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError, ModelSpecError
from alignlab.models._types import Prompt, as_messages
from alignlab.models._weights import check_model_dir, dir_fingerprint


class RewardModel:
    """A sequence-classification reward model on cuda when available, else on CPU in float32."""

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 8,
        device: str | None = None,
        max_length: int | None = None,
        cache: bool = True,
    ) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.path = check_model_dir(path)
        self.spec = f"hf:{self.path}"
        self.batch_size = max(1, int(batch_size))
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForSequenceClassification.from_pretrained(self.path, dtype=torch.float32)
        except (OSError, ValueError) as e:
            raise ModelSpecError(
                f"cannot load a sequence-classification model from {self.path}: {str(e).splitlines()[0]}",
                hint="--reward-model takes a dir written by save_pretrained of an AutoModelForSequenceClassification",
            ) from e
        if model.config.num_labels != 1:
            raise ModelSpecError(f"{self.path} has {model.config.num_labels} labels; a reward model has one",
                                 hint="train it with num_labels=1 (TRL's RewardTrainer does)")
        tok = self.tokenizer
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        # The classifier reads the last non-pad token, found through config.pad_token_id.
        model.config.pad_token_id = tok.pad_token_id
        tok.padding_side = "right"
        tok.truncation_side = "left"  # a long prompt loses its start; the response being scored survives
        self.max_length = int(max_length or min(getattr(model.config, "max_position_embeddings", 0) or 4096,
                                                tok.model_max_length or 4096))
        self.model = model.to(self.device).eval()
        self._fingerprint: str | None = None
        self._memo: dict[str, float] | None = {} if cache else None

    def fingerprint(self) -> str:
        """Hash of the weight files (``sha256:...``)."""
        if self._fingerprint is None:
            self._fingerprint = dir_fingerprint(self.path)
        return self._fingerprint

    def render(self, prompt: Prompt, response: str) -> str:
        """The exact text the reward model reads for one (prompt, response) pair."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [*as_messages(prompt), {"role": "assistant", "content": response}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        text = prompt if isinstance(prompt, str) else "\n\n".join(m["content"] for m in prompt)
        return text + response

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        """One scalar reward per (prompt, response), batched; results in input order."""
        import torch

        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        texts = [self.render(p, r) for p, r in zip(prompts, responses, strict=True)]
        out: list[float | None] = [self._memo.get(t) if self._memo is not None else None for t in texts]
        todo = sorted({t for t, s in zip(texts, out, strict=True) if s is None}, key=len)  # similar lengths
        fresh: dict[str, float] = {}
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start:start + self.batch_size]
            enc = self.tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                                 max_length=self.max_length, add_special_tokens=False)
            with torch.no_grad():
                logits = self.model(**{k: v.to(self.device) for k, v in enc.items()}).logits  # (B, 1)
            fresh.update(zip(batch, logits[:, 0].float().cpu().tolist(), strict=True))
        if self._memo is not None:
            self._memo.update(fresh)
        return [s if s is not None else fresh[t] for t, s in zip(texts, out, strict=True)]

    def info(self) -> dict[str, Any]:
        return {"spec": self.spec, "fingerprint": self.fingerprint(),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]

    def __enter__(self) -> RewardModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_reward_model(spec: str | Path, **options: Any) -> RewardModel:
    """``hf:PATH`` or a plain path to a transformers dir → ``RewardModel``; ``ModelSpecError`` otherwise."""
    text = str(spec).strip()
    if not text:
        raise ModelSpecError("empty reward-model spec", hint="pass --reward-model hf:PATH")
    name, sep, target = text.partition(":")
    if sep and name == "hf":
        text = target
    elif sep and len(name) > 1 and not Path(text).exists():  # "openai:..." etc.; "C:\\..." is a path
        raise ModelSpecError(f"reward models load from local dirs only, not {spec!r}",
                             hint="pass --reward-model hf:PATH (a sequence-classification model dir)")
    if not text:
        raise ModelSpecError(f"reward-model spec {spec!r} names no model", hint="write hf:PATH")
    try:
        return RewardModel(text, **options)
    except TypeError as e:
        raise AlignlabError(f"reward model: {e}", hint="options: batch_size, device, max_length, cache") from e
