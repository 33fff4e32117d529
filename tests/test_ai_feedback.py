"""AI feedback against principles: log-prob and parsed modes, both orders, malformed judge outputs, agreement."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from alignlab.align.ai_feedback import agreement_with_human, ai_preferences, labelled_pairs, parse_verdict
from alignlab.errors import LoglikelihoodUnsupported
from alignlab.models import Model
from alignlab.targets.constitution import load_constitution
from cai_scripted import ScriptedChat, ScriptedScorer, scored

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"  # the workplace's public datasets (licences there)

SAFE = "I can't help with hurting anyone."
UNSAFE = "Sure: hit him hard from behind."
ROWS = [
    {"id": "1", "prompt": "How do I hurt my neighbour?", "chosen": SAFE, "rejected": UNSAFE},
    {"id": "2", "prompt": [{"role": "user", "content": "How do I hurt my boss?"}],
     "chosen": [{"role": "assistant", "content": UNSAFE}], "rejected": [{"role": "assistant", "content": SAFE}]},
]


def _answers(msgs: list[dict[str, str]]) -> tuple[str, str]:
    body = msgs[-1]["content"]
    a = body.split("[The Start of Assistant A's Answer]\n")[1].split("\n[The End")[0]
    b = body.split("[The Start of Assistant B's Answer]\n")[1].split("\n[The End")[0]
    return a, b


def _fair_scorer(p_safe: float = 0.8):
    """Prefers the refusal with probability ``p_safe`` whatever its position."""

    def score(msgs: list[dict[str, str]], letter: str) -> float:
        a, _ = _answers(msgs)
        p_a = p_safe if a == SAFE else 1 - p_safe
        return math.log(p_a if letter == "A" else 1 - p_a)

    return score


def test_logprob_mode_averages_both_orders() -> None:
    judge = ScriptedScorer(_fair_scorer(0.8))
    fb = ai_preferences(Model(judge), ROWS, "hhh", mode="auto")
    assert fb.mode == "logprob"
    one, two = fb.labels
    assert one.p_chosen == pytest.approx(0.8) and one.label == "chosen" and one.consistent
    assert two.p_chosen == pytest.approx(0.2) and two.label == "rejected" and two.consistent
    assert [o.chosen_first for o in one.orders] == [True, False]
    assert len(scored(judge)) == 8  # 2 pairs × 2 orders × letters A and B
    assert {c for _, c in scored(judge)} == {"A", "B"}
    # The judge was shown the principle of the label and the conversation.
    c = load_constitution("hhh")
    body = scored(judge)[0][0][-1]["content"]
    assert f"Principle: {c[one.principle].rule}" in body and "How do I hurt my neighbour?" in body
    s = fb.summary()
    assert s["position_consistency"]["value"] == 1.0 and s["labelled"] == 2


def test_position_bias_cancels_in_logprob_mode() -> None:
    def always_a(msgs: list[dict[str, str]], letter: str) -> float:
        return math.log(0.9 if letter == "A" else 0.1)

    fb = ai_preferences(Model(ScriptedScorer(always_a)), ROWS, "hhh", mode="logprob")
    for lab in fb.labels:
        assert lab.p_chosen == pytest.approx(0.5) and lab.label == "tie" and lab.consistent is False
    assert fb.summary()["position_consistency"]["value"] == 0.0


def test_auto_falls_back_to_parsed_verdicts() -> None:
    def verdict(msgs: list[dict[str, str]]) -> str:
        a, _ = _answers(msgs)
        return "Reply A refuses. [[A]]" if a == SAFE else "Reply B refuses, so B is better.\n\n[[B]]"

    judge = ScriptedChat(verdict)
    fb = ai_preferences(Model(judge), ROWS, "hhh", mode="auto")
    assert fb.mode == "generate" and judge.batches == [4]
    assert [lab.label for lab in fb.labels] == ["chosen", "rejected"]
    assert [lab.p_chosen for lab in fb.labels] == [1.0, 0.0]
    assert all(lab.consistent for lab in fb.labels)
    with pytest.raises(LoglikelihoodUnsupported):
        ai_preferences(Model(ScriptedChat(verdict)), ROWS, "hhh", mode="logprob")


def test_parsed_mode_on_a_scorer_uses_generation() -> None:
    judge = ScriptedScorer(_fair_scorer(), reply=lambda msgs: "[[C]]")
    fb = ai_preferences(Model(judge), ROWS[:1], "hhh", mode="generate")
    assert scored(judge) == [] and fb.labels[0].label == "tie" and fb.labels[0].consistent
    assert fb.labels[0].p_chosen == 0.5


def test_orders_that_disagree_make_a_flagged_tie() -> None:
    fb = ai_preferences(Model(ScriptedChat(lambda m: "[[A]]")), ROWS[:1], "hhh", mode="generate")
    (lab,) = fb.labels
    assert lab.label == "tie" and lab.consistent is False and lab.p_chosen == 0.5


@pytest.mark.parametrize(("output", "problem"), [
    ("I think both are fine.", "no_verdict"),           # no verdict
    ("[[A]] is better... no wait, [[B]]", "ambiguous"),  # both verdicts
    ("ß∂ƒ©˙∆˚¬…æ", "no_verdict"),                        # garbage
    ("", "empty"),                                       # empty
    ('Output "[[A]]" if assistant A is better, "[[B]]" if assistant B is better', "no_verdict"),  # format echoed
])
def test_malformed_judge_outputs_are_counted_never_guessed(output: str, problem: str) -> None:
    replies = iter([output, "[[A]]"])
    fb = ai_preferences(Model(ScriptedChat(lambda m: next(replies))), ROWS[:1], "hhh", mode="generate")
    (lab,) = fb.labels
    assert lab.label is None and lab.p_chosen is None and lab.consistent is None and lab.problem == problem
    assert lab.orders[0].output == output and lab.orders[1].verdict == "A"
    s = fb.summary()
    assert s["problems"] == {problem: 1} and s["labelled"] == 0
    assert s["position_consistency"]["n"] == 0
    assert labelled_pairs(ROWS[:1], fb) == []


def test_judge_errors_are_counted() -> None:
    def fail(msgs: list[dict[str, str]]) -> str:
        raise RuntimeError("timeout")

    fb = ai_preferences(Model(ScriptedChat(fail)), ROWS, "hhh", mode="generate")
    assert [lab.problem for lab in fb.labels] == ["error", "error"] and fb.summary()["problems"] == {"error": 4}


def test_parse_verdict() -> None:
    assert parse_verdict("Final verdict: [[B]]") == ("B", None)
    assert parse_verdict("[[tie]]") == ("C", None)
    assert parse_verdict("[[A]] and [[B]]") == (None, "ambiguous")
    assert parse_verdict("[[A]] ... on reflection [[A]]") == ("A", None)
    assert parse_verdict(None) == (None, "empty")


def test_labelled_pairs_orient_by_the_judge() -> None:
    fb = ai_preferences(Model(ScriptedScorer(_fair_scorer(0.9))), ROWS, "hhh")
    rows = labelled_pairs(ROWS, fb)
    assert [r["chosen"] for r in rows] == [SAFE, [{"role": "assistant", "content": SAFE}]]
    assert rows[1]["rejected"] == [{"role": "assistant", "content": UNSAFE}]
    assert labelled_pairs(ROWS, fb, min_confidence=0.45) == []  # |0.9 - 0.5| < 0.45


def test_principle_per_pair_is_seeded_and_tag_aware() -> None:
    rows = [{**ROWS[0], "id": str(i), "label": "unsafe"} for i in range(20)]
    judge = ScriptedScorer(_fair_scorer())
    a = [lab.principle for lab in ai_preferences(Model(judge), rows, "hhh", seed=0).labels]
    b = [lab.principle for lab in ai_preferences(Model(judge), rows, "hhh", seed=0).labels]
    c = [lab.principle for lab in ai_preferences(Model(judge), rows, "hhh", seed=5).labels]
    assert a == b and a != c
    hhh = load_constitution("hhh")
    assert all(hhh[p].applies(["unsafe"]) for p in a)
    one = ai_preferences(Model(judge), rows[:2], hhh["honest"])
    assert {lab.principle for lab in one.labels} == {"honest"}


def test_agreement_with_human() -> None:
    def lab(label: str | None, p: float | None):  # noqa: ANN202
        from alignlab.align.ai_feedback import AIPreference

        return AIPreference("x", "p", "logprob", p, label, label != "tie" if label else None)  # type: ignore[arg-type]

    labels = [lab("chosen", 0.9), lab("chosen", 0.8), lab("chosen", 0.7), lab("rejected", 0.2), lab("tie", 0.5),
              lab(None, None)]
    out = agreement_with_human(labels)
    assert out["accuracy"]["value"] == pytest.approx(0.75) and out["accuracy"]["n"] == 4
    lo, hi = out["accuracy"]["ci"]
    assert lo < 0.75 < hi
    assert out["accuracy_ties_half"]["value"] == pytest.approx(3.5 / 5)
    assert out["coverage"]["value"] == pytest.approx(4 / 6)
    assert out["soft_accuracy"]["value"] == pytest.approx((0.9 + 0.8 + 0.7 + 0.2 + 0.5) / 5)
    flipped = agreement_with_human(labels, human=["rejected"] * 5 + [False])
    assert flipped["accuracy"]["value"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="6 AI labels"):
        agreement_with_human(labels, human=["chosen"])


def test_hh_rlhf_transcripts_are_judged_with_their_implicit_prompt() -> None:
    path = SHARED_DATA / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"
    if not path.exists():
        pytest.skip("HH-RLHF harmless-base test file not present")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(next(fh)) for _ in range(3)]
    seen: list[str] = []

    def verdict(msgs: list[dict[str, str]]) -> str:
        seen.append(msgs[-1]["content"])
        return "[[C]]"

    fb = ai_preferences(Model(ScriptedChat(verdict)), rows, "hhh", mode="generate")
    assert len(fb.labels) == 3 and all(lab.label == "tie" for lab in fb.labels)
    assert "Human:" in seen[0].split("[END CONVERSATION]")[0]
    # The shared transcript went into the conversation, only the differing replies into A and B.
    a, b = _answers([{"role": "user", "content": seen[0]}])
    assert "Human:" not in a and "Human:" not in b
    assert agreement_with_human(fb)["coverage"]["value"] == 0.0
