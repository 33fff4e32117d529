"""Log-likelihood of continuations for a transformers causal LM, sharing each context's forward pass.

Suites ask for several continuations of one context (six Likert options after one long item, A/B/C/D after one
question). Scoring each (context + continuation) from scratch repeats the context's forward pass per option.
Here each distinct context runs once (batched with other contexts, left-padded, ``use_cache=True``); its
last logits score every continuation's first token, and the rest of the continuations run on top of the
context's KV cache as one prefix tree per context (``_score_trees``: answers that begin alike share those tokens,
and no answer is padded to the longest). Single-token continuations (Likert digits, option letters) need no
second forward. Contexts that begin alike (a primer, few-shot examples or instructions before every question)
share more: that common prefix runs once (once per model with a ``PrefixStore``) and its cache is copied under
each context's own tokens (``prefix_groups``). ``score_naive`` is the plain per-request forward, kept to check
the shared path and to benchmark it.
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


class PrefixStore:
    """The KV cache of the last shared prefix, kept between calls: a suite's primer or system prompt sent with
    every batch of requests then runs once per model, not once per call.

    Keyed by the weights' in-place version counters as well as the tokens, so a model trained in place between
    two calls never reuses a cache computed with its old weights.
    """

    def __init__(self, model: Any) -> None:
        params = list(model.parameters())
        self._watched = [params[0], params[-1]] if params else []
        self._entry: tuple[tuple[int, ...], tuple[int, ...], Any] | None = None  # (versions, tokens, cache)

    def _versions(self) -> tuple[int, ...]:
        return tuple(p._version for p in self._watched)

    def get(self, forward: Forward, prefix: tuple[int, ...]) -> Any:
        """A cache holding exactly ``prefix`` (one row), reusing the stored one's longest common start."""
        device, versions = forward.device, self._versions()
        done, base = 0, None
        if self._entry is not None and self._entry[0] == versions:
            done = _lcp(self._entry[1], prefix)
            if done == len(prefix) == len(self._entry[1]):
                return self._entry[2]
            if done >= MIN_SHARED_PREFIX:
                base = select_rows(self._entry[2], torch.zeros(1, dtype=torch.long, device=device))
                # transformers 5 crops by the number of tokens to remove, given as a negative count.
                base.crop(-(len(self._entry[1]) - done))
            else:
                done = 0
        if done < len(prefix):
            ids = torch.tensor([prefix[done:]], device=device)
            mask = torch.ones((1, len(prefix)), dtype=torch.long, device=device)
            pos = torch.arange(done, len(prefix), device=device)[None]
            _, base = forward(ids, mask, pos, cache=base, keep=1)
        self._entry = (versions, prefix, base)
        return base


def _context_batches(forward: Forward, contexts: Sequence[tuple[int, ...]], *, batch_size: int, pad_id: int,
                     share_prefix: bool, store: PrefixStore,
                     ) -> Iterator[tuple[list[tuple[int, ...]], torch.Tensor, Any, torch.Tensor]]:
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
            prefix_cache = store.get(forward, members[0][:shared])
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
                 share_prefix: bool = True, store: PrefixStore | None = None) -> list[Score]:
    """Score every pair, running each distinct context once (and a prefix shared by contexts once, with
    ``share_prefix``; with a ``store`` kept by the caller, once across calls). Results in input order."""
    store = store if store is not None else PrefixStore(forward.model)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(p.ctx, []).append(i)
    results: list[Score | None] = [None] * len(pairs)
    for chunk, last, cache, mask in _context_batches(forward, list(groups), batch_size=batch_size, pad_id=pad_id,
                                                     share_prefix=share_prefix, store=store):
        first = torch.log_softmax(last.float(), dim=-1)  # (C, V): predicts each first token
        members = [(c, i) for c, ctx in enumerate(chunk) for i in groups[ctx]]
        for c, i in members:
            if len(pairs[i].cont) == 1:
                results[i] = _token_scores(first[c:c + 1], pairs[i].cont)
        longer: dict[int, list[int]] = {}
        for c, i in members:
            if len(pairs[i].cont) > 1:
                longer.setdefault(c, []).append(i)
        for rows in _tree_batches(longer, pairs, batch_size):
            _score_trees(forward, rows, longer, pairs, first, cache, mask, pad_id, results)
    return [r for r in results if r is not None]


Tree = tuple[list[int], list[int], dict[tuple[int, ...], int]]
"""(token per node, parent per node, node of each prefix) of one context's continuations."""


