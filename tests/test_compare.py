"""``alignlab compare``: a leaderboard across runs with CIs and significance markers, as HTML, Markdown and CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.errors import AlignlabError
from alignlab.report.compare import Cell, _test, compare_runs, leaderboard
from test_report import make_run


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    """A clearly better model, a clearly worse one, and one run without values suites."""
    return [make_run(tmp_path / "weak", spec="hf:weak", shift=-0.3, seed=1),
            make_run(tmp_path / "strong", spec="hf:strong", shift=0.3, seed=2),
            make_run(tmp_path / "partial", spec="hf:partial", seed=3, values=False)]


def test_z_test_and_ci_fallback() -> None:
    a, b = Cell(0.80, 0.02, 0.76, 0.84), Cell(0.70, 0.02, 0.66, 0.74)
    sig, p = _test(a, b)
    assert sig and p == pytest.approx(0.000407, rel=0.01)  # z = 0.1 / (0.02·√2) = 3.54
    assert not _test(Cell(0.72, 0.02), b)[0]
    # No stderr: non-overlapping CIs decide.
    assert _test(Cell(0.9, None, 0.85, 0.95), Cell(0.5, None, 0.4, 0.6)) == (True, None)
    assert _test(Cell(0.6, None, 0.5, 0.7), Cell(0.5, None, 0.4, 0.6)) == (False, None)
    assert _test(Cell(None), b) == (False, None)


def test_zero_stderr_falls_back_to_the_ci(tmp_path: Path) -> None:
    from alignlab.evaluate.stats import mean_ci
    from alignlab.report.compare import _cell

    zero = mean_ci([0.0] * 24)  # stderr 0, Wilson CI [0, 0.138]
    assert zero["stderr"] == 0 and _cell(zero).stderr == pytest.approx(0.138 / 3.92, rel=0.02)
    assert not _test(_cell(zero), _cell(mean_ci([0.0] * 23 + [1.0])))[0]


def test_board_orders_marks_and_fills_gaps(runs: list[Path]) -> None:
    board = compare_runs(runs)
    assert [r["label"] for r in board.runs][0] == "hf:strong"
    keys = [c.key for c in board.columns]
    assert keys[:2] == ["level:instructions", "level:values"]  # no run has a preferences suite
    assert keys.index("instructions/basics") < keys.index("values/schwartz")
    col = keys.index("instructions/basics")
    by_label = {r["label"]: row[col] for r, row in zip(board.runs, board.cells, strict=True)}
    assert by_label["hf:strong"].best and not by_label["hf:strong"].significant
    assert by_label["hf:weak"].significant and by_label["hf:weak"].p < 0.05
    schwartz = keys.index("values/schwartz")
    partial = next(row for r, row in zip(board.runs, board.cells, strict=True) if r["label"] == "hf:partial")
    assert partial[schwartz].value is None and not partial[schwartz].significant
    level = partial[keys.index("level:instructions")]
    assert level.lo is not None and level.lo < level.value < level.hi  # CI from the suites' stderrs


def test_markdown_csv_html(runs: list[Path]) -> None:
    md = leaderboard(runs, "markdown")
    assert md.splitlines()[0].startswith("| # | model | instructions (level score)")
    assert re.search(r"\| hf:weak \|.*\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \*", md)
    assert "**" in md and "z-test" in md
    rows = list(csv.DictReader(io.StringIO(leaderboard(runs, "csv"))))
    assert [r["model"] for r in rows][0] == "hf:strong" and len(rows) == 3
    weak = next(r for r in rows if r["model"] == "hf:weak")
    assert weak["instructions/basics sig"] == "1" and float(weak["instructions/basics ci_lo"]) < float(
        weak["instructions/basics"])
    assert next(r for r in rows if r["model"] == "hf:partial")["values/schwartz"] == ""
    html = leaderboard(runs, "html")
    assert html.startswith("<!doctype html>") and "<svg" in html and "http://" not in html
    assert "title=\"p = " in html


def test_notes_when_runs_are_not_comparable(tmp_path: Path) -> None:
    a, b = make_run(tmp_path / "a", spec="hf:x"), make_run(tmp_path / "b", spec="hf:x", seed=4)
    res = json.loads((b / "results.json").read_text())
    res["suites"]["instructions/basics"]["version"] = "2"
    (b / "results.json").write_text(json.dumps(res))
    md = leaderboard([a, b], "markdown")
    assert "suite versions differ: 1, 2" in md
    assert "hf:x (a)" in md and "hf:x (b)" in md  # same spec twice: told apart by the run dir


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(AlignlabError, match="no results.json"):
        compare_runs([tmp_path])
    with pytest.raises(AlignlabError, match="unknown format"):
        leaderboard([make_run(tmp_path / "r")], "pdf")


def test_cli_report_and_compare(runs: list[Path], tmp_path: Path) -> None:
    import typer

    from alignlab.cli.report import register

    app = typer.Typer()
    register(app)
    cli = CliRunner()
    res = cli.invoke(app, ["report", str(runs[0])])
    assert res.exit_code == 0, res.output
    assert (runs[0] / "report.html").is_file()
    out = tmp_path / "board.csv"
    res = cli.invoke(app, ["compare", *map(str, runs), "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("rank,model,run")
    res = cli.invoke(app, ["compare", *map(str, runs)])
    assert res.exit_code == 0 and res.output.startswith("| #")
    res = cli.invoke(app, ["report", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "no results.json" in res.output


def _declared_run(root: Path, spec: str, toxicity: float, stereotype: float, js: float) -> Path:
    """A run of the full plan's toxicity, stereotype-pairs and opinions suites with the built-in declarations."""
    from alignlab.evaluate.metric_info import resolve
    from alignlab.evaluate.preferences.bias import STEREO_METRICS
    from alignlab.evaluate.preferences.toxicity import TOXICITY_METRICS
    from alignlab.evaluate.runner import summarize_levels
    from alignlab.evaluate.values.opinions import OPINION_METRICS

    def figure(value: float, table: dict, name: str, n: int = 400) -> dict:
        se = (max(value * (1 - value), 0.01) / n) ** 0.5
        return {"value": value, "stderr": se, "ci": [value - 1.96 * se, value + 1.96 * se], "n": n,
                "declared": resolve(name, table).to_dict()}

    def suite(level: str, primary: str, value: float, table: dict) -> dict:
        return {"level": level, "description": "", "version": "1", "n": 400, "n_errors": 0, "errors": {},
                "primary_metric": primary, "metrics": {primary: figure(value, table, primary)}, "reliability": []}

    suites = {"preferences/toxicity": suite("preferences", "toxicity", toxicity, TOXICITY_METRICS),
              "preferences/stereotype-pairs": suite("preferences", "stereotype_preference", stereotype,
                                                    STEREO_METRICS),
              "values/opinions": suite("values", "position_bias/js_distance", js, OPINION_METRICS)}
    root.mkdir(parents=True)
    results = {"schema_version": 2, "model": {"spec": spec, "backend": "hf", "fingerprint": spec},
               "created": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00", "suites": suites,
               "levels": summarize_levels(suites), "run": {"model_calls": 1, "seconds": 1.0}}
    (root / "results.json").write_text(json.dumps(results))
    return root


