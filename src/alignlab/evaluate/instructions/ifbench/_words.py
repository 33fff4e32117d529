"""``words:*``: constraints on every word (letters, lengths, order) and on words at given positions."""

from __future__ import annotations

from collections import Counter

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import letter_words, paragraphs, sentences, words

VOWELS = "aeiou"


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


@constraint("words:alphabet", "Each word starts with the letter after the previous word's first letter, Z looping "
            "back to A (two words at least).")
def alphabet(response: str) -> bool:
    firsts = [w[0].lower() for w in letter_words(response)]
    return len(firsts) >= 2 and all((ord(b) - ord(a)) % 26 == 1 for a, b in zip(firsts, firsts[1:], strict=False))


@constraint("words:consonants", "Every word has a consonant cluster: two consonant letters in a row (y counts as "
            "a consonant).")
def consonants(response: str) -> bool:
    ws = letter_words(response)

    def cluster(w: str) -> bool:
        lw = w.lower()
        return any(a not in VOWELS and b not in VOWELS for a, b in zip(lw, lw[1:], strict=False))

    return bool(ws) and all(cluster(w) for w in ws)


@constraint("words:keywords_specific_position", "The keyword is the m-th word of the n-th sentence (both counted "
            "from 1, case-insensitive).", keyword=str, n=int, m=int)
def keywords_specific_position(response: str, *, keyword: str, n: int, m: int) -> bool:
    s = sentences(response)
    if not 1 <= n <= len(s):
        return False
    ws = words(s[n - 1])
    return 1 <= m <= len(ws) and ws[m - 1].lower() == keyword.strip().lower()


@constraint("words:last_first", "The last word of each sentence is the first word of the next (case-insensitive; "
            "two sentences at least).")
def last_first(response: str) -> bool:
    ws = [words(s) for s in sentences(response)]
    ws = [w for w in ws if w]
    return len(ws) >= 2 and all(a[-1].lower() == b[0].lower() for a, b in zip(ws, ws[1:], strict=False))


@constraint("words:no_consecutive", "No two consecutive words start with the same letter (case-insensitive).")
def no_consecutive(response: str) -> bool:
    firsts = [w[0].lower() for w in words(response)]
    return bool(firsts) and all(a != b for a, b in zip(firsts, firsts[1:], strict=False))


@constraint("words:palindrome", "At least 10 different palindromic words of 5 or more letters (case-insensitive).")
def palindrome(response: str) -> bool:
    found = {w.lower() for w in letter_words(response) if len(w) >= 5 and w.lower() == w.lower()[::-1]}
    return len(found) >= 10


@constraint("words:paragraph_last_first", "Each paragraph (non-empty line) ends with the word it starts with "
            "(case-insensitive).")
def paragraph_last_first(response: str) -> bool:
    paras = [words(p) for p in paragraphs(response)]
    paras = [p for p in paras if p]
    return bool(paras) and all(p[0].lower() == p[-1].lower() for p in paras)


@constraint("words:prime_lengths", "Every word (run of letters) has a prime number of letters.")
def prime_lengths(response: str) -> bool:
    ws = letter_words(response)
    return bool(ws) and all(_is_prime(len(w)) for w in ws)


@constraint("words:repeats", "No word used more than small_n times (case-insensitive).", small_n=int)
def repeats(response: str, *, small_n: int) -> bool:
    counts = Counter(w.lower() for w in words(response))
    return bool(counts) and max(counts.values()) <= small_n


@constraint("words:vowel", "The words together use exactly three of the five vowels a, e, i, o, u.")
def vowel(response: str) -> bool:
    used = {c for w in letter_words(response) for c in w.lower() if c in VOWELS}
    return len(used) == 3


@constraint("words:words_position", "The second word and the second-to-last word are the keyword "
            "(case-insensitive).", keyword=str)
def words_position(response: str, *, keyword: str) -> bool:
    ws = [w.lower() for w in words(response)]
    k = keyword.strip().lower()
    return len(ws) >= 2 and ws[1] == k and ws[-2] == k
