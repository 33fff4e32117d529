"""MT-Bench suites: the data formats, single-answer grading over two turns, pairwise vs a reference set.

The judge is a scripted ``ModelAPI`` (canned verdicts, some malformed) so every figure is known in advance.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import SuiteSkipped, build_suite, run_eval
from alignlab.evaluate.instructions import arena
from alignlab.models import Model, load_model
from alignlab.testing import ScriptedAPI

MT = Path(__file__).resolve().parents[2] / "shared" / "data" / "mt_bench"
QUESTIONS, REFERENCES = MT / "question.jsonl", MT / "reference_answer" / "gpt-4.jsonl"
pytestmark = pytest.mark.skipif(not QUESTIONS.exists(), reason="MT-Bench files not in shared/data")


def Scripted(reply: Callable[[list[dict]], str], spec: str = "scripted") -> ScriptedAPI:  # noqa: N802
    """A backend answering chat requests from a script ``reply(messages)`` → text (RuntimeError → error)."""
    return ScriptedAPI(reply_to=lambda r: reply(r.prompt), spec=spec)


def _subset(tmp_path: Path, ids: set[int]) -> Path:
    rows = [line for line in QUESTIONS.read_text().splitlines() if json.loads(line)["question_id"] in ids]
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _user(messages: list[dict]) -> str:
    return next(m["content"] for m in messages if m["role"] == "user")


def test_reads_mt_bench_formats() -> None:
    qs = arena.read_questions(QUESTIONS)
    assert len(qs) == 80 and all(len(q.turns) == 2 for q in qs)
    assert sorted({q.category for q in qs}) == ["coding", "extraction", "humanities", "math", "reasoning",
                                                "roleplay", "stem", "writing"]
    assert sum(q.reference is not None for q in qs) == 39
    refs = arena.read_references(REFERENCES)
    assert len(refs) == 30 and all(len(t) == 2 for t in refs.values())
    assert refs["101"][0].startswith("If you have just overtaken the second person")


def test_bad_files_name_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question_id": 1, "turns": ["hi"]}\n{"question_id": 2}\n')
    with pytest.raises(AlignlabError, match=r"q.jsonl:2: missing field 'turns'"):
        arena.read_questions(bad)


def test_no_judge_means_not_run_and_no_questions_means_a_hint() -> None:
    import alignlab.evaluate.instructions.arena  # noqa: F401 - registers the suites

    for name in ("instructions/mt-bench", "instructions/arena-vs-reference"):
        with pytest.raises(SuiteSkipped, match="needs a judge: pass --judge SPEC"):
            build_suite(name, questions=str(QUESTIONS), context={"judge": None})
        judge = Model(Scripted(lambda m: "[[5]]"))
        with pytest.raises(AlignlabError, match=r"mt_bench/question\.jsonl in \(ALIGNLAB_DATA_DIR"):
            build_suite(name, context={"judge": judge})
    with pytest.raises(AlignlabError, match="reference answer set"):
        build_suite("instructions/arena-vs-reference", questions=str(QUESTIONS), context={"judge": judge})


def test_mt_bench_two_turns_graded_with_parse_failures_counted(tiny_model_dir: Path, tmp_path: Path) -> None:
    def grade(messages: list[dict]) -> str:
        user = _user(messages)
        if "Reference Answer" in user:
            return "Correct. Rating: [[9]]"
        if "Hawaii" in user and "### User:" not in user:  # turn 1 of question 81: no verdict at all
            return "This is a lovely blog post."
        return "Fine. [[5]]"

    judge_api = Scripted(grade, "judge")
    suite = build_suite("instructions/mt-bench", questions=str(_subset(tmp_path, {81, 82, 111, 112})),
                        references=str(REFERENCES), max_tokens=6, context={"judge": Model(judge_api)})
    assert suite.params == {"questions": str(tmp_path / "questions.jsonl"), "references": str(REFERENCES),
                            "max_tokens": 6}
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["instructions/mt-bench"]["metrics"]
    assert m["score"]["n"] == 7 and m["score"]["value"] == pytest.approx((5 * 3 + 9 * 4) / 7)
    assert m["score_turn1"]["n"] == 3 and m["score_turn2"]["value"] == pytest.approx((5 + 5 + 9 + 9) / 4)
    assert m["score/math"]["value"] == 9 and m["score/writing"]["value"] == 5
    assert m["score_scaled"]["value"] == pytest.approx(m["score"]["value"] / 10)
    assert m["judge_parse_failures"]["declared"]["kind"] == "reliability"
    failures = {k: v for k, v in m["judge_parse_failures"].items() if k != "declared"}
    assert failures == {"value": 1, "n": 8, "rate": 1 / 8}
    rows = {json.loads(line)["id"]: json.loads(line)
            for line in (tmp_path / "run" / "samples" / "instructions" / "mt-bench.jsonl").read_text().splitlines()}
    assert rows["81"]["scores"]["score_turn1"] is None  # kept, not dropped
    assert rows["81"]["judge"][0]["output"] == "This is a lovely blog post."
    assert [j["template"] for j in rows["111"]["judge"]] == ["single-ref", "single-multi-ref"]
    assert [j["template"] for j in rows["82"]["judge"]] == ["single", "single-multi"]
    assert len(rows["82"]["extra"]["answers"]) == 2
    # The turn-2 judge prompt shows the whole conversation: both questions and both answers.
    multi = [u for u in map(_user, judge_api.prompts) if "Quarterly Financial Report" in u and "### User" in u]
    assert len(multi) == 1 and "critique your own response" in multi[0]
    assert rows["82"]["extra"]["answers"][1] in multi[0]


def test_arena_vs_reference_both_orders(tmp_path: Path) -> None:
    def answer(messages: list[dict]) -> str:
        n_user = sum(m["role"] == "user" for m in messages)
        if n_user == 2:  # turn 2 must see the model's own turn-1 answer
            assert messages[1] == {"role": "assistant", "content": messages[1]["content"]}
            assert messages[1]["content"].startswith("MODEL-1")
        return f"MODEL-{n_user} says {messages[-1]['content'][:20]}"

    def verdict(messages: list[dict]) -> str:
        user = _user(messages)
        model_is_a = "Assistant A's Answer]\nMODEL" in user or "### Assistant A:\nMODEL" in user
        if "overtaken the second person" in user:  # 101: the model is better in both orders
            return "[[A]]" if model_is_a else "[[B]]"
        if "White House" in user:  # 102: the judge always picks the first answer → disagreement → tie
            return "[[A]]"
        if "Thomas" in user:  # 103: the reference is better in both orders
            return "[[B]]" if model_is_a else "[[A]]"
        return "[[A]]" if model_is_a else "I cannot decide."  # 104: one order does not parse

    judge_api = Scripted(verdict, "judge")
    evaluated = Model(Scripted(answer, "model"))
    suite = build_suite("instructions/arena-vs-reference", questions=str(_subset(tmp_path, {101, 102, 103, 104})),
                        references=str(REFERENCES), turns=1, context={"judge": Model(judge_api)})
    res = run_eval(evaluated, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["instructions/arena-vs-reference"]["metrics"]
    assert m["win_rate"]["n"] == 3 and m["win_rate"]["value"] == pytest.approx(0.5)
    assert (m["wins"]["value"], m["ties"]["value"], m["losses"]["value"]) == (1, 1, 1)
    assert {k: v for k, v in m["position_disagreements"].items() if k != "declared"} == {"value": 1, "n": 4}
    assert m["judge_parse_failures"]["declared"]["kind"] == "reliability"
    failures = {k: v for k, v in m["judge_parse_failures"].items() if k != "declared"}
    assert failures == {"value": 1, "n": 8, "rate": 1 / 8}
    assert len(judge_api.prompts) == 8  # every question judged in both orders
    rows = [json.loads(line) for line in
            (tmp_path / "run" / "samples" / "instructions" / "arena-vs-reference.jsonl").read_text().splitlines()]
    r104 = next(r for r in rows if r["id"] == "104")
    assert r104["scores"]["win"] is None and r104["judge"][0]["model_as_b"]["output"] == "I cannot decide."

    # Two turns: the second game uses the multi-turn template and the model answered with the conversation.
    suite2 = build_suite("instructions/arena-vs-reference", questions=str(_subset(tmp_path, {101})),
                         references=str(REFERENCES), context={"judge": Model(Scripted(verdict, "judge"))})
    res2 = run_eval(evaluated, [suite2], tmp_path / "run2", show_progress=False)
    m2 = res2["suites"]["instructions/arena-vs-reference"]["metrics"]
    assert m2["win_rate_turn1"]["value"] == 1 and m2["win_rate_turn2"]["n"] == 1


def test_judge_backend_errors_are_counted_errors(tmp_path: Path) -> None:
    def down(messages: list[dict]) -> str:
        raise RuntimeError("503 from judge")

    suite = build_suite("instructions/mt-bench", questions=str(_subset(tmp_path, {81, 82})), turns=1,
                        context={"judge": Model(Scripted(down, "judge"))})
    res = run_eval(Model(Scripted(lambda m: "hello")), [suite], tmp_path / "run", show_progress=False)
    s = res["suites"]["instructions/mt-bench"]
    assert s["n_errors"] == 2 and "judge failed: 503 from judge" in next(iter(s["errors"]))
    assert s["metrics"]["score"]["n"] == 0


def test_categories_filter(tmp_path: Path) -> None:
    judge = Model(Scripted(lambda m: "[[5]]"))
    suite = build_suite("instructions/mt-bench", questions=str(QUESTIONS), categories="math+reasoning",
                        context={"judge": judge})
    assert len(suite.samples) == 20 and {s.metadata["category"] for s in suite.samples} == {"math", "reasoning"}
    with pytest.raises(AlignlabError, match="no questions in categories"):
        build_suite("instructions/mt-bench", questions=str(QUESTIONS), categories="poetry", context={"judge": judge})