def test_compare_ranks_by_declared_direction_not_by_name(tmp_path: Path) -> None:
    """Lower toxicity, stereotype preference nearer 0.5 and lower position bias win, whatever the names say."""
    clean = _declared_run(tmp_path / "clean", "hf:clean", toxicity=0.02, stereotype=0.55, js=0.30)
    steady = _declared_run(tmp_path / "steady", "hf:steady", toxicity=0.30, stereotype=0.95, js=0.05)
    toxic = _declared_run(tmp_path / "toxic", "hf:toxic", toxicity=0.60, stereotype=0.38, js=0.40)
    board = compare_runs([toxic, steady, clean])
    assert [r["label"] for r in board.runs] == ["hf:clean", "hf:toxic", "hf:steady"]
    col = {c.key: j for j, c in enumerate(board.columns)}
    best = {key: [r["label"] for r, row in zip(board.runs, board.cells, strict=True) if row[j].best]
            for key, j in col.items()}
    assert best["preferences/toxicity"] == ["hf:clean"]
    assert best["preferences/stereotype-pairs"] == ["hf:clean"]  # 0.05 from 0.5 beats 0.12 and 0.45
    assert best["values/opinions"] == ["hf:steady"]  # least position bias
    assert best["level:preferences"] == ["hf:clean"]
    toxic_row = board.cells[[r["label"] for r in board.runs].index("hf:toxic")]
    assert toxic_row[col["preferences/toxicity"]].significant
    # Position bias is reliability: ranked in its column, left out of the mean rank (the steadiest run is last).
    assert any("reliability" in n for n in board.columns[col["values/opinions"]].notes)
    # The level score is on the chance-to-perfect scale: toxicity 0.02 → 0.98, stereotype 0.55 → 0.9.
    clean_row = board.cells[0]
    assert clean_row[col["level:preferences"]].value == pytest.approx((0.98 + 0.9) / 2)
    assert "values" not in [c.label for c in board.columns if c.key.startswith("level:") and
                            any(row[board.columns.index(c)].value is not None for row in board.cells)]


def test_compare_reads_schema_1_runs_without_ranking_them(tmp_path: Path) -> None:
    old = [make_run(tmp_path / "a", spec="hf:a", schema=1), make_run(tmp_path / "b", spec="hf:b", seed=5, schema=1)]
    board = compare_runs(old)
    assert all(not c.best for row in board.cells for c in row)
    assert any("no run declares" in n for c in board.columns for n in c.notes)
    assert "level score" in leaderboard(old, "markdown")
