"""Tokenizing (context, continuation) pairs for log-likelihood scoring; shared by the hf, llamacpp and vllm
backends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Encode = Callable[[str, bool], list[int]]
"""``encode(text, add_special)``: token ids, with BOS (if the model adds one) when ``add_special``."""


def encode_pair(
    encode: Encode, context: str, continuation: str, *, chat: bool, start_token: int | None
) -> tuple[list[int], list[int]]:
    """Tokenize a (context, continuation) pair the way lm-evaluation-harness does.

    Raw contexts hand trailing whitespace to the continuation ("Answer: " + "A" is scored as "Answer:" +
    " A"), because BPE vocabularies attach the space to the following word. The context is encoded alone,
    so every continuation of one context sees identical context tokens (that is what lets them share its
    forward pass); the continuation's tokens are those of the whole string after the context's length, so
    a word is scored as the model would see it in running text. When a merge crosses the boundary (the
    whole string's first tokens differ from the context's), the continuation is encoded on its own instead,
    so that exactly its characters are scored. Chat contexts end in the template's generation prompt and
    are left as they are. An empty context becomes ``[start_token]`` (BOS, or EOS for models without one,
    as lm-eval does).
    """
    special = not chat  # rendered chat text already holds its special tokens (BOS included, if any)
    if not chat:
        n_space = len(context) - len(context.rstrip())
        if n_space:
            context, continuation = context[:-n_space], context[-n_space:] + continuation
    ctx = encode(context, special) if context else []
    whole = encode(context + continuation, special)
    cont = whole[len(ctx):]
    if whole[: len(ctx)] != ctx or not cont:
        cont = encode(continuation, False) if continuation else []
    if not ctx and start_token is not None:
        ctx = [start_token]
    return ctx, cont


def encode_requests(
    api: Any, requests: Sequence[Any], encode: Encode, *, start_token: int | None, max_tokens: int
) -> tuple[list[Any], list[tuple[int, list[int], list[int]]]]:
    """Render and tokenize every log-likelihood request of ``api`` (a ModelAPI).

    Returns the results already known (render errors, empty continuations, pairs longer than ``max_tokens``)
    with None where scoring is still owed, and ``(index, context ids, continuation ids)`` for those.
    """
    from alignlab.errors import AlignlabError
    from alignlab.models._types import LoglikelihoodResult

    results: list[LoglikelihoodResult | None] = [None] * len(requests)
    todo: list[tuple[int, list[int], list[int]]] = []
    for i, r in enumerate(requests):
        try:
            chat = api.use_chat(r.context, r.chat)
            ctx, cont = encode_pair(encode, api.render(r.context, r.chat), r.continuation, chat=chat,
                                    start_token=start_token)
        except AlignlabError as e:
            results[i] = LoglikelihoodResult(error=str(e))
            continue
        if not cont:
            results[i] = LoglikelihoodResult(logprob=0.0, n_tokens=0, is_greedy=True)
        elif len(ctx) + len(cont) > max_tokens:
            results[i] = LoglikelihoodResult(
                error=f"context + continuation have {len(ctx) + len(cont)} tokens; the model's context is {max_tokens}"
            )
        else:
            todo.append((i, ctx, cont))
    return results, todo
