"""Under server faults, every sample of a run ends as a result or as a counted error with its cause."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from alignlab.evaluate import build_suite, run_eval
from alignlab.models import load_model

sys.path.insert(0, str(Path(__file__).parent))
from fault_server import start_server, stop_server  # noqa: E402


@pytest.fixture
def faulty_server():  # noqa: ANN201
    # Every third request fails with a rotating fault (500, truncated body, malformed JSON, 429).
    proc, url = start_server(mode="500,truncated,malformed,429", every=3, retry_after=0)
    yield url
    stop_server(proc)


def test_faults_end_as_results_or_counted_errors(faulty_server: str, tmp_path: Path) -> None:
    suite = build_suite("instructions/basics", max_tokens=16)
    with load_model(f"openai:fault-model@{faulty_server}", cache=False, max_retries=0, backoff=0.01,
                    timeout=5) as model:
        res = run_eval(model, [suite], tmp_path / "run", batch_size=8, show_progress=False)
    summary = res["suites"]["instructions/basics"]
    rows = [json.loads(x) for x in (tmp_path / "run/samples/instructions/basics.jsonl").read_text().splitlines()]
    assert len(rows) == summary["n"] == 24
    assert len({r["id"] for r in rows}) == 24
    failed = [r for r in rows if r["error"]]
    ok = [r for r in rows if not r["error"]]
    assert failed and ok, "the schedule must produce both outcomes"
    assert summary["n_errors"] == len(failed) == sum(summary["errors"].values())
    assert all(r["output"].startswith("echo:") and r["scores"] is not None for r in ok)
    causes = " ".join(summary["errors"])
    assert any(word in causes for word in ("500", "truncated", "malformed", "JSON", "429"))
    assert summary["metrics"]["accuracy"]["n"] == len(ok)

    # With retries allowed, a second run over the same directory recovers the failed samples.
    with load_model(f"openai:fault-model@{faulty_server}", cache=False, max_retries=4, backoff=0.01,
                    timeout=5) as model:
        res = run_eval(model, [suite], tmp_path / "run", batch_size=8, show_progress=False)
        assert model.model_calls == len(failed)
    assert res["suites"]["instructions/basics"]["n_errors"] == 0
