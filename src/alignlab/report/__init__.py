"""Reports: ``report.html`` for one run, leaderboards across runs, and the results.json schema."""

from alignlab.report.compare import compare_runs, leaderboard
from alignlab.report.html import build_report, load_run
from alignlab.report.schema import results_schema, validate_results

__all__ = ["build_report", "compare_runs", "leaderboard", "load_run", "results_schema", "validate_results"]
