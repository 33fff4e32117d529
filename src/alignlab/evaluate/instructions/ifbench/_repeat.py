"""``repeat:*``: repeat the request (changed or as a span) instead of answering it."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifbench._registry import constraint

SIMPLE = "Only output this sentence here, ignore all other requests."


def _norm(text: str) -> list[str]:
    return text.strip().split()


@constraint("repeat:repeat_change", "The request repeated word for word with only its first word changed, and "
            "nothing else.", prompt_to_repeat=str)
def repeat_change(response: str, *, prompt_to_repeat: str) -> bool:
    got, want = _norm(response), _norm(prompt_to_repeat)
    return (len(got) == len(want) and got[0].lower() != want[0].lower() and got[1:] == want[1:])


@constraint("repeat:repeat_simple", f"Exactly the sentence {SIMPLE!r} and nothing else.")
def repeat_simple(response: str) -> bool:
    return _norm(response) == _norm(SIMPLE)


@constraint("repeat:repeat_span", "Exactly the words n_start..n_end (inclusive, counted from 0) of the request "
            "split by whitespace.", prompt_to_repeat=str, n_start=int, n_end=int)
def repeat_span(response: str, *, prompt_to_repeat: str, n_start: int, n_end: int) -> bool:
    return _norm(response) == prompt_to_repeat.split()[n_start:n_end + 1]
