"""Goals: what alignlab aligns with and measures against — value systems, target value profiles, and the closed
alignment loop (``Goal``: representation → data → align → evaluate before and after)."""

from alignlab.goals._builders import BuildContext, BuiltData, builder_kinds, register_builder
from alignlab.goals._goal import Goal, Representation, load_goal
from alignlab.goals._loop import GoalResult, check_goal, run_goal
from alignlab.goals.constitution import Constitution, Principle, builtin_constitutions, load_constitution
from alignlab.goals.profiles import TargetProfile, compare, load_profile, parse_profile
from alignlab.goals.values import HHH, MORAL_FOUNDATIONS, SCHWARTZ, SYSTEMS, Value, ValueGroup, ValueSystem, get_system

__all__ = [
    "BuildContext",
    "BuiltData",
    "Constitution",
    "Goal",
    "GoalResult",
    "HHH",
    "MORAL_FOUNDATIONS",
    "Principle",
    "Representation",
    "SCHWARTZ",
    "SYSTEMS",
    "TargetProfile",
    "Value",
    "ValueGroup",
    "ValueSystem",
    "builder_kinds",
    "builtin_constitutions",
    "check_goal",
    "compare",
    "get_system",
    "load_constitution",
    "load_goal",
    "load_profile",
    "parse_profile",
    "register_builder",
    "run_goal",
]
