"""``count:*``: counted words, keywords, numbers, names, pronouns and punctuation marks."""

from __future__ import annotations

import re

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import words
from alignlab.evaluate.instructions.ifeval import count_words

CONJUNCTIONS = frozenset({"for", "and", "nor", "but", "or", "yet", "so"})
# The list every count:person_names prompt gives (the same 50 names in all of them).
PERSON_NAMES = frozenset(
    "Emma Liam Sophia Jackson Olivia Noah Ava Lucas Isabella Mason Mia Ethan Charlotte Alexander Amelia Benjamin "
    "Harper Leo Zoe Daniel Chloe Samuel Lily Matthew Grace Owen Abigail Gabriel Ella Jacob Scarlett Nathan Victoria "
    "Elijah Layla Nicholas Audrey David Hannah Christopher Penelope Thomas Nora Andrew Aria Joseph Claire Ryan Stella "
    "Jonathan".split())
PRONOUNS = frozenset(
    "i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it its itself "
    "we us our ours ourselves they them their theirs themselves".split())
# "Every standard punctuation mark": the ten marks of English prose plus the interrobang the prompt names.
PUNCTUATION = (".", ",", "?", "!", ";", ":", "'", '"', "(", ")", "-")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def _lower_words(text: str) -> list[str]:
    return [w.lower() for w in words(text)]


@constraint("count:conjunctions", "At least small_n different coordinating conjunctions (for, and, nor, but, or, "
            "yet, so), as whole words.", small_n=int)
def conjunctions(response: str, *, small_n: int) -> bool:
    return len(CONJUNCTIONS & set(_lower_words(response))) >= small_n


@constraint("count:keywords_multiple", "keyword1 once, keyword2 twice, keyword3 three times, keyword4 five times "
            "and keyword5 seven times: exact whole-word counts, case-insensitive.",
            keyword1=str, keyword2=str, keyword3=str, keyword4=str, keyword5=str)
def keywords_multiple(response: str, *, keyword1: str, keyword2: str, keyword3: str, keyword4: str,
                      keyword5: str) -> bool:
    counts = _lower_words(response)
    wanted = {keyword1: 1, keyword2: 2, keyword3: 3, keyword4: 5, keyword5: 7}
    return all(counts.count(k.strip().lower()) == n for k, n in wanted.items())


@constraint("count:numbers", "Exactly N numbers, written in digits (1,000 and 3.5 are one number each).", N=int)
def numbers(response: str, *, N: int) -> bool:  # noqa: N803 - the data's argument name
    return len(_NUMBER.findall(response)) == N


@constraint("count:person_names", "At least N different names from the prompt's list of 50 person names.", N=int)
def person_names(response: str, *, N: int) -> bool:  # noqa: N803
    return len(PERSON_NAMES & set(words(response))) >= N


@constraint("count:pronouns", "At least N personal, possessive or reflexive pronouns (counted with repeats).",
            N=int)
def pronouns(response: str, *, N: int) -> bool:  # noqa: N803
    return sum(w in PRONOUNS for w in _lower_words(response)) >= N


@constraint("count:punctuation", "Every standard mark at least once (. , ? ! ; : ' \" ( ) -) and the interrobang "
            "(?! or ‽).")
def punctuation(response: str) -> bool:
    return all(p in response for p in PUNCTUATION) and ("?!" in response or "‽" in response)


@constraint("count:unique_word_count", "At least N different words (case-insensitive).", N=int)
def unique_word_count(response: str, *, N: int) -> bool:  # noqa: N803
    return len(set(_lower_words(response))) >= N


@constraint("count:word_count_range", "Between min_words and max_words words, inclusive (IFEval's word count).",
            min_words=int, max_words=int)
def word_count_range(response: str, *, min_words: int, max_words: int) -> bool:
    return min_words <= count_words(response) <= max_words


@constraint("count:words_japanese", "Every N-th whitespace-separated word (N, 2N, ...) is Japanese (has kana or "
            "kanji); the response has at least N words.", N=int)
def words_japanese(response: str, *, N: int) -> bool:  # noqa: N803
    tokens = response.split()
    nth = tokens[N - 1::N] if N > 0 else []
    return bool(nth) and all(_JAPANESE.search(t) for t in nth)
