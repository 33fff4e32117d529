"""Value classifier: parsing judge outputs into Schwartz vectors, aggregation by hand, the judge prompt, the
suite with a scripted judge (malformed outputs counted) and with a non-judge classifier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

import alignlab.evaluate.values.classifier as vc
from alignlab.evaluate import SuiteSkipped, build_suite, run_eval
from alignlab.models import Model
from alignlab.targets import SCHWARTZ
from alignlab.testing import ScriptedAPI

ALL_ZERO = {k: 0 for k in SCHWARTZ.keys}


def test_parse_json_fenced_and_named() -> None:
    full = json.dumps({**ALL_ZERO, "benevolence": 1, "power": -1})
    assert vc.parse_value_vector(full) == ({**ALL_ZERO, "benevolence": 1, "power": -1}, 0)
    fenced = 'Here you go:\n```json\n{"Self-direction": "+1", "Universalism": "supports", "Power": "opposes"}\n```'
    vec, missing = vc.parse_value_vector(fenced)
    assert vec == {**ALL_ZERO, "self_direction": 1, "universalism": 1, "power": -1} and missing == 7


def test_parse_lines() -> None:
    text = "- Self-direction: +1\n- stimulation: 0\n* Tradition: -1\nBenevolence = not relevant\nnotes: whatever"
    vec, missing = vc.parse_value_vector(text)
    assert vec == {**ALL_ZERO, "self_direction": 1, "tradition": -1} and missing == 6


@pytest.mark.parametrize("bad", [None, "", "I cannot classify this.", '{"benevolence": 2}',
                                 '{"benevolence": "very much"}', '{"unknown_value": 1}', "[1, 0, -1]"])
def test_parse_failures(bad: str | None) -> None:
    assert vc.parse_value_vector(bad)[0] is None


def test_aggregate_by_hand() -> None:
    vecs = [{**ALL_ZERO, "benevolence": 1, "power": -1}, {**ALL_ZERO, "benevolence": 1},
            {**ALL_ZERO, "benevolence": -1, "universalism": 1}, {}, None]
    m = vc.aggregate(vecs)
    assert m["value_expression/benevolence"]["value"] == pytest.approx(1 / 3)
    assert m["value_expression/benevolence"]["n"] == 3  # unclassified responses are left out
    assert m["value_expression/supports/benevolence"]["value"] == pytest.approx(2 / 3)
    assert m["value_expression/opposes/power"]["value"] == pytest.approx(1 / 3)
    # Self-transcendence = mean of benevolence and universalism per response: (0.5, 0.5, 0).
    assert m["value_expression/group/self_transcendence"]["value"] == pytest.approx(1 / 3)
    assert m["value_expression/relevant_values_per_response"]["value"] == pytest.approx(5 / 3)
    lo, hi = m["value_expression/benevolence"]["ci"]
    assert lo < 1 / 3 < hi


def test_judge_prompt_lists_every_definition() -> None:
    p = vc.judge_prompt("Help your neighbours.", "What makes a good life?")
    for v in SCHWARTZ.values:
        assert v.key in p and v.definition in p
    assert "[QUESTION]" in p and "Help your neighbours." in p


def test_judge_classifier_counts_failures() -> None:
    replies = iter([json.dumps({**ALL_ZERO, "achievement": 1}), "no idea"])
    clf = vc.JudgeValueClassifier(Model(ScriptedAPI(lambda _: next(replies))))
    assert isinstance(clf, vc.ValueClassifier)
    assert clf.classify(["Work hard and win.", "???"]) == [{**ALL_ZERO, "achievement": 1}, {}]


def test_suite_skips_without_judge() -> None:
    with pytest.raises(SuiteSkipped, match="--judge"):
        build_suite("values/value-expression")


def test_builtin_prompts() -> None:
    rows = vc.load_value_prompts()
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    assert len({r["topic"] for r in rows}) >= 6


def test_suite_end_to_end_with_scripted_judge(tmp_path: Path) -> None:
    calls = {"n": 0}

    def judge_reply(prompt: str) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            return "Sorry, I can't do that."  # malformed: counted as a parse failure, kept in the record
        if "forest" in prompt:
            return json.dumps({**ALL_ZERO, "universalism": 1, "security": -1})
        return json.dumps({**ALL_ZERO, "benevolence": 1})

    judge = Model(ScriptedAPI(judge_reply, spec="judge"))
    suite = build_suite("values/value-expression", context={"judge": judge}, max_tokens=16)
    by_id = {s.id: s for s in suite.samples}
    suite.samples = [by_id["nature-01"], by_id["career-01"], by_id["family-01"]]
    model = Model(ScriptedAPI(lambda p: "Protect the forest and the people who depend on it." if "forest" in p
                           else "Be kind to others."))
    m = run_eval(model, [suite], tmp_path / "run", show_progress=False)["suites"]["values/value-expression"]
    metrics = m["metrics"]
    assert metrics["judge_parse_failures"]["value"] == 1 and metrics["judge_parse_failures"]["n"] == 3
    assert metrics["value_expression/universalism"]["value"] == 0.5  # (1 + 0) over the two parsed
    assert metrics["value_expression/security"]["value"] == -0.5
    recs = [json.loads(x) for x in (tmp_path / "run" / "samples" / "values" / "value-expression.jsonl")
            .read_text().splitlines()]
    assert recs[1]["judge"]["output"] == "Sorry, I can't do that." and recs[1]["answer"] is None
    assert recs[1]["scores"]["judge_parse_failures"] == 1.0
    # The judge saw the question and the answer.
    assert "Protect the forest" in judge.api.prompts[0][-1]["content"]


def test_a_trained_classifier_replaces_the_judge(tmp_path: Path) -> None:
    class KeywordClassifier:
        """Stands in for a trained model: anything with ``system`` and ``classify``."""

        system = SCHWARTZ

        def classify(self, responses: Sequence[str], prompts: Sequence[str] | None = None) -> list[dict[str, int]]:
            return [{**ALL_ZERO, "hedonism": 1} if "fun" in r else {} for r in responses]

    suite = vc.value_expression_suite(KeywordClassifier(), max_tokens=8)
    suite.samples = suite.samples[:2]
    replies = iter(["Have fun!", "..."])
    res = run_eval(Model(ScriptedAPI(lambda _: next(replies))), [suite], tmp_path / "run", show_progress=False)
    metrics = res["suites"]["values/value-expression"]["metrics"]
    assert metrics["value_expression/hedonism"]["value"] == 1.0
    assert metrics["judge_parse_failures"]["value"] == 1
