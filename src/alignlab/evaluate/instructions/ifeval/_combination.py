"""``combination:*``: two responses, and repeating the request before answering."""

from __future__ import annotations

from alignlab.evaluate.instructions.ifeval._registry import instruction


@instruction("combination:two_responses", "Two different responses separated by ******.")
def two_responses(response: str) -> bool:
    parts = response.split("******")
    valid = []
    for i, part in enumerate(parts):
        if part.strip():
            valid.append(part.strip())
        elif i not in (0, len(parts) - 1):
            return False  # an empty response between two separators
    return len(valid) == 2 and valid[0] != valid[1]


@instruction("combination:repeat_prompt", "Start by repeating the request word for word (case-insensitive).",
             prompt_to_repeat=str)
def repeat_prompt(response: str, *, prompt_to_repeat: str) -> bool:
    return response.strip().lower().startswith(prompt_to_repeat.strip().lower())
