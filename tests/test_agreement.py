"""Preference agreement: implicit rewards, DPO rewards against a reference, RewardBench-style sections."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import Output, Sample, build_suite, run_eval
from alignlab.evaluate.preferences.agreement import (
    agreement_metrics,
    hhh_pairs,
    read_pairs,
    score_pair,
    weighted_sections,
)
from alignlab.models import Model
from alignlab.testing import ScriptedAPI

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HH = SHARED / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"


def TableAPI(table: dict[str, float]) -> ScriptedAPI:  # noqa: N802
    """Log-likelihood = a fixed table lookup by continuation; one token per character."""
    return ScriptedAPI(logprob=lambda r: (table[r.continuation], len(r.continuation)), spec="table")


def _rec(subset: str, acc: float) -> dict:
    return {"metadata": {"subset": subset}, "scores": {"accuracy_sum": acc}, "error": None}


def test_weighted_sections_hand_computed() -> None:
    # section a: subsets a/x (1, 1, 0) and a/y (0) → 2/4 = 0.5 (count-weighted, not (2/3 + 0)/2);
    # section b: (1, 1) → 1.0; score = mean of sections = 0.75.
    recs = [_rec("a/x", 1), _rec("a/x", 1), _rec("a/x", 0), _rec("a/y", 0), _rec("b", 1), _rec("b", 1)]
    out = weighted_sections(recs, "accuracy_sum")
    assert out["subset/a/x/accuracy_sum"]["value"] == pytest.approx(2 / 3)
    assert out["section/a/accuracy_sum"]["value"] == pytest.approx(0.5)
    assert out["section/b/accuracy_sum"]["value"] == 1.0
    assert out["score_accuracy_sum"]["value"] == pytest.approx(0.75)
    assert weighted_sections([{"metadata": {}, "scores": {"accuracy_sum": 1}}], "accuracy_sum") == {}


def test_score_pair_sum_norm_and_dpo() -> None:
    s = Sample(id="1", input="q", choices=["long chosen", "no"])
    # summed prefers rejected (-5 > -8); per token prefers chosen (-8/11 > -5/2)
    out = Output(logprobs=[-8.0, -5.0], extra={"logprobs_norm": [-8 / 11, -5 / 2],
                                               "dpo_rewards": [0.1 * (-8 + 10), 0.1 * (-5 + 4)]})
    sc = score_pair(s, out)
    assert sc["accuracy_sum"] == 0.0 and sc["accuracy_norm"] == 1.0
    assert sc["accuracy_dpo"] == 1.0 and sc["margin_dpo"] == pytest.approx(0.3)
    assert score_pair(s, Output(logprobs=[-1.0, -1.0], extra={"logprobs_norm": [0, 0]}))["accuracy_sum"] == 0.5


def test_agreement_end_to_end_with_reference(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [{"prompt": "p1", "chosen": "good", "rejected": "bad", "subset": "s/one"},
            {"prompt": "p2", "chosen": "fine", "rejected": "awful", "subset": "s/one"},
            {"prompt": [{"role": "user", "content": "p3"}], "chosen": [{"role": "assistant", "content": "yes"}],
             "rejected": [{"role": "assistant", "content": "nope"}], "subset": "t"}]
    pairs.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    policy = Model(TableAPI({"good": -1.0, "bad": -2.0, "fine": -3.0, "awful": -2.0, "yes": -1.0, "nope": -1.0}))
    ref = Model(TableAPI({"good": -1.0, "bad": -1.0, "fine": -5.0, "awful": -2.0, "yes": -3.0, "nope": -1.0}))
    suite = build_suite("preferences/agreement", path=str(pairs), context={"reference_model": ref})
    assert suite.primary_metric == "accuracy_dpo" and "reference_model" not in suite.params
    res = run_eval(policy, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["preferences/agreement"]["metrics"]
    # summed: 1, 0, tie → 0.5 mean; DPO (β=0.1): good/bad 0 vs -0.1 → 1; fine/awful 0.2 vs 0 → 1; yes/nope 0.2 vs 0 → 1
    assert m["accuracy_sum"]["value"] == pytest.approx(0.5)
    assert m["accuracy_dpo"]["value"] == 1.0
    assert m["margin_dpo"]["value"] == pytest.approx((0.1 + 0.2 + 0.2) / 3)
    assert m["section/s/accuracy_sum"]["value"] == 0.5 and m["score_accuracy_dpo"]["value"] == 1.0


def test_agreement_needs_a_path() -> None:
    with pytest.raises(AlignlabError, match="path=FILE"):
        build_suite("preferences/agreement")


def test_builtin_hhh_pairs() -> None:
    pairs = hhh_pairs()
    assert len(pairs) >= 150 and len({p.id for p in pairs}) == len(pairs)
    assert {p.subset.split("/")[0] for p in pairs} == {"helpful", "honest", "harmless"}
    assert all(p.chosen != p.rejected for p in pairs)


def test_hhh_on_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.models import load_model

    model = load_model(f"hf:{tiny_model_dir}", cache=False)
    suite = build_suite("preferences/hhh-pairs", context={"reference_model": model})
    res = run_eval(model, [suite], tmp_path, limit=4, show_progress=False)
    m = res["suites"]["preferences/hhh-pairs"]["metrics"]
    assert m["accuracy_dpo"]["value"] == 0.5  # policy = reference: every DPO reward is 0, every pair a tie
    assert 0 <= m["accuracy_sum"]["value"] <= 1 and not math.isnan(m["margin_norm"]["value"])


@pytest.mark.skipif(not HH.exists(), reason="shared HH-RLHF copy absent")
def test_read_hh_rlhf_as_chat() -> None:
    pairs = read_pairs(HH, "hh-rlhf", limit=5)
    assert len(pairs) == 5
    assert pairs[0].prompt[-1]["role"] == "user" and pairs[0].chosen and pairs[0].rejected
    sub = read_pairs(HH, "hh-rlhf", limit=3, seed=0)
    assert len(sub) == 3 and sub[0].id != sub[1].id


def test_agreement_metrics_ignore_errors() -> None:
    recs = [{"scores": {"accuracy_sum": 1.0, "accuracy_norm": 0.0, "margin_sum": 1, "margin_norm": 0}, "error": None,
             "metadata": {}}, {"scores": None, "error": "boom", "metadata": {}}]
    m = agreement_metrics(recs)
    assert m["accuracy_sum"]["n"] == 1 and "accuracy_dpo" not in m


def test_bad_rows_name_the_line(tmp_path: Path) -> None:
    from alignlab.errors import DataError

    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n{not json\n")
    with pytest.raises(DataError, match="bad.jsonl:2"):
        read_pairs(f)
    f.write_text(json.dumps({"prompt": "p", "chosen": "a"}) + "\n")
    with pytest.raises(DataError, match="bad.jsonl:1"):
        read_pairs(f)


def test_independent_pairs_are_skipped_not_failed_when_the_file_is_absent(tmp_path: Path) -> None:
    from alignlab.evaluate import SuiteSkipped, build_suite

    with pytest.raises(SuiteSkipped, match="no file"):
        build_suite("preferences/independent", path=str(tmp_path / "missing.jsonl.gz"), format="hh-rlhf")
    f = tmp_path / "pairs.jsonl"
    f.write_text(json.dumps({"prompt": "Hi?", "chosen": "Hello!", "rejected": "Go away."}) + "\n")
    suite = build_suite("preferences/independent", path=str(f))
    assert suite.name == "preferences/independent" and len(suite.samples) == 1
