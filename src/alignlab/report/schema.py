"""The documented JSON Schema (draft 2020-12) of ``results.json``, and a validator with checks it cannot express.

The schema file ``results.schema.json`` sits next to this module and ships in the package; readers of results
(report, compare, anyone's scripts) can rely on what it requires.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from alignlab.errors import AlignlabError

SCHEMA_FILE = "results.schema.json"


@functools.cache
def results_schema() -> dict[str, Any]:
    """The schema as a dict."""
    return json.loads(resources.files("alignlab.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(root)"


def results_problems(results: Any) -> list[str]:
    """Everything wrong with ``results`` as ``path: message`` lines; empty when it is valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(results_schema(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{_where(e.absolute_path)}: {e.message}"
                for e in sorted(validator.iter_errors(results), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return problems
    # Cross-field rules JSON Schema cannot state.
    suites = results["suites"]
    for name, s in suites.items():
        if s["primary_metric"] is not None and s["primary_metric"] not in s["metrics"]:
            problems.append(f"suites/{name}/primary_metric: {s['primary_metric']!r} is not one of its metrics")
        if sum(s["errors"].values()) != s["n_errors"] or s["n_errors"] > s["n"]:
            problems.append(f"suites/{name}/n_errors: {s['n_errors']} does not match errors or exceeds n={s['n']}")
        for metric, m in s["metrics"].items():
            if results["schema_version"] >= 2 and "declared" not in m:
                problems.append(f"suites/{name}/metrics/{metric}: no declared meaning (null if undeclared)")
            lo, hi = (m.get("ci") or [None, None])
            if lo is not None and hi is not None and lo > hi:
                problems.append(f"suites/{name}/metrics/{metric}/ci: lower bound {lo} above upper bound {hi}")
    for level, info in results["levels"].items():
        for name in info["suites"]:
            if name not in suites:
                problems.append(f"levels/{level}/suites: {name!r} is not in suites")
            elif suites[name]["level"] != level:
                problems.append(f"levels/{level}/suites: {name!r} is a {suites[name]['level']} suite")
    return problems


def validate_results(results: Any, source: str = "results.json") -> None:
    """Raise ``AlignlabError`` naming every problem when ``results`` does not follow the schema."""
    problems = results_problems(results)
    if problems:
        raise AlignlabError(f"{source} does not follow the results schema:\n  " + "\n  ".join(problems[:20]),
                            hint=f"the schema is alignlab/report/{SCHEMA_FILE}")
