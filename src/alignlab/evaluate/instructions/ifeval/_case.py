"""``change_case:*``: all capitals, all lowercase, and counted capitalised words."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifeval._registry import compare, instruction
from alignlab.evaluate.instructions.ifeval._util import detect_language, word_tokens


def _english(response: str) -> bool:
    detected = detect_language(response)
    return detected is None or detected == "en"  # undetectable text counts as followed, as in the reference


@instruction("change_case:english_capital", "In English and in capital letters only.")
def english_capital(response: str) -> bool:
    # str.isupper: every cased character is upper case and there is at least one.
    return response.isupper() and _english(response)


@instruction("change_case:english_lowercase", "In English and in lowercase letters only.")
def english_lowercase(response: str) -> bool:
    return response.islower() and _english(response)


@instruction("change_case:capital_word_frequency", "Words in all capitals appear less than / at least N times.",
             capital_frequency=int, capital_relation=str)
def capital_word_frequency(response: str, *, capital_frequency: int, capital_relation: str) -> bool:
    # NLTK word tokens, so "FINE-TUNED" is one word and "I" counts as a capitalised word.
    n = sum(1 for tok in word_tokens(response) if tok.isupper())
    return compare(n, capital_relation, capital_frequency)
