"""Judge templates, verdict parsing (with the variants judges really write) and the position-swap rule."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from alignlab.evaluate.judges import (
    Judge,
    combine_orders,
    pairwise_prompt,
    parse_pairwise,
    parse_rating,
    single_prompt,
)
from alignlab.models import GenerateRequest, Model
from alignlab.testing import ScriptedAPI


def ScriptedJudge(reply: Callable[[str, str], str]) -> ScriptedAPI:  # noqa: N802
    """A judge backend that answers from a script: ``reply(system, user)`` → text (or an exception → error)."""

    def answer(r: GenerateRequest) -> str:
        assert isinstance(r.prompt, list) and r.temperature == 0.0
        system = next(m["content"] for m in r.prompt if m["role"] == "system")
        user = next(m["content"] for m in r.prompt if m["role"] == "user")
        return reply(system, user)

    return ScriptedAPI(reply_to=answer, spec="scripted-judge")


@pytest.mark.parametrize(("text", "verdict"), [
    ("Assistant A is more accurate. [[A]]", "A"),
    ("Final verdict: [[B]]", "B"),
    ("Both are equally good. [[C]]", "C"),
    ("[[ Assistant B ]]", "B"),
    ("It is a tie: [[tie]]", "C"),
    ("**[[a]]**", "A"),
    ("My verdict is [B].", "B"),
    ("Final verdict: Assistant A", "A"),
    ("At first [[A]] seemed right, but on reflection [[B]]", "B"),
    # The judge repeats the format instructions and then decides: the echo is not a verdict.
    ('Output "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie. [[A]]', "A"),
    ('"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.', None),
    ("Assistant A is better.", None),
    ("", None),
    (None, None),
    ("[[D]]", None),
])
def test_parse_pairwise(text: str | None, verdict: str | None) -> None:
    assert parse_pairwise(text) == verdict


@pytest.mark.parametrize(("text", "rating"), [
    ("Good answer. Rating: [[8]]", 8.0),
    ("[[7.5]]", 7.5),
    ("[[ 9/10 ]]", 9.0),
    ("Rating: [[10]]", 10.0),
    ("Rating: [6]", 6.0),
    ("Rating: 4", 4.0),
    ("I would give this 3/10.", 3.0),
    ("Score: 5 out of 10", 5.0),
    ('Rate it as "[[rating]]", for example: "Rating: [[5]]". My rating: [[2]]', 2.0),
    ('for example: "Rating: [[5]]"', None),
    ("[[11]]", None),
    ("[[0]]", None),
    ("The answer mentions 1969 and 3 rockets.", None),
    (None, None),
])
def test_parse_rating(text: str | None, rating: float | None) -> None:
    assert parse_rating(text) == rating


def test_combine_orders_swaps_and_ties_on_disagreement() -> None:
    # First game: the model is A. Second game: the model is B.
    assert combine_orders("A", "B") == ("win", False)
    assert combine_orders("B", "A") == ("loss", False)
    assert combine_orders("C", "C") == ("tie", False)
    assert combine_orders("A", "A") == ("tie", True)  # the judge always picked the first position
    assert combine_orders("A", "C") == ("tie", True)
    assert combine_orders(None, "B") == (None, False)
    assert combine_orders("A", None) == (None, False)


def test_templates_carry_question_answers_and_reference() -> None:
    p = single_prompt(["What is 2+2?"], ["5"], ["4"])
    assert p.template == "single-ref" and "[The Start of Reference Answer]\n4\n" in p.user
    assert "[[rating]]" in p.user and "What is 2+2?" in p.user and "Assistant's Answer]\n5\n" in p.user
    assert single_prompt(["q"], ["a"]).template == "single"
    multi = single_prompt(["q1", "q2"], ["a1", "a2"], ["r1", "r2"])
    assert multi.template == "single-multi-ref" and "second user question" in multi.system
    assert multi.user.index("### Reference answer:\nr2") < multi.user.index("### Assistant A:\na2")
    pair = pairwise_prompt(["q"], ["left"], ["right"])
    assert pair.user.index("Assistant A's Answer]\nleft") < pair.user.index("Assistant B's Answer]\nright")
    assert '"[[C]]" for a tie' in pair.system
    assert pairwise_prompt(["q1", "q2"], ["a1", "a2"], ["b1", "b2"]).template == "pair-multi"


def test_judge_batches_and_reports_backend_errors() -> None:
    def reply(system: str, user: str) -> str:
        if "boom" in user:
            raise RuntimeError("judge server down")
        return "Rating: [[6]]"

    api = ScriptedJudge(reply)
    judge = Judge(Model(api), max_tokens=64)
    replies = judge.ask([single_prompt(["ok"], ["fine"]), single_prompt(["boom"], ["x"])])
    assert [r.output for r in replies] == ["Rating: [[6]]", None]
    assert replies[1].error == "judge server down" and replies[0].template == "single"
    assert len(api.prompts) == 2 and api.prompts[0][0]["role"] == "system"


def test_log_probability_verdicts_are_the_judges_odds_of_a_over_b_and_never_guessed() -> None:
    from alignlab.evaluate.judges import pairwise_verdict_prompt

    judge = Judge(Model(ScriptedAPI(logprob={"[[A]]": -1.0, "[[B]]": -3.0})))
    [w] = judge.weigh([pairwise_verdict_prompt(["q"], ["a"], ["b"])])
    assert w.template == "pair-logprob" and w.error is None
    assert w.p_a == pytest.approx(1 / (1 + math.exp(-2.0)))
    # A backend that gives no finite log-probability yields no verdict, not a coin flip.
    [w] = Judge(Model(ScriptedAPI(logprob={"[[A]]": float("-inf"), "[[B]]": -3.0}))).weigh(
        [pairwise_verdict_prompt(["q"], ["a"], ["b"])])
    assert w.p_a is None and "no finite log-probability" in w.error
    # The prompt asks for the verdict alone, with no tie to choose.
    p = pairwise_verdict_prompt(["q"], ["a"], ["b"])
    assert "Output only your verdict" in p.system and "[[C]]" not in p.system and "explanation" not in p.system
