"""Goals: the closed alignment loop (``Goal``: representation → data → align → evaluate before and after).

It sits at the top of the package graph beside the CLI; what a goal aligns *to* (value systems, target profiles,
constitutions) is in ``alignlab.targets``.
"""

from alignlab.goals._builders import BuildContext, BuiltData, builder_kinds, register_builder
from alignlab.goals._goal import Goal, Representation, load_goal
from alignlab.goals._loop import GoalResult, check_goal, run_goal

__all__ = [
    "BuildContext",
    "BuiltData",
    "Goal",
    "GoalResult",
    "Representation",
    "builder_kinds",
    "check_goal",
    "load_goal",
    "register_builder",
    "run_goal",
]
