"""Reports: ``report.html`` for one run, leaderboards across runs, and the results.json schema."""

from alignlab.report._template import TAXONOMY, page
from alignlab.report.compare import compare_runs, leaderboard
from alignlab.report.html import build_report, load_run
from alignlab.report.schema import results_schema, validate_results

__all__ = ["TAXONOMY", "build_report", "compare_runs", "leaderboard", "load_run", "page", "results_schema",
           "validate_results"]
