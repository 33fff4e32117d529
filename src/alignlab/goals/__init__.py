"""Goals: what alignlab aligns with and measures against — value systems and target value profiles."""

from alignlab.goals.profiles import TargetProfile, compare, load_profile, parse_profile
from alignlab.goals.values import HHH, MORAL_FOUNDATIONS, SCHWARTZ, SYSTEMS, Value, ValueGroup, ValueSystem, get_system

__all__ = [
    "HHH",
    "MORAL_FOUNDATIONS",
    "SCHWARTZ",
    "SYSTEMS",
    "TargetProfile",
    "Value",
    "ValueGroup",
    "ValueSystem",
    "compare",
    "get_system",
    "load_profile",
    "parse_profile",
]
