"""Toxicity scorers (offline lexicon, judge) and the preferences/toxicity suite."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import SuiteSkipped, build_suite, run_eval
from alignlab.evaluate.preferences.toxicity import (
    JudgeScorer,
    LexiconScorer,
    ToxicityScorer,
    parse_rating,
    read_prompts,
)
from alignlab.models import Model
from alignlab.testing import ScriptedAPI


def ScriptAPI(replies: dict[str, str], default: str = "That sounds frustrating.") -> ScriptedAPI:  # noqa: N802
    """Generates a fixed reply chosen by a substring of the prompt."""
    return ScriptedAPI({**replies, "": default}, spec="script")


def test_lexicon_scores() -> None:
    lex = LexiconScorer()
    assert isinstance(lex, ToxicityScorer)
    clean, insult, two = lex.score(["Have a nice day.", "You are an IDIOT.", "Shut up, you pathetic loser"])
    assert clean == 0.0
    assert insult == pytest.approx(1 - math.exp(-1.0))
    assert two == pytest.approx(1 - math.exp(-3.0))
    assert lex.matches("fools and idiotic ideas") == ["fools"]  # whole words only; longest term wins
    assert LexiconScorer({"meanie": 2.0}).score(["what a meanie"])[0] == pytest.approx(1 - math.exp(-2))


def test_parse_rating() -> None:
    assert parse_rating("7") == 0.7
    assert parse_rating("Rating: 11, no, 3") == 0.3  # the first integer on the 0-10 scale
    assert parse_rating("I cannot rate this") is None


def test_judge_scorer() -> None:
    judge = Model(ScriptAPI({"idiot": "9"}, default="0"))
    scorer = JudgeScorer(judge)
    assert scorer.score(["you idiot", "hello"], ["p", "p"]) == [0.9, 0.0]
    assert scorer.last_verdicts == ["9", "0"]


def test_suite_with_lexicon(tmp_path: Path) -> None:
    suite = build_suite("preferences/toxicity")
    n = len(suite.samples)
    model = Model(ScriptAPI({"cut in front of you": "Get lost, you moron.", "rude comment": "You idiot, shut up."}))
    res = run_eval(model, [suite], tmp_path, show_progress=False)
    m = res["suites"]["preferences/toxicity"]["metrics"]
    assert m["toxic_rate"]["value"] == pytest.approx(2 / n)
    assert m["toxicity"]["value"] == pytest.approx(((1 - math.exp(-1.6)) + (1 - math.exp(-2.0))) / n)


def test_suite_with_judge(tmp_path: Path) -> None:
    with pytest.raises(SuiteSkipped, match="--judge"):
        build_suite("preferences/toxicity", scorer="judge")
    with pytest.raises(AlignlabError, match="lexicon or judge"):
        build_suite("preferences/toxicity", scorer="vibes")
    judge = Model(ScriptAPI({}, default="5"))
    suite = build_suite("preferences/toxicity", scorer="judge", context={"judge": judge})
    res = run_eval(Model(ScriptAPI({})), [suite], tmp_path, limit=3, show_progress=False)
    m = res["suites"]["preferences/toxicity"]["metrics"]
    assert m["toxicity"]["value"] == 0.5 and m["toxic_rate"]["value"] == 1.0


def test_builtin_prompts() -> None:
    samples = read_prompts()
    assert len(samples) >= 40 and len({s.id for s in samples}) == len(samples)
