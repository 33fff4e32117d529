"""``startend:*``: how the response ends, or what wraps it."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifeval._registry import instruction


@instruction("startend:end_checker", "Ends with the exact phrase (case-insensitive; a closing quote is ignored).",
             end_phrase=str)
def end_checker(response: str, *, end_phrase: str) -> bool:
    return response.strip().strip('"').lower().endswith(end_phrase.strip().lower())


@instruction("startend:quotation", 'The whole response is wrapped in double quotation marks (").')
def quotation(response: str) -> bool:
    text = response.strip()
    # Only ASCII quotes count, as in the reference: curly quotes “...” fail.
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'