def _continuation_tree(conts: Sequence[tuple[int, ...]]) -> Tree:
    """The prefix tree of the continuations' fed tokens (every proper prefix, the last token is only predicted):
    ``(token per node, parent per node (-1: the context), node of each prefix)``, parents before children."""
    tokens: list[int] = []
    parents: list[int] = []
    node: dict[tuple[int, ...], int] = {}
    for t in conts:
        for k in range(1, len(t)):
            prefix = t[:k]
            if prefix not in node:
                node[prefix] = len(tokens)
                tokens.append(t[k - 1])
                parents.append(node[t[:k - 1]] if k > 1 else -1)
    return tokens, parents, node


MIN_ROW_FILL = 0.75
"""A tree joins a batch only if it fills at least this share of the batch's widest row (less padding computed)."""

def _tree_batches(by_ctx: dict[int, list[int]], pairs: Sequence[Pair],
                  batch_size: int) -> Iterator[list[tuple[int, Tree]]]:
    """Each context's continuation tree, grouped into forwards of at most ``batch_size`` rows, largest first; a
    batch ends early where the next tree would fill less than ``MIN_ROW_FILL`` of its widest row."""
    trees = {c: _continuation_tree(sorted({pairs[i].cont for i in members})) for c, members in by_ctx.items()}
    batch: list[tuple[int, Tree]] = []
    width = 0
    for c in sorted(trees, key=lambda c: -len(trees[c][0])):
        size = len(trees[c][0])
        if batch and (len(batch) == batch_size or size < MIN_ROW_FILL * width):
            yield batch
            batch = []
        if not batch:
            width = size
        batch.append((c, trees[c]))
    if batch:
        yield batch


def _score_trees(forward: Forward, rows: list[tuple[int, Tree]], by_ctx: dict[int, list[int]],
                 pairs: Sequence[Pair], first: torch.Tensor, cache: Any, mask: torch.Tensor, pad_id: int,
                 results: list[Score | None]) -> None:
    """Score multi-token continuations with one forward: each context's continuations are laid out as a prefix
    tree in one row on top of the context's cache, every node attending to the context and its own ancestors.

    A shared leading token (" The", " No,") runs once per context and no row is padded to the longest answer,
    so the model computes fewer positions than one padded row per (context, continuation). Tree attention is
    written by hand (transformers takes a custom 4D mask; no library builds the tree). The mask is additive,
    which both the eager and the SDPA attention of transformers accept.
    """
    device = forward.device
    ctx_rows = [c for c, _ in rows]
    trees = [tree for _, tree in rows]
    width = max(len(tokens) for tokens, _, _ in trees)
    n_rows, ctx_width = len(ctx_rows), mask.shape[1]
    ids = torch.full((n_rows, width), pad_id, dtype=torch.long)
    pos = torch.zeros((n_rows, width), dtype=torch.long)
    allowed = torch.zeros((n_rows, width, ctx_width + width), dtype=torch.bool)
    ctx_len = mask.sum(-1).cpu()
    index = torch.tensor(ctx_rows, device=mask.device)
    allowed[:, :, :ctx_width] = mask[index].bool().cpu()[:, None, :]
    for r, (c, (tokens, parents, _)) in enumerate(zip(ctx_rows, trees, strict=True)):
        depth = [0] * len(tokens)
        for n, parent in enumerate(parents):
            depth[n] = depth[parent] + 1 if parent >= 0 else 0
            if parent >= 0:
                allowed[r, n, ctx_width:] = allowed[r, parent, ctx_width:]
            allowed[r, n, ctx_width + n] = True
        ids[r, : len(tokens)] = torch.tensor(tokens)
        pos[r, : len(tokens)] = int(ctx_len[c]) + torch.tensor(depth)
        for n in range(len(tokens), width):  # padding nodes see only themselves (a fully masked row gives NaN)
            allowed[r, n, ctx_width + n] = True
    dtype = forward.dtype
    additive = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
    logits, _ = forward(ids.to(device), additive[:, None].to(device), pos.to(device),
                        cache=select_rows(cache, index))
    for r, c in enumerate(ctx_rows):
        node = trees[r][2]
        for i in by_ctx[c]:
            t = pairs[i].cont
            rows = torch.tensor([node[t[:k]] for k in range(1, len(t))], device=device)
            rest = torch.log_softmax(logits[r, rows].float(), dim=-1)  # (len-1, V)
            results[i] = _token_scores(torch.cat([first[c:c + 1], rest], dim=0), t)


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
