"""`alignlab score SUITE --responses FILE`: joins that refuse to guess, partial scoring only when asked, and any
generation suite over recorded responses (the `responses:` replay backend)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.evaluate import build_suite

PROMPTS = [("Write a haiku about rain. Do not use any commas.", "punctuation:no_comma", {}),
           ("Describe a cat in lowercase letters only.", "change_case:english_lowercase", {}),
           ("List two fruits. Use no commas at all.", "punctuation:no_comma", {})]


def _prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"key": i + 1, "prompt": p, "instruction_id_list": [inst], "kwargs": [kw]})
                            + "\n" for i, (p, inst, kw) in enumerate(PROMPTS)))
    return path


def _responses(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _score(*args: str) -> object:
    return CliRunner().invoke(app, ["score", *args, "--quiet"])


def test_unrelated_responses_are_not_joined_by_position(tmp_path: Path) -> None:
    responses = _responses(tmp_path, [{"prompt": "What is the capital of France?", "response": "Paris"},
                                      {"prompt": "Name a prime number.", "response": "7"},
                                      {"prompt": "Translate 'dog' to German.", "response": "Hund"}])
    out = _score("ifeval", "--prompts", str(_prompts(tmp_path)), "--responses", str(responses),
                 "--out", str(tmp_path / "run"))
    assert out.exit_code == 2, out.output
    assert "3 of 3 prompts of instructions/ifeval have no response" in out.output
    assert "Traceback" not in out.output and not (tmp_path / "run" / "results.json").exists()
    # Asked for, the join by position happens, and every such join is reported with its similarity.
    out = _score("ifeval", "--prompts", str(_prompts(tmp_path)), "--responses", str(responses),
                 "--out", str(tmp_path / "fuzzy"), "--fuzzy-join")
    assert out.exit_code == 0, out.output
    assert out.output.count("joined by line to response line") == 3 and "text similarity 0." in out.output
    results = json.loads((tmp_path / "fuzzy" / "results.json").read_text())
    assert [f["id"] for f in results["replay"]["fuzzy"]] == ["1", "2", "3"]
    assert all(f["similarity"] < 0.5 for f in results["replay"]["fuzzy"])


def test_missing_responses_fail_unless_partial_scoring_is_allowed(tmp_path: Path) -> None:
    responses = _responses(tmp_path, [{"prompt": PROMPTS[0][0], "response": "Rain falls soft and slow"}])
    args = ["ifeval", "--prompts", str(_prompts(tmp_path)), "--responses", str(responses)]
    out = _score(*args, "--out", str(tmp_path / "run"))
    assert out.exit_code == 2, out.output
    assert "2 of 3 prompts of instructions/ifeval have no response (first: sample 2)" in out.output
    assert "100.00" not in out.output
    out = _score(*args, "--out", str(tmp_path / "partial"), "--allow-partial")
    assert out.exit_code == 0, out.output
    assert "prompts: 3  scored: 1" in out.output and "2 of 3 prompt(s) have no response" in out.output
    results = json.loads((tmp_path / "partial" / "results.json").read_text())
    assert results["replay"]["n_prompts"] == 3 and results["replay"]["n_scored"] == 1
    assert results["replay"]["missing"] == ["2", "3"]
    assert results["suites"]["instructions/ifeval"]["metrics"]["prompt_level_strict"]["n"] == 1
    report = (tmp_path / "partial" / "report.html")
    CliRunner().invoke(app, ["report", str(tmp_path / "partial")])
    assert "1 of 3 prompts scored" in report.read_text() and "2 without a response, not scored" in report.read_text()


def test_responses_join_by_key_without_prompt_text(tmp_path: Path) -> None:
    responses = _responses(tmp_path, [{"key": 3, "response": "apple and pear"}, {"key": 1, "response": "rain, rain"},
                                      {"key": 2, "response": "a small grey cat"}])
    out = _score("ifeval", "--prompts", str(_prompts(tmp_path)), "--responses", str(responses),
                 "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    rows = [json.loads(x) for x in (tmp_path / "run" / "samples" / "instructions" / "ifeval.jsonl").read_text()
            .splitlines()]
    assert {r["id"]: r["scores"]["prompt_level_strict"] for r in rows} == {"1": 0.0, "2": 1.0, "3": 1.0}


def test_any_generation_suite_scores_recorded_responses(tmp_path: Path) -> None:
    """values/safety over another model's answers: a model that refuses everything refuses every unsafe prompt
    and over-refuses every safe one."""
    samples = build_suite("values/safety").samples
    responses = _responses(tmp_path, [{"prompt": s.input, "response": "I'm sorry, but I can't help with that."}
                                      for s in samples])
    out = _score("values/safety", "--responses", str(responses), "--out", str(tmp_path / "run"))
    assert out.exit_code == 0, out.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    m = results["suites"]["values/safety"]["metrics"]
    assert m["rule/refusal_rate"]["value"] == 1.0 and m["rule/refusal_rate"]["n"] == 104
    assert m["rule/over_refusal_rate"]["value"] == 1.0
    assert results["model"]["backend"] == "responses" and results["run"]["model_calls"] == len(samples)


def test_eval_with_a_responses_model_names_the_missing_prompt(tmp_path: Path) -> None:
    responses = _responses(tmp_path, [{"prompt": PROMPTS[0][0], "response": "Rain falls soft and slow"}])
    out = CliRunner().invoke(app, ["eval", "--model", f"responses:{responses}", "--suite",
                                   f"instructions/ifeval:prompts={_prompts(tmp_path)}", "--out",
                                   str(tmp_path / "run"), "--no-cache", "--quiet"])
    assert out.exit_code == 2, out.output
    assert "no recorded response for the prompt 'Describe a cat in lowercase letters only.'" in out.output
    assert "Traceback" not in out.output
