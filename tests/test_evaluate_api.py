"""``alignlab.evaluate(...)``: the library call behind `alignlab eval`, with typed results and the same run
directory the CLI writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import alignlab
from alignlab.evaluate import EvalResults, NothingToRun, RunDir
from alignlab.models import Model
from alignlab.testing import ScriptedAPI


def _answers(prompt: str) -> str:
    return "4" if "2 + 2" in prompt or "2+2" in prompt else "I don't know."


def test_evaluate_is_the_package_and_the_call(tmp_path: Path) -> None:
    results = alignlab.evaluate(Model(ScriptedAPI(_answers)), ["instructions/basics"], tmp_path / "run",
                                limit=4, progress=False)
    assert isinstance(results, EvalResults) and results.run_dir == RunDir(tmp_path / "run")
    suite = results.suites["instructions/basics"]
    assert suite.level == "instructions" and suite.n == 4 and suite.primary is not None
    assert suite.primary == suite.metrics[suite.primary_metric]
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    assert on_disk == results.data and results.level_scores["instructions"] == suite.primary["value"]
    assert list(results.run_dir.samples("instructions/basics"))[0]["id"]
    assert results.model_calls == 4 and results.not_run == {}


def test_a_judged_suite_without_a_judge_is_listed_not_run(tmp_path: Path) -> None:
    lines: list[str] = []
    results = alignlab.evaluate(Model(ScriptedAPI(_answers)), ["instructions/basics", "instructions/mt-bench"],
                                tmp_path / "run", limit=2, progress=False, log=lines.append)
    assert list(results.suites) == ["instructions/basics"] and "instructions/mt-bench" in results.not_run
    assert any(line.startswith("not run instructions/mt-bench") for line in lines)
    with pytest.raises(NothingToRun, match="none of the suites can run"):
        alignlab.evaluate(Model(ScriptedAPI(_answers)), ["instructions/mt-bench"], tmp_path / "other",
                          progress=False, require_runnable=True)
    assert not (tmp_path / "other" / "results.json").exists()
