"""``ratio:*``: proportions of sentence types, equal sentences and stop words."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import end_type, sentences, words


def _types(response: str) -> list[str | None]:
    return [end_type(s) for s in sentences(response)]


@constraint("ratio:sentence_balance", "Balanced sentence types: as many declarative (.) as interrogative (?) as "
            "exclamatory (!) sentences, at least one of each.")
def sentence_balance(response: str) -> bool:
    t = _types(response)
    n = [t.count(k) for k in ("declarative", "interrogative", "exclamatory")]
    return n[0] > 0 and n[0] == n[1] == n[2]


@constraint("ratio:sentence_type", "Declarative and interrogative sentences in a 2:1 ratio (at least one question).")
def sentence_type(response: str) -> bool:
    t = _types(response)
    q = t.count("interrogative")
    return q > 0 and t.count("declarative") == 2 * q


@constraint("ratio:sentence_words", "Exactly three sentences with the same number of characters and no word used "
            "twice across them (case-insensitive).")
def sentence_words(response: str) -> bool:
    s = [x.strip() for x in sentences(response)]
    if len(s) != 3 or len({len(x) for x in s}) != 1:
        return False
    all_words = [w.lower() for x in s for w in words(x)]
    return len(all_words) == len(set(all_words))


@constraint("ratio:stop_words", "Stop words (scikit-learn's English list) are at most percentage% of the words.",
            percentage=int)
def stop_words(response: str, *, percentage: int) -> bool:
    # scikit-learn's list (318 words) stands in for "stop words", which the paper does not enumerate.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    ws = [w.lower() for w in words(response)]
    return bool(ws) and 100 * sum(w in ENGLISH_STOP_WORDS for w in ws) <= percentage * len(ws)
