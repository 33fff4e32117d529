"""Plans: built-ins parse, bad plans fail with file and key, `alignlab eval` runs a plan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import SuiteSkipped, build_suite
from alignlab.plans import load_plan, plan_names


def test_builtin_plans_parse_and_name_registered_suites() -> None:
    assert {"default", "full"} <= set(plan_names())
    for name in plan_names():
        plan = load_plan(name)
        for entry in plan.entries():
            try:
                build_suite(entry.name, **entry.args)  # every suite exists and takes these arguments
            except SuiteSkipped as skipped:  # judge-scored suites in `full` wait for --judge
                assert "judge" in str(skipped) and name != "default"
    default = load_plan("default")
    assert default.judge is None  # offline by design
    assert default.limits()["instructions/following"] == 24
    assert {e.name.split("/")[0] for e in default.entries()} == {"instructions", "preferences", "values"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nsuites: {habits: [a]}\n", "unknown level 'habits'"),
        ("name: x\nsuites: {values: [{name: v, limt: 3}]}\n", "suites.values.0.limt"),
        ("name: x\nsuites: {values: [{name: v, limit: 0}]}\n", "suites.values.0.limit"),
        ("name: [x\n", "invalid YAML"),
    ],
)
def test_bad_plan_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(AlignlabError) as err:
        load_plan(str(path))
    assert str(path) in str(err.value) and expected in str(err.value)


def test_eval_runs_a_plan_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    plan = tmp_path / "mine.yaml"
    plan.write_text("name: mine\nlimit: 3\nsuites:\n  instructions:\n    - name: instructions/basics\n"
                    "      args: {max_tokens: 4}\n    - name: instructions/following\n      limit: 2\n"
                    "      args: {max_tokens: 4}\n")
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "alignlab.cli.main", "eval", "--model", f"hf:{tiny_model_dir}",
                          "--plan", str(plan), "--out", str(out), "--quiet"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["suites"]["instructions/basics"]["n"] == 3
    assert results["suites"]["instructions/following"]["n"] == 2


def test_eval_yaml_task_and_judge_suites_listed_as_not_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "capitals.jsonl").write_text(
        '{"id": "c1", "q": "Capital of France?", "opts": ["Paris", "Rome"], "gold": 0}\n'
        '{"id": "c2", "q": "Capital of Italy?", "opts": ["Paris", "Rome"], "gold": 1}\n')
    task = tmp_path / "capitals.yaml"
    task.write_text("name: mine/capitals\nlevel: instructions\ndata: capitals.jsonl\ntype: multiple_choice\n"
                    "template: \"Q: {q}\\nA:\"\nchoices_field: opts\ntarget_field: gold\n")
    questions = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mt_bench" / "question.jsonl"
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "alignlab.cli.main", "eval", "--model", f"hf:{tiny_model_dir}",
                          "--suite", str(task), "--suite", f"instructions/mt-bench:questions={questions}",
                          "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["suites"]["mine/capitals"]["n"] == 2
    assert results["suites"]["mine/capitals"]["metrics"]["accuracy"]["n"] == 2
    assert "judge" in results["not_run"]["instructions/mt-bench"]
    assert "not run: instructions/mt-bench" in res.stdout
