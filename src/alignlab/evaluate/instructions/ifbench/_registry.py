"""IFBench's constraint ids → checkers, and the ids alignlab declares it cannot verify.

Checkers reuse IFEval's ``Instruction`` (id, check, typed arguments, description) in a registry of their own, so
IFEval's suites do not accept IFBench ids and vice versa. They are written for alignlab from the paper's
constraint descriptions and the data's arguments (IFBench's own code is not copied); where the wording leaves a
choice open, the checker's description states the reading taken. An id in ``UNSUPPORTED`` scores None (counted,
never passed or failed); the datasheet (suites/data/ifbench.md) gives the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alignlab.evaluate.instructions.ifeval import Instruction, checker_decorator
from alignlab.registry import Registry

CONSTRAINTS: Registry[Instruction] = Registry("IFBench constraint", [
    f"{__package__}.{family}" for family in ("_count", "_format", "_ratio", "_sentence", "_words", "_repeat",
                                             "_custom")])

UNSUPPORTED: dict[str, str] = {
    "ratio:overlap": "the wording does not say whether the trigram overlap is a share of the response's or of the "
                     "reference's trigrams, and the two readings give different verdicts",
    "words:odd_even_syllables": "needs a syllable counter; English syllable counts from spelling are heuristics "
                                "that disagree on common words",
    "words:start_verb": "needs a part-of-speech tagger (none ships offline with alignlab's dependencies)",
    "custom:european_capitals_sort": "needs a gazetteer of capitals and latitudes; not a property of the text",
    "custom:reverse_newline": "needs the list of Africa's countries and their accepted spellings",
}


constraint = checker_decorator(CONSTRAINTS)
"""Register ``check(response, **params) -> bool`` as the checker of an IFBench constraint id."""


def constraints() -> dict[str, Instruction]:
    """Every IFBench constraint with a checker, by id."""
    return CONSTRAINTS.entries()


def is_known(constraint_id: str) -> bool:
    return constraint_id in UNSUPPORTED or CONSTRAINTS.find(constraint_id) is not None


def validate(constraint_id: str, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """The checker's arguments (ValueError if wrong); an unsupported id keeps its non-null arguments as given."""
    if constraint_id in UNSUPPORTED:
        return {k: v for k, v in (kwargs or {}).items() if v is not None}
    found = CONSTRAINTS.find(constraint_id)
    if found is None:
        raise ValueError(f"unknown IFBench constraint {constraint_id!r}")
    return found.validate(kwargs)


def follows(constraint_id: str, response: str, kwargs: Mapping[str, Any] | None) -> bool | None:
    """Whether ``response`` meets one constraint; None where alignlab has no checker for it."""
    if constraint_id in UNSUPPORTED:
        return None
    inst = CONSTRAINTS.get(constraint_id)
    return bool(response.strip()) and bool(inst.check(response, **inst.validate(kwargs)))
