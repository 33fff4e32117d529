"""Batched generation for a transformers causal LM: our own decode loop over the KV cache.

Why not ``model.generate``: the same request with the same seed must give the same text whatever else shares
its batch (the cache key holds the seed, not the batch), so every sampled row draws from its own
``torch.Generator``; and one batch mixes greedy and sampled rows, different ``max_tokens`` and different stop
strings. The loop is the usual one: a left-padded prefill, then one token per step; finished rows leave the
batch and the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from alignlab.models._hf_cache import Forward, select_rows


@dataclass
class GenRow:
    """One request, tokenized."""

    ids: list[int]
    max_new: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()


@dataclass
class GenOut:
    text: str
    n_tokens: int
    finish_reason: str


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Left-pad to one length: ids (B, T), attention mask (B, T), position ids (B, T) from 0 in each row."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)  # pads sit at position 0; they are masked anyway
    return ids.to(device), mask.to(device), pos.to(device)


def find_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest stop string in ``text``, or None."""
    hits = [i for s in stops if s and (i := text.find(s)) >= 0]
    return min(hits) if hits else None


def _pick(logits: torch.Tensor, rows: Sequence[GenRow], gens: Sequence[torch.Generator | None]) -> list[int]:
    """Next token per row: argmax for greedy rows, a draw from each row's own generator for sampled ones."""
    picks = logits.argmax(-1).tolist()  # (n,)
    for j, (row, gen) in enumerate(zip(rows, gens, strict=True)):
        if row.temperature <= 0:
            continue
        probs = torch.softmax(logits[j].float() / row.temperature, dim=-1)  # (V,)
        if row.top_p < 1.0:
            sorted_p, order = probs.sort(descending=True)
            # keep the smallest head whose mass reaches top_p (the first token always stays)
            sorted_p[(sorted_p.cumsum(0) - sorted_p) >= row.top_p] = 0.0
            probs = torch.zeros_like(probs).scatter_(0, order, sorted_p)
        picks[j] = int(torch.multinomial(probs, 1, generator=gen))
    return picks


@torch.inference_mode()
def generate_batch(
    forward: Forward, tokenizer: Any, rows: Sequence[GenRow], *, eos_ids: set[int], pad_id: int
) -> list[GenOut]:
    """Decode every row until EOS, a stop string or its ``max_new`` tokens. Rows keep their order."""
    device = forward.device
    n = len(rows)
    tokens: list[list[int]] = [[] for _ in range(n)]
    outs: list[GenOut | None] = [None] * n

    def finish(i: int, reason: str, text: str | None = None) -> None:
        ids = tokens[i][:-1] if reason == "stop" and text is None else tokens[i]
        if text is None:
            text = tokenizer.decode(ids, skip_special_tokens=True)
        outs[i] = GenOut(text=text, n_tokens=len(tokens[i]), finish_reason=reason)

    alive = [i for i in range(n) if rows[i].max_new > 0]
    for i in range(n):
        if rows[i].max_new <= 0:
            finish(i, "length", "")
    if not alive:
        return [o for o in outs if o is not None]

    gens = [
        torch.Generator(device=device).manual_seed(r.seed) if r.temperature > 0 else None for r in rows
    ]
    ids, mask, pos = left_pad([rows[i].ids for i in alive], pad_id, device)
    logits, cache = forward(ids, mask, pos, keep=1)
    logits = logits[:, -1, :]  # (B, V)
    next_pos = mask.sum(-1, keepdim=True)  # (B, 1): the position the next token takes
    while True:
        picks = _pick(logits, [rows[i] for i in alive], [gens[i] for i in alive])
        keep: list[int] = []
        for j, i in enumerate(alive):
            tokens[i].append(picks[j])
            if picks[j] in eos_ids:
                finish(i, "stop")
                continue
            if rows[i].stop:
                text = tokenizer.decode(tokens[i], skip_special_tokens=True)
                cut = find_stop(text, rows[i].stop)
                if cut is not None:
                    finish(i, "stop", text[:cut])
                    continue
            if len(tokens[i]) >= rows[i].max_new:
                finish(i, "length")
                continue
            keep.append(j)
        if not keep:
            break
        if len(keep) < len(alive):
            index = torch.tensor(keep, device=device)
            cache = select_rows(cache, index, inplace=True)
            mask, next_pos = mask[index], next_pos[index]
        alive = [alive[j] for j in keep]
        step = torch.tensor([[tokens[i][-1]] for i in alive], device=device)  # (B, 1)
        mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)  # (B, T+1)
        logits, cache = forward(step, mask, next_pos, cache=cache, keep=1)
        logits = logits[:, -1, :]
        next_pos = next_pos + 1
    return [o for o in outs if o is not None]
