"""``punctuation:no_comma``."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifeval._registry import instruction


@instruction("punctuation:no_comma", "No ASCII comma anywhere in the response.")
def no_comma(response: str) -> bool:
    # Only "," counts, as in the reference: the full-width "，" and the Arabic "،" do not.
    return "," not in response
