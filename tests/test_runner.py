"""The runner and run directory: files, warm-cache reruns, resume after SIGKILL, counted errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from alignlab.errors import AlignlabError
from alignlab.evaluate import Output, Sample, Suite, build_suite, run_eval
from alignlab.evaluate.stats import mean_metric
from alignlab.models import ResponseCache, load_model


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_run_dir_layout_and_warm_rerun(tiny_model_dir: Path, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    suite = build_suite("instructions/basics", max_tokens=8)
    with load_model(f"hf:{tiny_model_dir}", cache=cache) as model:
        first = run_eval(model, [suite], tmp_path / "run1", limit=6, show_progress=False)
    assert first["run"]["model_calls"] == 6
    cfg = yaml.safe_load((tmp_path / "run1" / "config.yaml").read_text())
    assert cfg["model"]["fingerprint"].startswith("sha256:")
    assert cfg["versions"]["torch"] == "2.13.0+cpu" or cfg["versions"]["torch"].startswith("2.13.0")
    assert cfg["suites"][0] == {"name": "instructions/basics", "level": "instructions", "version": "1",
                                "params": {"max_tokens": 8}, "n_samples": 24}
    rows = _read(tmp_path / "run1" / "samples" / "instructions" / "basics.jsonl")
    # --limit spreads the samples over the suite rather than taking a prefix.
    assert [r["id"] for r in rows] == ["b01", "b05", "b09", "b13", "b17", "b21"]
    assert all(set(r) >= {"input", "output", "answer", "scores", "judge", "error"} for r in rows)
    acc = first["suites"]["instructions/basics"]["metrics"]["accuracy"]
    assert acc["n"] == 6 and 0 <= acc["ci"][0] <= acc["value"] <= acc["ci"][1] <= 1
    assert first["levels"]["instructions"]["suites"] == ["instructions/basics"]
    assert not list((tmp_path / "run1").rglob("*.partial")) and not list((tmp_path / "run1").rglob("*.tmp"))

    # A second identical run (new directory, same cache) makes zero model calls.
    cache2 = ResponseCache(tmp_path / "cache.sqlite")
    with load_model(f"hf:{tiny_model_dir}", cache=cache2) as model:
        t0 = time.perf_counter()
        second = run_eval(model, [build_suite("instructions/basics", max_tokens=8)], tmp_path / "run2", limit=6,
                          show_progress=False)
        assert time.perf_counter() - t0 < 5
        assert model.model_calls == 0
    assert second["run"]["model_calls"] == 0
    assert _read(tmp_path / "run2" / "samples" / "instructions" / "basics.jsonl") == rows


def test_run_dir_refuses_another_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = build_suite("instructions/basics", max_tokens=4)
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        run_eval(model, [suite], tmp_path / "run", limit=2, show_progress=False)
    with load_model(f"hf:{tiny_model_dir}", cache=False, system="Be brief.") as model:
        with pytest.raises(AlignlabError, match="another model or settings"):
            run_eval(model, [suite], tmp_path / "run", limit=2, show_progress=False)


def _flaky_suite(fail_ids: set[str]) -> Suite:
    """A suite whose solver fails for some samples, as a server fault would."""

    def solve(model, samples):  # noqa: ANN001, ANN202
        outs = []
        for s in samples:
            outs.append(Output(error=f"HTTP 500 from server for {s.id}") if s.id in fail_ids
                        else Output(text=s.input, answer=s.input))
        return outs

    return Suite(name="instructions/flaky", level="instructions",
                 samples=[Sample(id=f"s{i}", input=f"x{i}") for i in range(10)], solver=solve,
                 scorer=lambda s, o: {"ok": 1.0}, metrics=[mean_metric("ok")], primary_metric="ok")


def test_errors_are_counted_never_dropped_and_retried(tiny_model_dir: Path, tmp_path: Path) -> None:
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [_flaky_suite({"s2", "s5"})], tmp_path / "run", batch_size=3, show_progress=False)
        summary = res["suites"]["instructions/flaky"]
        assert summary["n"] == 10 and summary["n_errors"] == 2
        assert summary["metrics"]["ok"]["n"] == 8
        assert sorted(summary["errors"]) == ["HTTP 500 from server for s2", "HTTP 500 from server for s5"]
        rows = _read(tmp_path / "run" / "samples" / "instructions" / "flaky.jsonl")
        assert [r["id"] for r in rows] == [f"s{i}" for i in range(10)]
        # Running again retries only the errored samples.
        res = run_eval(model, [_flaky_suite(set())], tmp_path / "run", show_progress=False)
        assert res["suites"]["instructions/flaky"]["n_errors"] == 0


def _eval_cmd(model_dir: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "alignlab.cli.main", "eval", "--model", f"hf:{model_dir}", "--suite",
            "instructions/basics:max_tokens=32", "--out", str(out), "--batch-size", "1", "--no-cache", "--quiet"]


def test_sigkill_then_resume_equals_uninterrupted(tiny_model_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ref, run = tmp_path / "ref", tmp_path / "run"
    subprocess.run(_eval_cmd(tiny_model_dir, ref), check=True, env=env, capture_output=True, timeout=300)

    journal = run / "samples" / "instructions" / "basics.jsonl.partial"
    proc = subprocess.Popen(_eval_cmd(tiny_model_dir, run), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(_read(journal))
    assert 5 <= done_before < 24, "the kill must land mid-run"
    assert not (run / "results.json").exists()

    out = subprocess.run(_eval_cmd(tiny_model_dir, run), check=True, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0
    results = json.loads((run / "results.json").read_text())
    assert results["run"]["model_calls"] == 24 - done_before  # finished samples were not redone
    final = _read(run / "samples" / "instructions" / "basics.jsonl")
    assert [r["id"] for r in final] == [r["id"] for r in _read(ref / "samples" / "instructions" / "basics.jsonl")]
    assert final == _read(ref / "samples" / "instructions" / "basics.jsonl")
    assert not journal.exists()


def test_spread_is_even_ordered_and_total() -> None:
    from alignlab.evaluate.runner import spread

    samples = [Sample(id=str(i), input="x") for i in range(10)]
    assert [s.id for s in spread(samples, 4)] == ["0", "2", "5", "7"]
    assert spread(samples, None) == samples and spread(samples, 50) == samples
    assert [s.id for s in spread(samples, 2)] == ["0", "5"]  # both halves of a grouped file are measured
