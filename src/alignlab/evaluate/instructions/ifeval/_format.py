"""``detectable_format:*`` and ``detectable_content:*``: markdown structure, JSON, titles, placeholders, P.S."""

from __future__ import annotations

import json
import re

from alignlab.evaluate.instructions.ifeval._registry import instruction

CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@instruction("detectable_content:number_placeholders", "At least N placeholders in square brackets, like [name].",
             num_placeholders=int)
def number_placeholders(response: str, *, num_placeholders: int) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= num_placeholders


@instruction("detectable_content:postscript", "A postscript line starting with the marker (P.S., P.P.S, ...).",
             postscript_marker=str)
def postscript(response: str, *, postscript_marker: str) -> bool:
    marker = postscript_marker.strip()
    # The two standard markers tolerate a space after each dot ("p. s."), as in the reference; others match
    # literally. Matching is case-insensitive and the marker may start any line.
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
    return bool(re.findall(pattern, response.lower(), flags=re.MULTILINE))


@instruction("detectable_format:number_bullet_lists", "Exactly N markdown bullet points (* or -).", num_bullets=int)
def number_bullet_lists(response: str, *, num_bullets: int) -> bool:
    # As in the reference: "* item" and any line starting with "-" count ("--- " rules too); "**bold**" lines
    # and numbered lists do not.
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    return len(stars) + len(dashes) == num_bullets


@instruction("detectable_format:constrained_response", "Contains one of: My answer is yes./no./maybe.")
def constrained_response(response: str) -> bool:
    text = response.strip()
    return any(option in text for option in CONSTRAINED_OPTIONS)


@instruction("detectable_format:number_highlighted_sections", "At least N markdown highlights, *like this*.",
             num_highlights=int)
def number_highlighted_sections(response: str, *, num_highlights: int) -> bool:
    singles = re.findall(r"\*[^\n\*]*\*", response)
    doubles = re.findall(r"\*\*[^\n\*]*\*\*", response)
    count = sum(1 for h in singles if h.strip("*").strip())
    count += sum(1 for h in doubles if h.removeprefix("**").removesuffix("**").strip())
    return count >= num_highlights


@instruction("detectable_format:multiple_sections", "At least N sections, each started by '<splitter> <number>'.",
             section_spliter=str, num_sections=int)
def multiple_sections(response: str, *, section_spliter: str, num_sections: int) -> bool:
    # Case-sensitive, as in the reference: "SECTION 1" does not count for the splitter "Section".
    pattern = r"\s?" + re.escape(section_spliter.strip()) + r"\s?\d+\s?"
    return len(re.split(pattern, response)) - 1 >= num_sections


@instruction("detectable_format:json_format", "The whole response is JSON (markdown code fences allowed).")
def json_format(response: str) -> bool:
    text = response.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(fence)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@instruction("detectable_format:title", "A title in double angular brackets, like <<poem of joy>>.")
def title(response: str) -> bool:
    return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))
