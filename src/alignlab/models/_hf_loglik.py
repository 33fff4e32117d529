"""Log-likelihood of continuations for a transformers causal LM, sharing each context's forward pass.

Suites ask for several continuations of one context (six Likert options after one long item, A/B/C/D after one
question). Scoring each (context + continuation) from scratch repeats the context's forward pass per option.
Here each distinct context runs once (batched with other contexts, left-padded, ``use_cache=True``); its
last logits score every continuation's first token, and the rest of each continuation runs on top of the
context's KV cache, gathered row by row. Single-token continuations (Likert digits, option letters) need no
second forward. Contexts that begin alike (a primer, few-shot examples or instructions before every question)
share more: that common prefix runs once per call and its cache is copied under each context's own tokens
(``prefix_groups``). ``score_naive`` is the plain per-request forward, kept to check the shared path and to
benchmark it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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


MIN_SHARED_PREFIX = 16
"""Contexts that share at least this many leading tokens run that prefix once (fewer is not worth a forward)."""


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def prefix_groups(
    contexts: Sequence[tuple[int, ...]], min_shared: int = MIN_SHARED_PREFIX
) -> list[tuple[int, list[tuple[int, ...]]]]:
    """Group distinct contexts by a common leading prefix: ``[(prefix length, contexts)]``; length 0 = no sharing.

    A one-level cut of the prefix tree, written by hand (no library builds KV-cache prefix trees for
    transformers): contexts are sorted, so those sharing a prefix sit together, and a run of neighbours stays one
    group while each shares at least ``min_shared`` tokens with the one before; the group's prefix is what all of
    them share. So a primer before every question (TruthfulQA's six QA pairs, few-shot examples, a system prompt,
    survey instructions) is one group's prefix. Every member keeps at least one token past the prefix, so its
    last logits come from its own rows.
    """
    groups: list[tuple[int, list[tuple[int, ...]]]] = []
    members: list[tuple[int, ...]] = []
    shared = 0
    for ctx in sorted(contexts):
        if members:
            common = _lcp(members[-1], ctx)
            if common >= min_shared:
                members.append(ctx)
                shared = min(shared, common, len(ctx) - 1)
                continue
            groups.append((shared if len(members) > 1 else 0, members))
        members, shared = [ctx], len(ctx) - 1
    if members:
        groups.append((shared if len(members) > 1 else 0, members))
    return groups


def _context_batches(forward: Forward, contexts: Sequence[tuple[int, ...]], *, batch_size: int, pad_id: int,
                     share_prefix: bool) -> Iterator[tuple[list[tuple[int, ...]], torch.Tensor, Any, torch.Tensor]]:
    """Run every context; yield ``(contexts, last logits (C, V), KV cache, attention mask (C, T))`` per batch.

    With ``share_prefix``, a group's common prefix runs once (one row) and its cache is copied to each row
    of the group's batches, which then run only their own tokens: left-padded after the prefix, so the mask is
    ``[1]*prefix + [0]*pad + [1]*suffix`` and positions continue from the prefix's end. Attention is causal and
    masked, so each row sees exactly its own context, as in the unshared computation.
    """
    device = forward.device
    groups = prefix_groups(contexts) if share_prefix else [(0, list(contexts))]
    for shared, members in groups:
        members = sorted(members, key=len, reverse=True)  # longest first: padding is small and OOM shows early
        prefix_cache = None
        if shared:
            prefix = torch.tensor([members[0][:shared]], device=device)
            ones = torch.ones_like(prefix)
            _, prefix_cache = forward(prefix, ones, torch.arange(shared, device=device)[None], keep=1)
        for start in range(0, len(members), batch_size):
            chunk = members[start:start + batch_size]
            if not shared:
                ids, mask, pos = left_pad(chunk, pad_id, device)
                last, cache = forward(ids, mask, pos, keep=1)
            else:
                ids, smask, pos = left_pad([c[shared:] for c in chunk], pad_id, device)
                mask = torch.cat([smask.new_ones((len(chunk), shared)), smask], dim=1)
                rows = torch.zeros(len(chunk), dtype=torch.long, device=device)
                last, cache = forward(ids, mask, pos + shared, cache=select_rows(prefix_cache, rows), keep=1)
            yield chunk, last[:, -1, :], cache, mask


@torch.inference_mode()
def score_shared(forward: Forward, pairs: Sequence[Pair], *, batch_size: int, pad_id: int,
                 share_prefix: bool = True) -> list[Score]:
    """Score every pair, running each distinct context once (and a prefix shared by contexts once, with
    ``share_prefix``). Results in input order."""
    device = forward.device
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.ctx, []).append(i)
    results: list[Score | None] = [None] * len(pairs)
    for chunk, last, cache, mask in _context_batches(forward, list(groups), batch_size=batch_size, pad_id=pad_id,
                                                     share_prefix=share_prefix):
        first = torch.log_softmax(last.float(), dim=-1)  # (C, V): predicts each first token
        ctx_len = mask.sum(-1)  # (C,) real tokens, the position the first continuation token takes
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
