"""Evaluation plans: which suites to run at each level, with their arguments, judge, limits and seed."""

from alignlab.plans._plan import Plan, PlanSuite, load_plan, plan_names

__all__ = ["Plan", "PlanSuite", "load_plan", "plan_names"]
