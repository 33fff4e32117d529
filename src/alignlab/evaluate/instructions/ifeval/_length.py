"""``length_constraints:*``: sentences, words and paragraphs."""

from __future__ import annotations

import re

from alignlab.evaluate.instructions.ifeval._registry import compare, instruction
from alignlab.evaluate.instructions.ifeval._util import count_sentences, count_words

_FIRST_WORD_STOP = set(".,?!'\"")


@instruction("length_constraints:number_sentences", "Less than / at least N sentences (NLTK Punkt).",
             num_sentences=int, relation=str)
def number_sentences(response: str, *, num_sentences: int, relation: str) -> bool:
    return compare(count_sentences(response), relation, num_sentences)


@instruction("length_constraints:number_words", "Less than / at least N words (runs of \\w).",
             num_words=int, relation=str)
def number_words(response: str, *, num_words: int, relation: str) -> bool:
    return compare(count_words(response), relation, num_words)


@instruction("length_constraints:number_paragraphs", "Exactly N paragraphs separated by the markdown divider ***.",
             num_paragraphs=int)
def number_paragraphs(response: str, *, num_paragraphs: int) -> bool:
    parts = re.split(r"\s?\*\*\*\s?", response)
    count = len(parts)
    for i, part in enumerate(parts):
        if not part.strip():
            # An empty piece before the first or after the last divider is not a paragraph; one in the middle
            # means two dividers in a row, which the reference treats as a failure.
            if i in (0, len(parts) - 1):
                count -= 1
            else:
                return False
    return count == num_paragraphs


@instruction("length_constraints:nth_paragraph_first_word",
             "Exactly N paragraphs separated by blank lines; paragraph i starts with a given word.",
             num_paragraphs=int, nth_paragraph=int, first_word=str)
def nth_paragraph_first_word(response: str, *, num_paragraphs: int, nth_paragraph: int, first_word: str) -> bool:
    parts = re.split(r"\n\n", response)
    count = sum(1 for p in parts if p.strip())
    # Like the reference, the paragraph is picked from the raw split (empty pieces included) while the count
    # skips empty ones; so "\n\n\n\n" between paragraphs can shift which piece is read.
    if nth_paragraph > count:
        return False
    paragraph = parts[nth_paragraph - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    first = ""
    for ch in word:
        if ch in _FIRST_WORD_STOP:
            break
        first += ch.lower()
    return count == num_paragraphs and first == first_word.lower()
