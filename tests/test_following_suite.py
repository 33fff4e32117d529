"""The built-in ``instructions/following`` suite: coverage, valid kwargs, and a run on the tiny model."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

import alignlab.evaluate.instructions.ifeval.suite  # noqa: F401 - registers the suites
from alignlab.errors import AlignlabError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.instructions.ifeval import get_instruction, instructions
from alignlab.models import load_model


def _rows() -> list[dict]:
    text = resources.files("alignlab.suites").joinpath("data/following.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_size_and_every_type_at_least_three_times() -> None:
    rows = _rows()
    assert len(rows) >= 120
    counts = Counter(i for r in rows for i in r["instruction_id_list"])
    assert set(counts) == set(instructions())
    assert min(counts.values()) >= 3
    sizes = Counter(len(r["instruction_id_list"]) for r in rows)
    assert sizes[1] > 0 and sum(v for k, v in sizes.items() if k > 1) > 0
    assert len({r["key"] for r in rows}) == len(rows) and len({r["prompt"] for r in rows}) == len(rows)


def test_every_kwargs_set_validates_and_matches_the_prompt() -> None:
    for r in _rows():
        assert len(r["kwargs"]) == len(r["instruction_id_list"])
        for inst_id, kw in zip(r["instruction_id_list"], r["kwargs"], strict=True):
            clean = get_instruction(inst_id).validate(kw)
            assert clean == kw, (r["key"], inst_id)
            if inst_id == "combination:repeat_prompt":
                assert r["prompt"].startswith(kw["prompt_to_repeat"])
            for key in ("end_phrase", "postscript_marker", "section_spliter"):
                if key in kw:
                    assert kw[key] in r["prompt"], (r["key"], key)
            for word in kw.get("keywords", []) + kw.get("forbidden_words", []):
                assert word in r["prompt"], (r["key"], word)
        assert len(set(r["instruction_id_list"])) == len(r["instruction_id_list"]), r["key"]


def test_ifeval_suite_needs_a_prompt_file(tmp_path: Path) -> None:
    # No file and no data directory: the hub copy is tried (offline here) and the error says both.
    with pytest.raises(AlignlabError, match=r"ifeval/input_data\.jsonl in .*hf://google/IFEval@train"):
        build_suite("instructions/ifeval")
    p = tmp_path / "p.jsonl"
    p.write_text(json.dumps({"key": 7, "prompt": "hi", "instruction_id_list": ["punctuation:no_comma"],
                             "kwargs": [{}]}) + "\n")
    suite = build_suite("instructions/ifeval", prompts=str(p), max_tokens=4)
    assert [s.id for s in suite.samples] == ["7"] and suite.params == {"prompts": str(p), "max_tokens": 4}


def test_following_runs_on_the_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = build_suite("instructions/following", max_tokens=8)
    assert suite.level == "instructions" and suite.primary_metric == "prompt_level_strict"
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", limit=6, show_progress=False)
    s = res["suites"]["instructions/following"]
    assert s["n"] == 6 and s["n_errors"] == 0
    m = s["metrics"]
    assert m["prompt_level_strict"]["n"] == 6 and m["inst_level_loose"]["n"] >= 6
    assert 0.0 <= m["prompt_level_strict"]["value"] <= m["prompt_level_loose"]["value"] <= 1.0
    rows = [json.loads(x) for x in (tmp_path / "run" / "samples" / "instructions" / "following.jsonl").read_text()
            .splitlines()]
    assert all("strict_0" in r["scores"] for r in rows)
