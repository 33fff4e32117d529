"""Targets: what alignlab aligns with and measures against, at the bottom of the package graph.

The three levels of the taxonomy (``LEVELS``), value systems (Schwartz, Moral Foundations, HHH), target value
profiles and the distances to them, and constitutions (principles with critique/revision requests). Evaluation,
training, goals and reports import these; this package imports nothing of alignlab's but errors and YAML loading.
"""

from alignlab.targets.constitution import Constitution, Principle, builtin_constitutions, load_constitution
from alignlab.targets.levels import LEVELS, Level
from alignlab.targets.profiles import TargetProfile, compare, load_profile, parse_profile
from alignlab.targets.values import (
    HHH,
    MORAL_FOUNDATIONS,
    SCHWARTZ,
    SYSTEMS,
    Value,
    ValueGroup,
    ValueSystem,
    get_system,
    load_system,
    parse_system,
    resolve_system,
)

__all__ = [
    "Constitution",
    "HHH",
    "LEVELS",
    "Level",
    "MORAL_FOUNDATIONS",
    "Principle",
    "SCHWARTZ",
    "SYSTEMS",
    "TargetProfile",
    "Value",
    "ValueGroup",
    "ValueSystem",
    "builtin_constitutions",
    "compare",
    "get_system",
    "load_constitution",
    "load_profile",
    "load_system",
    "parse_profile",
    "parse_system",
    "resolve_system",
]
