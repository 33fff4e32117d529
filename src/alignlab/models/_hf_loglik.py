"""Log-likelihood of continuations for a transformers causal LM, sharing each context's forward pass.

Suites ask for several continuations of one context (six Likert options after one long item, A/B/C/D after one
question). Scoring each (context + continuation) from scratch repeats the context's forward pass per option.
Here each distinct context runs once (batched with other contexts, left-padded, ``use_cache=True``); its
last logits score every continuation's first token, and the rest of each continuation runs on top of the
context's KV cache, gathered row by row. Single-token continuations (Likert digits, option letters) need no
second forward. ``score_naive`` is the plain per-request forward, kept to check the shared path and to
benchmark it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from alignlab.models._hf_cache import Forward, select_rows
from alignlab.models._hf_generate import left_pad


@dataclass(frozen=True)
class Pair:
    """A tokenized request: context tokens (never empty) and continuation tokens (never empty)."""

    ctx: tuple[int, ...]
    cont: tuple[int, ...]


Score = tuple[float, bool]
"""Summed log-probability of the continuation, and whether every token was the argmax."""


def _token_scores(logprobs: torch.Tensor, targets: Sequence[int]) -> tuple[float, bool]:
    """Sum of ``logprobs[t, targets[t]]`` over (T, V) log-probs, and whether each target is the argmax."""
    tgt = torch.tensor(targets, device=logprobs.device).unsqueeze(-1)  # (T, 1)
    lp = logprobs.gather(-1, tgt).squeeze(-1)  # (T,)
    greedy = bool((logprobs.argmax(-1) == tgt.squeeze(-1)).all())
    return float(lp.double().sum()), greedy


@torch.inference_mode()
def score_shared(forward: Forward, pairs: Sequence[Pair], *, batch_size: int, pad_id: int) -> list[Score]:
    """Score every pair, running each distinct context once. Results in input order."""
    device = forward.device
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.ctx, []).append(i)
    contexts = sorted(groups, key=len, reverse=True)  # longest first: padding is small and OOM shows early
    results: list[Score | None] = [None] * len(pairs)
    for start in range(0, len(contexts), batch_size):
        chunk = contexts[start:start + batch_size]
        ids, mask, pos = left_pad(chunk, pad_id, device)
        last, cache = forward(ids, mask, pos, keep=1)
        first = torch.log_softmax(last[:, -1, :].float(), dim=-1)  # (C, V): predicts each first token
        ctx_len = mask.sum(-1)  # (C,)
        members = [(c, i) for c, ctx in enumerate(chunk) for i in groups[ctx]]
        for c, i in members:
            if len(pairs[i].cont) == 1:
                results[i] = _token_scores(first[c:c + 1], pairs[i].cont)
        longer = [(c, i) for c, i in members if len(pairs[i].cont) > 1]
        longer.sort(key=lambda m: -len(pairs[m[1]].cont))
        for sub in range(0, len(longer), batch_size):
            rows = longer[sub:sub + batch_size]
            index = torch.tensor([c for c, _ in rows], device=device)
            conts = [pairs[i].cont for _, i in rows]
            width = max(len(t) for t in conts) - 1  # the last token is predicted, never fed
            inp = torch.full((len(rows), width), pad_id, dtype=torch.long)
            cmask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, t in enumerate(conts):
                # right padding is safe here: real tokens come first and attention is causal
                inp[r, : len(t) - 1] = torch.tensor(t[:-1])
                cmask[r, : len(t) - 1] = 1
            step_pos = ctx_len[index].unsqueeze(1) + torch.arange(width, device=device)  # (B, W)
            logits, _ = forward(
                inp.to(device),
                torch.cat([mask[index], cmask.to(device)], dim=1),  # (B, T_ctx + W)
                step_pos,
                cache=select_rows(cache, index),
            )
            for r, (c, i) in enumerate(rows):
                t = pairs[i].cont
                rest = torch.log_softmax(logits[r, : len(t) - 1].float(), dim=-1)  # (len-1, V)
                lp = torch.cat([first[c:c + 1], rest], dim=0)  # (len, V)
                results[i] = _token_scores(lp, t)
    return [r for r in results if r is not None]


@torch.inference_mode()
def score_naive(forward: Forward, pairs: Sequence[Pair], *, batch_size: int, pad_id: int) -> list[Score]:
    """Score every pair with its own full forward over context + continuation (batched, length-sorted)."""
    device = forward.device
    order = sorted(range(len(pairs)), key=lambda i: -(len(pairs[i].ctx) + len(pairs[i].cont)))
    results: list[Score | None] = [None] * len(pairs)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        seqs = [pairs[i].ctx + pairs[i].cont for i in batch]
        ids, mask, pos = left_pad(seqs, pad_id, device)
        # left padding puts every continuation at the end, so only the last max(len)+1 logits are needed
        keep = max(len(pairs[i].cont) for i in batch) + 1
        logits, _ = forward(ids, mask, pos, keep=keep, use_cache=False)  # (B, keep, V): k predicts token k+1
        for r, i in enumerate(batch):
            n = len(pairs[i].cont)
            lp = torch.log_softmax(logits[r, keep - n - 1: keep - 1].float(), dim=-1)  # (n, V)
            results[i] = _token_scores(lp, pairs[i].cont)
    return [r for r in results if r is not None]
