"""Evaluation: suites (samples, solver, scorer, metrics), the registry, the resumable runner, and ``evaluate``.

    import alignlab
    results = alignlab.evaluate("default", ["values/safety"], "runs/safety")   # what `alignlab eval` does
    results.suites["values/safety"].primary                                    # {"value": ..., "ci": [...], ...}

This module is callable: ``alignlab.evaluate(...)`` is ``alignlab.evaluate.evaluate(...)``.
"""

import sys
import types
from typing import Any

from alignlab.evaluate._registry import (
    build_suite,
    parse_suite_spec,
    public_suites,
    register_suite,
    suite_names,
    suite_parameters,
    suite_sources,
)
from alignlab.evaluate._suite import Metric, Output, Sample, Scorer, Solver, Suite, SuiteSkipped
from alignlab.evaluate.evaluation import EvalResults, NothingToRun, SuiteResult, default_out, evaluate
from alignlab.evaluate.rundir import RunDir
from alignlab.evaluate.runner import run_eval
from alignlab.targets.levels import LEVELS, Level

__all__ = [
    "LEVELS",
    "EvalResults",
    "Level",
    "Metric",
    "NothingToRun",
    "Output",
    "RunDir",
    "Sample",
    "Scorer",
    "Solver",
    "Suite",
    "SuiteResult",
    "SuiteSkipped",
    "build_suite",
    "default_out",
    "evaluate",
    "parse_suite_spec",
    "public_suites",
    "register_suite",
    "run_eval",
    "suite_names",
    "suite_parameters",
    "suite_sources",
]


class _CallableModule(types.ModuleType):
    """The package doubles as its verb, so ``alignlab.evaluate(...)`` reads like ``alignlab eval``."""

    def __call__(self, *args: Any, **kwargs: Any) -> EvalResults:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
