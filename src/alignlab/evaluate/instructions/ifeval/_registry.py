"""The 25 IFEval instruction types: id → checker function and the keyword arguments it takes.

Checkers are registered by the family modules with ``@instruction(id, name=type, ...)``; arguments are validated
when a prompt file is read (a bad or missing argument fails there, naming the instruction), never mid-run. Unlike
the reference, a missing argument is an error rather than a random draw, so scoring is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from alignlab.registry import Registry

RELATIONS = ("less than", "at least")
# The checker families register their instruction types when imported (on first lookup).
INSTRUCTIONS: Registry[Instruction] = Registry("instruction", [
    f"{__package__}.{family}" for family in ("_keywords", "_language", "_length", "_format", "_combination",
                                             "_startend", "_case", "_punctuation")])


@dataclass(frozen=True)
class Instruction:
    """One verifiable instruction type."""

    id: str
    """``family:name``, as in IFEval's ``instruction_id_list``."""
    check: Callable[..., bool]
    """``check(response, **kwargs)``: True when the response follows the instruction."""
    params: Mapping[str, type]
    """The keyword arguments ``check`` takes, with their types (all required)."""
    description: str

    def validate(self, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the arguments ``check`` needs, or raise ValueError saying what is wrong.

        ``None`` values and absent keys are the same thing: Hugging Face's copy of IFEval fills every argument of
        every type with null, so nulls are dropped before checking (a ``maybe_*`` step that leaves clean data alone).
        """
        given = {k: v for k, v in (kwargs or {}).items() if v is not None}
        extra = sorted(set(given) - set(self.params))
        if extra:
            raise ValueError(f"{self.id} takes no argument {extra[0]!r} (it takes: {', '.join(self.params) or 'none'})")
        out: dict[str, Any] = {}
        for name, typ in self.params.items():
            if name not in given:
                raise ValueError(f"{self.id} needs argument {name!r}")
            value = given[name]
            if typ is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{self.id}: {name} must be a non-negative integer, got {value!r}")
            if typ is str and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{self.id}: {name} must be a non-empty string, got {value!r}")
            if typ is list and (not isinstance(value, list) or not value
                                or not all(isinstance(v, str) and v.strip() for v in value)):
                raise ValueError(f"{self.id}: {name} must be a non-empty list of strings, got {value!r}")
            if name.endswith("relation") and value not in RELATIONS:
                raise ValueError(f"{self.id}: {name} must be one of {RELATIONS}, got {value!r}")
            out[name] = value
        _extra_checks.get(self.id, lambda _: None)(out)
        return out


def _letter(kw: dict[str, Any]) -> None:
    if len(kw["letter"].strip()) != 1:
        raise ValueError(f"keywords:letter_frequency: letter must be one character, got {kw['letter']!r}")


def _nth(kw: dict[str, Any]) -> None:
    if not 1 <= kw["nth_paragraph"] <= kw["num_paragraphs"]:
        raise ValueError("length_constraints:nth_paragraph_first_word: nth_paragraph must be in 1..num_paragraphs")


_extra_checks: dict[str, Callable[[dict[str, Any]], None]] = {
    "keywords:letter_frequency": _letter,
    "length_constraints:nth_paragraph_first_word": _nth,
}


Register = Callable[..., Callable[[Callable[..., bool]], Callable[..., bool]]]


def checker_decorator(registry: Registry[Instruction]) -> Register:
    """``decorator(id, description, **params)`` registering ``check(response, **params) -> bool`` in
    ``registry`` (IFEval's instructions here; IFBench's constraints keep a registry of their own)."""

    def register(checker_id: str, description: str, **params: type) -> Callable[[Callable[..., bool]],
                                                                                Callable[..., bool]]:
        def deco(fn: Callable[..., bool]) -> Callable[..., bool]:
            registry.add(checker_id, Instruction(checker_id, fn, dict(params), description))
            return fn

        return deco

    return register


instruction = checker_decorator(INSTRUCTIONS)
"""Register ``check(response, **params) -> bool`` as the checker of an IFEval instruction id."""


def instructions() -> dict[str, Instruction]:
    """All registered instruction types by id."""
    return INSTRUCTIONS.entries()


def get_instruction(instruction_id: str) -> Instruction:
    found = INSTRUCTIONS.find(instruction_id)
    if found is None:
        raise ValueError(f"unknown instruction {instruction_id!r}")
    return found


def compare(count: int, relation: str, threshold: int) -> bool:
    """``less than`` → count < threshold; ``at least`` → count >= threshold."""
    return count < threshold if relation == "less than" else count >= threshold


def follows(instruction_id: str, response: str, kwargs: Mapping[str, Any] | None) -> bool:
    """Whether ``response`` follows one instruction; an empty (or all-whitespace) response follows none."""
    inst = get_instruction(instruction_id)
    return bool(response.strip()) and bool(inst.check(response, **inst.validate(kwargs)))
