"""Strict/loose scoring, the metrics, scoring recorded responses, and the real IFEval GPT-4 files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.errors import DataError
from alignlab.evaluate.instructions.ifeval import ifeval_metrics, loose_variants, parse_prompts, score_response
from alignlab.evaluate.instructions.ifeval.suite import to_samples
from alignlab.evaluate.replay import join, score_responses
from alignlab.models.replay import RecordedResponse

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval"
PROMPTS, RESPONSES = SHARED / "input_data.jsonl", SHARED / "input_response_data_gpt4_20231107_145030.jsonl"


def test_loose_variants_in_reference_order() -> None:
    v = loose_variants("Sure!\n*body*\nBye")
    assert v == ["Sure!\n*body*\nBye", "Sure!\nbody\nBye", "*body*\nBye", "Sure!\n*body*", "*body*",
                 "body\nBye", "Sure!\nbody", "body"]


def test_loose_rescues_a_preamble_and_markdown() -> None:
    res = score_response(["startend:quotation", "keywords:forbidden_words"],
                         [{}, {"forbidden_words": ["secret"]}], 'Here you go:\n"**hi**"')
    assert res.strict == [False, True] and res.loose == [True, True]
    assert res.scores() == {"prompt_level_strict": 0.0, "prompt_level_loose": 1.0, "strict_0": 0.0, "loose_0": 1.0,
                            "strict_1": 1.0, "loose_1": 1.0}


def test_metrics_pool_instructions_and_report_types() -> None:
    recs = [
        {"error": None, "metadata": {"instruction_id_list": ["punctuation:no_comma", "startend:quotation"]},
         "scores": {"prompt_level_strict": 0.0, "prompt_level_loose": 1.0, "strict_0": 1.0, "loose_0": 1.0,
                    "strict_1": 0.0, "loose_1": 1.0}},
        {"error": None, "metadata": {"instruction_id_list": ["punctuation:no_comma"]},
         "scores": {"prompt_level_strict": 1.0, "prompt_level_loose": 1.0, "strict_0": 1.0, "loose_0": 1.0}},
        {"error": "no response", "metadata": {"instruction_id_list": ["punctuation:no_comma"]}, "scores": None},
    ]
    m = ifeval_metrics(recs)
    assert m["prompt_level_strict"]["value"] == 0.5 and m["prompt_level_strict"]["n"] == 2
    assert m["inst_level_strict"]["value"] == pytest.approx(2 / 3) and m["inst_level_strict"]["n"] == 3
    assert m["inst_level_loose"]["value"] == 1.0
    assert m["strict/startend:quotation"]["value"] == 0.0 and m["loose/startend:quotation"]["value"] == 1.0
    lo, hi = m["inst_level_strict"]["ci"]
    assert 0 <= lo < 2 / 3 < hi <= 1


def _prompt(key: int, text: str) -> str:
    return json.dumps({"key": key, "prompt": text, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})


def test_join_by_key_or_exact_prompt_and_by_line_only_when_asked() -> None:
    samples = to_samples(parse_prompts("\n".join([_prompt(1, "a"), _prompt(2, "b"), _prompt(3, "c")])))
    rows = [RecordedResponse(1, "a", "A", None), RecordedResponse(2, "b (old)", "B", None),
            RecordedResponse(3, "c", "C", None)]
    j = join(samples, rows)
    assert j.responses == {"1": "A", "2": None, "3": "C"} and j.by_text == 2 and j.missing == ["2"] and not j.fuzzy
    j = join(samples, rows, fuzzy=True)
    assert list(j.responses.values()) == ["A", "B", "C"] and j.missing == []
    assert j.fuzzy[0]["id"] == "2" and j.fuzzy[0]["by"] == "line" and j.fuzzy[0]["response_line"] == 2
    j = join(samples, [RecordedResponse(1, "x", "B", "2"), RecordedResponse(2, "a", "A", "1")], fuzzy=True)
    assert j.responses == {"1": "A", "2": "B", "3": None} and j.by_key == 2 and j.missing == ["3"]
    assert not j.fuzzy  # keyed files are never joined by position


def test_bad_prompt_file_names_line_and_field() -> None:
    with pytest.raises(DataError, match=r"<prompts>:2: instruction 0 \(keywords:existence\): .*needs argument"):
        parse_prompts(_prompt(1, "a") + "\n" + json.dumps({"key": 2, "prompt": "b", "instruction_id_list":
                                                             ["keywords:existence"], "kwargs": [{}]}))
    with pytest.raises(DataError, match="<prompts>:1: missing field 'kwargs'"):
        parse_prompts(json.dumps({"key": 1, "prompt": "a", "instruction_id_list": []}))


def test_score_responses_small(tmp_path: Path) -> None:
    p, r = tmp_path / "p.jsonl", tmp_path / "r.jsonl"
    p.write_text(_prompt(1, "no commas please") + "\n" + _prompt(2, "again") + "\n")
    r.write_text(json.dumps({"prompt": "no commas please", "response": "ok"}) + "\n")
    with pytest.raises(DataError, match=r"1 of 2 prompts of instructions/ifeval have no response \(first: sample 2\)"):
        score_responses(f"instructions/ifeval:prompts={p}", r, tmp_path / "run")
    res, _ = score_responses(f"instructions/ifeval:prompts={p}", r, tmp_path / "run", partial=True)
    s = res.data["suites"]["instructions/ifeval"]
    assert s["n"] == 1 and s["n_errors"] == 0 and s["metrics"]["prompt_level_strict"]["value"] == 1.0
    assert res.data["replay"]["n_prompts"] == 2 and res.data["replay"]["n_scored"] == 1
    assert res.data["levels"]["instructions"]["suites"] == ["instructions/ifeval"]
    rows = [json.loads(x) for x in (tmp_path / "run" / "samples" / "instructions" / "ifeval.jsonl").read_text()
            .splitlines()]
    assert rows[0]["scores"]["prompt_level_strict"] == 1.0 and rows[0]["output"] == "ok" and len(rows) == 1
    cfg = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert cfg["model"]["spec"] == f"responses:{r}" and cfg["model"]["fingerprint"].startswith("sha256:")


@pytest.mark.skipif(not RESPONSES.exists(), reason="shared IFEval data not present")
def test_real_gpt4_responses(tmp_path: Path) -> None:
    res, joined = score_responses(f"instructions/ifeval:prompts={PROMPTS}", RESPONSES, tmp_path / "run", fuzzy=True)
    m = res.suites["instructions/ifeval"].metrics
    # 417/541, 698/834, 431/541, 714/834; the paper reports 76.89, 83.57, 79.30, 85.37 (see BENCHMARKS.md).
    assert round(100 * m["prompt_level_strict"]["value"], 2) == 77.08
    assert round(100 * m["inst_level_strict"]["value"], 2) == 83.69
    assert round(100 * m["prompt_level_loose"]["value"], 2) == 79.67
    assert round(100 * m["inst_level_loose"]["value"], 2) == 85.61
    assert joined.by_text == 540 and [f["id"] for f in joined.fuzzy] == ["2785"]


@pytest.mark.skipif(not RESPONSES.exists(), reason="shared IFEval data not present")
def test_cli_score_ifeval(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["score", "ifeval", "--prompts", str(PROMPTS), "--responses", str(RESPONSES),
                                   "--out", str(tmp_path / "run"), "--fuzzy-join", "--quiet"])
    assert out.exit_code == 0, out.output
    assert "77.08" in out.output and "2785" in out.output
    assert (tmp_path / "run" / "results.json").exists()
    bad = CliRunner().invoke(app, ["score", "ifeval", "--prompts", str(tmp_path / "nope"), "--responses",
                                   str(RESPONSES)])
    assert bad.exit_code == 2
