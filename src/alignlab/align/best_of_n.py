"""Best-of-n preference pairs: sample n answers per prompt, score them with a reward, keep the best and the worst.

    pairs = best_of_n_pairs(model, ["Should I lie to protect a friend?"], reward_fn, n=4)
    # -> [{"prompt": [...], "chosen": [...], "rejected": [...], "chosen_score": 0.8, "rejected_score": -0.3,
    #      "scores": [0.8, 0.1, -0.3, 0.4]}]

Rows are in TRL's preference schema, conversational when the model read the prompt as chat (so DPO trains on the
text the way it was sampled). Sample j of every prompt is drawn with seed ``seed + j``, so a rerun reproduces the
samples and the response cache answers it. ``reward_fn`` has TRL's reward form (``alignlab.align.rewards``); a
prompt whose scored samples all tie, or with fewer than two scored samples, gives no pair and is counted.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alignlab.models import GenerateRequest, Model, Prompt

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One sampled answer."""

    seed: int
    text: str | None
    """None when generation failed."""
    score: float | None = None
    """The reward; None when it could not be computed (or the sample failed)."""
    error: str | None = None


@dataclass
class PromptSamples:
    """A prompt's n samples and the pair made from them (or why none was)."""

    prompt: Prompt
    """As the model read it: chat messages when it rendered the prompt as chat."""
    row: dict[str, Any] = field(default_factory=dict)
    """The prompt row's other columns (``id``, ...), passed to the reward as TRL passes dataset columns."""
    samples: list[Candidate] = field(default_factory=list)
    chosen: int | None = None
    """Index of the best sample (the first of equals), None when skipped."""
    rejected: int | None = None
    skipped: str | None = None
    """``tie`` (all scored samples score alike) or ``unscored`` (fewer than two scored samples)."""

    def pair(self) -> dict[str, Any] | None:
        """The TRL preference row, or None when this prompt was skipped."""
        if self.chosen is None or self.rejected is None:
            return None
        best, worst = self.samples[self.chosen], self.samples[self.rejected]
        return {"prompt": self.prompt, "chosen": _completion(best.text or "", self.prompt),
                "rejected": _completion(worst.text or "", self.prompt), "chosen_score": best.score,
                "rejected_score": worst.score, "scores": [c.score for c in self.samples]}

    def audit(self) -> dict[str, Any]:
        """Every sample with its seed and score, and the choice made (for a human to check)."""
        return {**self.row, "prompt": self.prompt, "chosen_index": self.chosen, "rejected_index": self.rejected,
                "skipped": self.skipped,
                "samples": [{"seed": c.seed, "text": c.text, "score": c.score, "error": c.error}
                            for c in self.samples]}


def _completion(text: str, prompt: Prompt) -> Any:
    return text if isinstance(prompt, str) else [{"role": "assistant", "content": text}]


def _split_row(item: Prompt | Mapping[str, Any]) -> tuple[Prompt, dict[str, Any]]:
    if isinstance(item, Mapping):
        if "prompt" not in item:
            raise ValueError(f"a prompt row needs a 'prompt' field, got keys {sorted(item)}")
        return item["prompt"], {k: v for k, v in item.items() if k != "prompt"}
    return item, {}


def sample_and_score(model: Model, prompts: Sequence[Prompt | Mapping[str, Any]], reward_fn: Callable[..., Any],
                     n: int = 4, temperature: float = 0.9, seed: int = 0, max_tokens: int = 256,
                     top_p: float = 1.0) -> list[PromptSamples]:
    """Sample ``n`` answers per prompt (one batched, cached ``generate``), score them in one ``reward_fn`` call,
    and choose the best and worst of each prompt. Prompts are strings, chat messages, or rows with a ``prompt``."""
    if n < 2:
        raise ValueError(f"best-of-n needs n >= 2 samples per prompt, got {n}")
    items = []
    for item in prompts:
        prompt, row = _split_row(item)
        # Store the prompt as the model read it, so the pair trains on what was sampled.
        if isinstance(prompt, str) and model.api.use_chat(prompt, None):
            prompt = [{"role": "user", "content": prompt}]
        items.append(PromptSamples(prompt, row))
    reqs = [GenerateRequest(it.prompt, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed + j)
            for it in items for j in range(n)]
    results = model.generate(reqs)
    for i, it in enumerate(items):
        for j in range(n):
            res = results[i * n + j]
            it.samples.append(Candidate(seed + j, None if res.error else res.text, error=res.error))
    scored = [(it, c) for it in items for c in it.samples if c.text is not None]
    if scored:
        columns = {k: [it.row.get(k) for it, _ in scored] for k in {k for it, _ in scored for k in it.row}}
        rewards = reward_fn(prompts=[it.prompt for it, _ in scored],
                            completions=[_completion(c.text or "", it.prompt) for it, c in scored], **columns)
        if len(rewards) != len(scored):
            raise ValueError(f"the reward returned {len(rewards)} scores for {len(scored)} samples")
        for (_, c), r in zip(scored, rewards, strict=True):
            c.score = None if r is None or r != r else float(r)  # NaN (TRL's missing) is missing too
    for it in items:
        _choose(it)
    return items


def _choose(it: PromptSamples) -> None:
    valid = [(c.score, k) for k, c in enumerate(it.samples) if c.score is not None]
    if len(valid) < 2:
        it.skipped = "unscored"
        return
    best = max(valid, key=lambda sk: (sk[0], -sk[1]))  # the first of equal best
    worst = min(valid, key=lambda sk: (sk[0], sk[1]))
    if best[0] == worst[0] or it.samples[best[1]].text == it.samples[worst[1]].text:
        it.skipped = "tie"
        return
    it.chosen, it.rejected = best[1], worst[1]


def summarize(items: Sequence[PromptSamples]) -> dict[str, int]:
    """Counts: prompts, pairs, skipped ties, skipped unscored prompts, failed samples, unscored samples."""
    skipped = Counter(it.skipped for it in items if it.skipped)
    samples = [c for it in items for c in it.samples]
    return {"prompts": len(items), "pairs": sum(it.skipped is None for it in items),
            "skipped_tie": skipped["tie"], "skipped_unscored": skipped["unscored"],
            "samples": len(samples), "sample_errors": sum(c.error is not None for c in samples),
            "samples_unscored": sum(c.text is not None and c.score is None for c in samples)}


def best_of_n_pairs(model: Model, prompts: Sequence[Prompt | Mapping[str, Any]], reward_fn: Callable[..., Any],
                    n: int = 4, temperature: float = 0.9, seed: int = 0, max_tokens: int = 256, *,
                    stats: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """TRL preference rows {prompt, chosen, rejected, chosen_score, rejected_score, scores} from the best and worst
    of ``n`` samples per prompt. Skipped prompts are logged and counted into ``stats`` when given (see
    ``summarize``); use ``sample_and_score`` to keep every sample."""
    items = sample_and_score(model, prompts, reward_fn, n=n, temperature=temperature, seed=seed,
                             max_tokens=max_tokens)
    counts = summarize(items)
    if stats is not None:
        stats.update(counts)
    if counts["skipped_tie"] or counts["skipped_unscored"]:
        log.info("best-of-%d: %d of %d prompts gave no pair (%d ties, %d with fewer than two scored samples)", n,
                 counts["prompts"] - counts["pairs"], counts["prompts"], counts["skipped_tie"],
                 counts["skipped_unscored"])
    return [p for it in items if (p := it.pair()) is not None]
