"""Text units the IFBench checkers count: words, sentences (IFEval's Punkt splitter) and paragraphs."""

from __future__ import annotations

import re
import unicodedata

from alignlab.evaluate.instructions.ifeval import split_sentences

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LETTERS = re.compile(r"[A-Za-z]+")


def words(text: str) -> list[str]:
    """Words: runs of letters/digits, with inner apostrophes kept (``don't`` is one word)."""
    return _WORD.findall(text)


def letter_words(text: str) -> list[str]:
    """Runs of ASCII letters only (for spelling constraints: consonants, vowels, lengths)."""
    return _LETTERS.findall(text)


def sentences(text: str) -> list[str]:
    return [s for s in split_sentences(text.strip()) if s.strip()]


def paragraphs(text: str) -> list[str]:
    """Non-empty lines (IFBench's prompts say "separate paragraphs with a newline")."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def end_type(sentence: str) -> str | None:
    """``declarative`` / ``interrogative`` / ``exclamatory`` by the final mark (``?!`` counts as a question)."""
    s = sentence.rstrip(" \"'”’)*_")
    if s.endswith("?") or s.endswith("?!") or s.endswith("‽"):
        return "interrogative"
    if s.endswith("!"):
        return "exclamatory"
    if s.endswith("."):
        return "declarative"
    return None


def is_emoji(ch: str) -> bool:
    """A pictographic character: Unicode's symbol blocks for emoji (So category at U+2600 and above)."""
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF) or (0x2600 <= cp <= 0x27BF and unicodedata.category(ch) == "So")
