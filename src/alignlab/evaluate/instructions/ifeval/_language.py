"""``language:response_language``: the whole response is in one language (langdetect, seeded)."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifeval._registry import instruction
from alignlab.evaluate.instructions.ifeval._util import detect_language


@instruction("language:response_language", "The response is in the language with this ISO 639-1 code.",
             language=str)
def response_language(response: str, *, language: str) -> bool:
    detected = detect_language(response)
    # As in the reference, text langdetect cannot classify (no letters at all) counts as followed.
    return detected is None or detected == language
