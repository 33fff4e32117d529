"""Reading OpenAI-compatible answers: generations, and continuation log-probabilities from echoed prompts."""

from __future__ import annotations

from typing import Any

from alignlab.models._http_retry import AttemptError
from alignlab.models._types import GenerateResult, LoglikelihoodResult


class NoLogprobs:
    """Marker: the server answered but gave no prompt log-probabilities."""

    def __init__(self, why: str) -> None:
        self.why = why


def first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AttemptError("malformed response", "no choices in the answer")
    return choices[0]


def _finish(choice: dict[str, Any]) -> str:
    return "length" if choice.get("finish_reason") == "length" else "stop"


def _n_tokens(data: dict[str, Any]) -> int:
    usage = data.get("usage")
    value = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return int(value) if isinstance(value, int | float) else 0


def parse_chat(data: dict[str, Any]) -> GenerateResult:
    choice = first_choice(data)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise AttemptError("malformed response", "choice has no message")
    return GenerateResult(
        text=message.get("content") or "", n_tokens=_n_tokens(data), finish_reason=_finish(choice)
    )


def parse_completion(data: dict[str, Any]) -> GenerateResult:
    choice = first_choice(data)
    text = choice.get("text")
    if not isinstance(text, str):
        raise AttemptError("malformed response", "choice has no text")
    return GenerateResult(text=text, n_tokens=_n_tokens(data), finish_reason=_finish(choice))


def parse_loglikelihood(
    data: dict[str, Any], context_len: int, full_len: int
) -> LoglikelihoodResult | NoLogprobs:
    """Score the continuation ``[context_len, full_len)`` from a ``/v1/completions`` answer with echo."""
    scored = continuation_logprob(first_choice(data), context_len, full_len)
    if scored is None:
        return NoLogprobs("the answer has neither logprobs.token_logprobs nor prompt_logprobs")
    logprob, n_tokens, greedy = scored
    return LoglikelihoodResult(logprob=logprob, n_tokens=n_tokens, is_greedy=greedy)


def continuation_logprob(
    choice: dict[str, Any], context_len: int, full_len: int
) -> tuple[float, int, bool] | None:
    """(summed logprob, tokens, greedy) of the characters ``[context_len, full_len)`` of an echoed prompt.

    Reads OpenAI's legacy ``logprobs`` (``tokens``, ``token_logprobs``, ``text_offset``, ``top_logprobs``) or
    vLLM's ``prompt_logprobs``. None when the answer carries neither.
    """
    legacy = choice.get("logprobs")
    if isinstance(legacy, dict) and legacy.get("token_logprobs") and legacy.get("text_offset"):
        return _sum_spans(_legacy_spans(legacy), context_len, full_len)
    prompt_lps = choice.get("prompt_logprobs")
    if isinstance(prompt_lps, list) and prompt_lps:
        return _sum_spans(_vllm_spans(prompt_lps, full_len), context_len, full_len)
    return None


Span = tuple[int, int, float | None, bool]
"""(start char, end char, logprob, whether the token was the argmax)."""


def _legacy_spans(legacy: dict[str, Any]) -> list[Span]:
    tokens, lps, offsets = legacy.get("tokens") or [], legacy["token_logprobs"], legacy["text_offset"]
    tops = legacy.get("top_logprobs") or []
    spans: list[Span] = []
    for i, (lp, start) in enumerate(zip(lps, offsets, strict=False)):
        token = tokens[i] if i < len(tokens) else ""
        # The next token's offset is the safest end: token text may not round-trip (split UTF-8 bytes).
        end = offsets[i + 1] if i + 1 < len(offsets) else start + len(token)
        top = tops[i] if i < len(tops) else None
        # Greedy if no entry of top_logprobs beats the token. Not "token in top": llama-cpp-python always adds
        # the actual token to that dict, whatever its rank.
        argmax = bool(top) and lp is not None and float(lp) >= max(top.values()) - 1e-6
        spans.append((start, end, lp, argmax))
    return spans


def _vllm_spans(prompt_lps: list[Any], full_len: int) -> list[Span]:
    """vLLM: one ``{token_id: {logprob, rank, decoded_token}}`` per prompt token (None for the first).

    With ``prompt_logprobs=1`` a position holds the actual token and, when that was not the argmax, the argmax
    too; the actual one is then the entry whose rank is not 1. Offsets are rebuilt from the end of the prompt
    because the first token's text is not given.
    """
    spans: list[Span] = []
    end = full_len
    for entry in reversed(prompt_lps[1:]):
        values = [v for v in entry.values() if isinstance(v, dict)] if isinstance(entry, dict) else []
        if not values:
            raise AttemptError("malformed response", "empty prompt_logprobs entry")
        actual = next((v for v in values if v.get("rank") != 1), values[0])
        start = end - len(actual.get("decoded_token") or "")
        spans.append((start, end, actual.get("logprob"), actual.get("rank", 1) == 1))
        end = start
    return spans[::-1]


def _sum_spans(spans: list[Span], context_len: int, full_len: int) -> tuple[float, int, bool]:
    # A token that straddles the boundary counts as continuation: the server tokenized both as one text,
    # and leaving it out would drop the continuation's first characters.
    total, n, greedy = 0.0, 0, True
    for start, end, lp, argmax in spans:
        if start >= full_len or max(end, start + 1) <= context_len:
            continue  # a context token, or the token generated after the prompt
        if lp is None:
            raise AttemptError("malformed response", "no logprob for a continuation token (empty context?)")
        total += float(lp)
        n += 1
        greedy = greedy and argmax
    if n == 0:
        raise AttemptError("malformed response", "no tokens fall inside the continuation")
    return total, n, greedy
