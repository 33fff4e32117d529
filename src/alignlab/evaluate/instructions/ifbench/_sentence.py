"""``sentence:*``: per-sentence constraints (growing alliteration, growing length, a keyword's sentence)."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import sentences, words


def _longest_alliteration(sentence: str) -> int:
    best = run = 0
    prev = ""
    for w in words(sentence):
        first = w[0].lower()
        run = run + 1 if first == prev else 1
        prev, best = first, max(best, run)
    return best


@constraint("sentence:alliteration_increment", "Each sentence's longest run of consecutive words with the same "
            "first letter is longer than the previous sentence's (two sentences at least).")
def alliteration_increment(response: str) -> bool:
    runs = [_longest_alliteration(s) for s in sentences(response)]
    return len(runs) >= 2 and all(b > a for a, b in zip(runs, runs[1:], strict=False))


@constraint("sentence:increment", "Each sentence has exactly small_n more words than the previous one (two "
            "sentences at least).", small_n=int)
def increment(response: str, *, small_n: int) -> bool:
    n = [len(words(s)) for s in sentences(response)]
    return len(n) >= 2 and all(b - a == small_n for a, b in zip(n, n[1:], strict=False))


@constraint("sentence:keyword", "The word appears (whole word, case-insensitive) in the N-th sentence.", N=int,
            word=str)
def keyword(response: str, *, N: int, word: str) -> bool:  # noqa: N803
    s = sentences(response)
    return 1 <= N <= len(s) and word.strip().lower() in {w.lower() for w in words(s[N - 1])}
