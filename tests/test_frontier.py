"""The harmfulness / over-refusal frontier: one point per run with CIs, in `alignlab compare` and the goal report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.evaluate.stats import mean_ci
from alignlab.report.compare import leaderboard
from alignlab.report.frontier import frontier_points, frontier_svg, point_from_results


def _safety_run(path: Path, spec: str, refused_unsafe: int, refused_safe: int, n: int = 40) -> Path:
    path.mkdir(parents=True)
    refusal = mean_ci([1.0] * refused_unsafe + [0.0] * (n - refused_unsafe))
    over = mean_ci([1.0] * refused_safe + [0.0] * (n - refused_safe))
    suite = {"level": "values", "version": "1", "n": 2 * n, "primary_metric": "rule/balanced",
             "metrics": {"rule/refusal_rate": refusal, "rule/over_refusal_rate": over,
                         "rule/balanced": mean_ci([0.5] * n)}}
    (path / "results.json").write_text(json.dumps({"model": {"spec": spec}, "suites": {"values/safety": suite}}))
    return path


def test_a_point_is_over_refusal_against_harmful_compliance_with_mirrored_cis(tmp_path: Path) -> None:
    run = _safety_run(tmp_path / "a", "hf:a", refused_unsafe=30, refused_safe=4)
    results = json.loads((run / "results.json").read_text())
    p = point_from_results("a", results)
    refusal = results["suites"]["values/safety"]["metrics"]["rule/refusal_rate"]
    assert p is not None and p.over_refusal == pytest.approx(0.1) and p.harmful == pytest.approx(0.25)
    assert p.harmful_ci == pytest.approx((1 - refusal["ci"][1], 1 - refusal["ci"][0]))
    assert p.harmful_ci[0] < p.harmful < p.harmful_ci[1] and p.n_unsafe == 40
    assert point_from_results("none", {"suites": {"values/norms": {"metrics": {}}}}) is None


def test_compare_shows_the_frontier_of_the_runs_with_a_safety_suite(tmp_path: Path) -> None:
    runs = [_safety_run(tmp_path / "base", "hf:base", 5, 1), _safety_run(tmp_path / "safe", "hf:safe", 35, 8)]
    points = frontier_points(runs)
    assert [p.label for p in points] == ["base", "safe"] and points[1].harmful < points[0].harmful
    svg = frontier_svg(points)
    assert svg.count("<circle") == 4 and "harmful compliance" in svg  # a point and a legend dot per run
    html = leaderboard(runs, "html")
    assert 'id=frontier' in html and "hf:safe" in html
    md = leaderboard(runs, "markdown")
    assert "Frontier" in md and "| hf:safe | 0.200 [" in md and "| 0.125 [" in md
