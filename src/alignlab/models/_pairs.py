"""Tokenizing (context, continuation) pairs for log-likelihood scoring; shared by the hf, llamacpp and vllm
backends."""

from __future__ import annotations

from collections.abc import Callable

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
