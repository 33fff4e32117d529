"""``scripted:TEXT`` is an ordinary model spec: a user can dry-run any suite from the command line."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.models import load_model


def test_scripted_spec_opens_without_importing_the_testing_package() -> None:
    assert load_model("scripted:I can't help with that.").api.spec == "scripted:I can't help with that."
    code = ("import sys; from alignlab.models import load_model; load_model('scripted:hi'); "
            "assert 'alignlab.testing' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_eval_runs_a_suite_on_a_scripted_model_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["eval", "-m", "scripted:I can't help with that.", "-s", "values/safety",
                                      "-o", str(out), "-q", "--no-cache"])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    metrics = results["suites"]["values/safety"]["metrics"]
    # a model that refuses everything refuses every unsafe prompt and over-refuses every safe one
    refusal = {k: v["value"] for k, v in metrics.items() if "refus" in k}
    assert refusal, metrics.keys()
    assert any(v == 1.0 for v in refusal.values())
