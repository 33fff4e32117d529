"""``alignlab eval --plan public``: every public benchmark whose files are in the data directory, the rest listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.errors import AlignlabError
from alignlab.evaluate import evaluate, public_suites
from alignlab.plans import load_plan, plan_names

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# Suites over files that ../shared/data holds (others' suites join the plan when they declare their sources).
IN_SHARED = {"instructions/ifeval", "values/xstest", "preferences/truthfulqa", "preferences/bbq",
             "preferences/hh-rlhf-harmless"}


def test_public_is_a_built_in_plan_that_names_no_suite_itself():
    assert "public" in plan_names()
    plan = load_plan("public")
    assert plan.public and plan.entries() == [] and plan.limit is None  # full size unless --limit


def test_public_plan_needs_a_data_directory_with_some_benchmark_in_it(tmp_path: Path):
    from alignlab.data import set_data_dir

    with pytest.raises(AlignlabError, match="none is set"):
        evaluate("scripted:hi", "public", tmp_path / "run")
    set_data_dir(tmp_path)
    with pytest.raises(AlignlabError, match="no public benchmark's files are in"):
        evaluate("scripted:hi", "public", tmp_path / "run")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data absent")
def test_public_plan_runs_every_suite_found_and_says_why_the_others_did_not(tiny_model_dir: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(SHARED))
    out = tmp_path / "run"
    run = CliRunner().invoke(app, ["eval", "--plan", "public", "--model", f"hf:{tiny_model_dir}", "-n", "2",
                                   "--out", str(out), "--quiet", "--no-cache"])
    assert run.exit_code == 0, run.output
    results = json.loads((out / "results.json").read_text())
    ran, not_run = set(results["suites"]), results["not_run"]
    assert IN_SHARED <= ran
    assert ran | set(not_run) == set(public_suites())  # every public suite either ran or says why not
    assert "global_opinions.csv" in not_run["values/globalopinionqa"]  # where its file was looked for
    assert "judge" in not_run["instructions/mt-bench"]
    for name in ("instructions/ifeval", "values/xstest", "preferences/bbq"):
        assert results["suites"][name]["n"] == 2
    assert "not run values/globalopinionqa" in " ".join(run.output.split())
