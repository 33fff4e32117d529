"""``format:*``: layout constraints (emoji endings, indented stairs, custom bullets, nesting, templates...)."""

from __future__ import annotations

import re

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import is_emoji, sentences, words

_OPEN, _CLOSE = "([{", ")]}"
_BULLET = re.compile(r"^\s*[*•]\s|^\s*-\s")
# Words title case may leave in lower case (articles, short conjunctions and prepositions).
MINOR_WORDS = frozenset(
    "a an the and but or nor for so yet as at by in of off on per to up via vs from into onto over with upon".split())
TEMPLATE = ("My Answer:", "My Conclusion:", "Future Outlook:")


def _strip_marks(text: str) -> str:
    return text.rstrip(" \t.!?,;:\"'”’)*_")


@constraint("format:emoji", "Every sentence ends with an emoji (after or just before its final mark).")
def emoji(response: str) -> bool:
    parts = sentences(response)
    # Punkt leaves an emoji that follows a full stop at the start of the next sentence: move it back.
    ends: list[str] = []
    for s in parts:
        lead = ""
        while s and is_emoji(s[0]):
            lead, s = lead + s[0], s[1:].lstrip()
        if ends and lead:
            ends[-1] += lead
        if s.strip():
            ends.append(s.strip())
    return bool(ends) and all(_strip_marks(e) and (is_emoji(_strip_marks(e)[-1]) or is_emoji(e[-1])) for e in ends)


@constraint("format:line_indent", "Stairs: each non-empty line is indented further than the one before (two lines "
            "at least).")
def line_indent(response: str) -> bool:
    lines = [ln.expandtabs(4) for ln in response.split("\n") if ln.strip()]
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines]
    return len(lines) >= 2 and all(b > a for a, b in zip(indents, indents[1:], strict=False))


@constraint("format:list", "A list whose items are marked by sep instead of bullets: sep at least twice, no "
            "ordinary bullet lines.", sep=str)
def sep_list(response: str, *, sep: str) -> bool:
    bullets = [ln for ln in response.split("\n") if _BULLET.match(ln) and not ln.strip().startswith(sep)]
    return response.count(sep) >= 2 and not bullets


@constraint("format:newline", "Each word on its own line: every non-empty line holds one whitespace-separated "
            "token.")
def newline(response: str) -> bool:
    lines = [ln for ln in response.split("\n") if ln.strip()]
    return bool(lines) and all(len(ln.split()) == 1 for ln in lines)


@constraint("format:no_bullets_bullets", "At least two sentences ending in a full stop, then at least two bullet "
            "points marked by *.")
def no_bullets_bullets(response: str) -> bool:
    lines = response.split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("* ")), None)
    if first is None:
        return False
    intro = "\n".join(lines[:first])
    bullets = [ln for ln in lines[first:] if ln.lstrip().startswith("* ")]
    return len(re.findall(r"[^.!?\n]+\.(?=\s|$)", intro)) >= 2 and len(bullets) >= 2


@constraint("format:no_whitespace", "No whitespace character anywhere.")
def no_whitespace(response: str) -> bool:
    return not re.search(r"\s", response)


@constraint("format:options", "The response is exactly one of the options (case-insensitive, final punctuation "
            "ignored); options are separated by '/', ', ' or ' or '.", options=str)
def options(response: str, *, options: str) -> bool:
    choices = {o.strip().lower() for o in re.split(r"/|, | or ", options) if o.strip()}
    answer = response.strip().lower()
    return answer in choices or answer.rstrip(".!") in choices


@constraint("format:output_template", "The template 'My Answer: … My Conclusion: … Future Outlook: …' filled in: "
            "the response starts with 'My Answer:', the three labels appear once each, in order, each followed by "
            "text and none left as its [placeholder].")
def output_template(response: str) -> bool:
    text = response.strip()
    if not text.startswith(TEMPLATE[0]) or any(text.count(label) != 1 for label in TEMPLATE):
        return False
    at = [text.index(label) for label in TEMPLATE]
    if at != sorted(at):
        return False
    fills = [text[a + len(lab):b] for a, lab, b in zip(at, TEMPLATE, [*at[1:], len(text)], strict=False)]
    placeholders = ("[answer]", "[conclusion]", "[outlook]")
    return all(f.strip() and f.strip().lower() != p for f, p in zip(fills, placeholders, strict=False))


@constraint("format:parentheses", "Brackets of any kind — (), [], {} — nested at least 5 levels deep.")
def parentheses(response: str) -> bool:
    depth = best = 0
    for ch in response:
        if ch in _OPEN:
            depth += 1
            best = max(best, depth)
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return best >= 5


@constraint("format:quote_unquote", "Every double-quoted phrase is followed, on its line, by unquoted text with at "
            "least one word; at least one quoted phrase.")
def quote_unquote(response: str) -> bool:
    text = response.replace("“", '"').replace("”", '"')
    found = list(re.finditer(r'"[^"\n]+"', text))
    if not found:
        return False
    for m in found:
        rest = text[m.end():].split("\n", 1)[0].split('"', 1)[0]
        if not words(rest):
            return False
    return True


_NESTED = (re.compile(r'"[^"]*\'[^\']*"[^"]*"[^\']*\'[^"]*"'), re.compile(r'\'[^\']*"[^"]*\'[^\']*\'[^"]*"[^\']*\''))


@constraint("format:quotes", "Quotes within quotes within quotes, three levels, alternating double and single "
            "(curly quotes count as straight ones).")
def quotes(response: str) -> bool:
    text = response.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))
    return any(p.search(text) for p in _NESTED)


@constraint("format:sub-bullets", "Bullet points marked by *, each followed by at least one sub-bullet marked by - "
            "(before the next bullet).")
def sub_bullets(response: str) -> bool:
    kinds = []
    for ln in response.split("\n"):
        s = ln.strip()
        if s.startswith("* "):
            kinds.append("*")
        elif s.startswith("- "):
            kinds.append("-")
    blocks = "".join(kinds).split("*")
    # blocks[0] is what comes before the first bullet; every later block is one bullet's sub-bullets.
    return len(blocks) > 1 and all(b for b in blocks[1:])


@constraint("format:thesis", "Every section (block separated by a blank line; a heading line before it is "
            "allowed) begins with an HTML-italic thesis: <i>…</i> or <em>…</em>.")
def thesis(response: str) -> bool:
    sections = [s.strip() for s in re.split(r"\n\s*\n", response) if s.strip()]
    ok = []
    for s in sections:
        lines = s.split("\n")
        if lines[0].lstrip().startswith("#") and len(lines) > 1:
            lines = lines[1:]
        body = "\n".join(lines).strip()
        ok.append(bool(re.match(r"<(i|em)>.+?</\1>", body, flags=re.DOTALL)))
    return bool(ok) and all(ok)


@constraint("format:title_case", "Every word starting with a letter is capitalised, except minor words (articles, "
            "short conjunctions and prepositions) that are not a line's first word.")
def title_case(response: str) -> bool:
    for line in response.split("\n"):
        toks = [w for w in words(line) if w[0].isalpha()]
        for i, w in enumerate(toks):
            if not w[0].isupper() and (i == 0 or w.lower() not in MINOR_WORDS):
                return False
    return bool(words(response))
