"""Evaluation: suites (samples, solver, scorer, metrics), the registry and the resumable runner."""

from alignlab.evaluate._registry import build_suite, parse_suite_spec, register_suite, suite_names, suite_parameters
from alignlab.evaluate._suite import Metric, Output, Sample, Scorer, Solver, Suite, SuiteSkipped
from alignlab.evaluate.runner import run_eval
from alignlab.targets.levels import LEVELS, Level

__all__ = [
    "LEVELS",
    "Level",
    "Metric",
    "Output",
    "Sample",
    "Scorer",
    "Solver",
    "Suite",
    "SuiteSkipped",
    "build_suite",
    "parse_suite_spec",
    "register_suite",
    "run_eval",
    "suite_names",
    "suite_parameters",
]
