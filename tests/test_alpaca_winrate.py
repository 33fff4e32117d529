"""preferences/alpaca-winrate: judged in both orders against reference outputs, with AlpacaEval 2's LC win rate."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate import SuiteSkipped, build_suite, run_eval
from alignlab.models import Model
from alignlab.testing import ScriptedAPI

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _answers(user: str) -> tuple[str, str]:
    a = re.search(r"Assistant A's Answer\]\n(.*?)\n\[The End of Assistant A", user, re.S).group(1)
    b = re.search(r"Assistant B's Answer\]\n(.*?)\n\[The End of Assistant B", user, re.S).group(1)
    return a, b


def _longer_judge() -> ScriptedAPI:
    """Prefers the longer answer, whichever position it is in."""
    return ScriptedAPI(lambda user: "[[A]]" if len(_answers(user)[0]) > len(_answers(user)[1]) else "[[B]]")


def _reference_file(tmp_path: Path, n: int = 20) -> Path:
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"task {i}", "output": "r" * 50}) + "\n" for i in range(n)))
    return path


def test_a_judge_that_prefers_length_gives_a_raw_win_rate_that_length_control_pulls_to_half(tmp_path: Path) -> None:
    ref = _reference_file(tmp_path)
    # 16 of 20 answers longer than the reference (by varying amounts), 4 shorter
    lengths = [60 + 5 * i for i in range(16)] + [20, 30, 35, 40]
    model = ScriptedAPI(lambda user: "m" * lengths[int(user.split()[1])])
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), context={"judge": Model(_longer_judge())})
    res = run_eval(Model(model), [suite], tmp_path / "run", show_progress=False)
    s = res["suites"]["preferences/alpaca-winrate"]
    m = s["metrics"]
    assert m["win_rate"]["value"] == pytest.approx(0.8) and m["position_disagreements"]["value"] == 0
    lc = m["length_controlled_win_rate"]["value"]
    assert abs(lc - 0.5) < 0.1 < abs(m["win_rate"]["value"] - 0.5)
    assert s["primary_metric"] == "length_controlled_win_rate"
    assert m["length_controlled_win_rate"]["declared"]["chance"] == 0.5


def test_a_position_biased_judge_scores_ties_and_a_fair_one_is_followed(tmp_path: Path) -> None:
    ref = _reference_file(tmp_path, 4)
    judge = ScriptedAPI("[[A]]")  # always the first answer: the two orders disagree → tie
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), context={"judge": Model(judge)})
    res = run_eval(Model(ScriptedAPI("a good answer")), [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["preferences/alpaca-winrate"]["metrics"]
    assert m["win_rate"]["value"] == 0.5 and m["position_disagreements"]["value"] == 4
    assert len(judge.requests) == 8  # both orders for every instruction
    judge = ScriptedAPI("no verdict here")
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), context={"judge": Model(judge)})
    res = run_eval(Model(ScriptedAPI("x")), [suite], tmp_path / "run2", show_progress=False)
    m = res["suites"]["preferences/alpaca-winrate"]["metrics"]
    assert m["judge_parse_failures"]["value"] == 8 and "win_rate" not in m


def test_reference_model_and_bad_input(tmp_path: Path) -> None:
    ref = _reference_file(tmp_path, 3)
    ctx = {"judge": Model(_longer_judge()), "reference_model": Model(ScriptedAPI("a much longer reference answer"))}
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), context=ctx)
    res = run_eval(Model(ScriptedAPI("short")), [suite], tmp_path / "run", show_progress=False)
    assert res["suites"]["preferences/alpaca-winrate"]["metrics"]["win_rate"]["value"] == 0.0
    with pytest.raises(SuiteSkipped):
        build_suite("preferences/alpaca-winrate", reference=str(ref))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "x", "output": "y"}\n{"instruction": "x"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: expected string fields"):
        build_suite("preferences/alpaca-winrate", reference=str(bad), context={"judge": Model(_longer_judge())})


@pytest.mark.skipif(not (SHARED / "mt_bench" / "question.jsonl").exists(), reason="shared MT-Bench copy absent")
def test_mt_bench_gpt4_references_from_the_data_directory(tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.data import set_data_dir
    from alignlab.models import load_model

    set_data_dir(SHARED)
    suite = build_suite("preferences/alpaca-winrate", context={"judge": Model(_longer_judge())})
    assert len(suite.samples) == 30 and all(s.target for s in suite.samples)
    res = run_eval(load_model(f"hf:{tiny_model_dir}", cache=False), [suite], tmp_path / "run", limit=2,
                   show_progress=False)
    m = res["suites"]["preferences/alpaca-winrate"]["metrics"]
    assert m["win_rate"]["n"] == 2 and 0 <= m["length_controlled_win_rate"]["value"] <= 1


def test_log_probability_verdicts_weigh_both_orders_and_cancel_a_judges_position_bias(tmp_path: Path) -> None:
    ref = _reference_file(tmp_path, 6)  # references are 50 characters

    def judge_logprob(r) -> float:  # noqa: ANN001
        """Prefers the longer answer by 2 nats, and the first-shown one by 1 nat whatever it holds."""
        a, b = _answers(r.context[-1]["content"])
        assert "Output only your verdict" in r.context[0]["content"]
        shown = a if r.continuation == "[[A]]" else b
        other = b if r.continuation == "[[A]]" else a
        return 2.0 * (len(shown) > len(other)) + 1.0 * (r.continuation == "[[A]]")

    judge = ScriptedAPI(logprob=judge_logprob)
    model = ScriptedAPI(lambda user: "m" * (80 if int(user.split()[1]) < 4 else 10))  # 4 of 6 longer
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), verdicts="logprob",
                        context={"judge": Model(judge)})
    res = run_eval(Model(model), [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["preferences/alpaca-winrate"]["metrics"]
    assert len(judge.loglikelihood_requests) == 6 * 2 * 2 and not judge.requests  # weighed, never generated
    # The longer answer's probability is sigmoid(3) when shown first and sigmoid(1) when shown second: their mean
    # is the model's preference when it is longer; the position term cancels across the two orders.
    def sigmoid(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    win = (sigmoid(3) + sigmoid(1)) / 2
    assert m["win_rate"]["value"] == pytest.approx((4 * win + 2 * (1 - win)) / 6)
    # ... while the judge's own lean to the first-shown answer is reported: P(first) is σ(3) or σ(−1).
    assert m["first_position_preference"]["value"] == pytest.approx((sigmoid(3) + sigmoid(-1)) / 2)
    assert m["first_position_preference"]["value"] > 0.5
    assert m["judge_parse_failures"]["value"] == 0 and m["position_disagreements"]["value"] == 0
    assert m["first_position_preference"]["declared"]["target"] == 0.5
    with pytest.raises(AlignlabError, match="verdicts must be one of generate, logprob"):
        build_suite("preferences/alpaca-winrate", reference=str(ref), verdicts="vote",
                    context={"judge": Model(judge)})


def test_the_judge_is_checked_on_pairs_whose_verdict_is_known_and_a_guessing_judge_gates_the_win_rate(
        tmp_path: Path) -> None:
    # Reference answers that answer their own task, of varied length, so "longer" says nothing about "on topic".
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"instruction": f"task {i}", "output": f"answer to task {i}" + "." * (7 * i % 5)})
                           + "\n" for i in range(10)))

    def on_topic(user: str) -> str:
        task = re.search(r"\[User Question\]\ntask (\d+)", user).group(1)
        a, _ = _answers(user)
        return "[[A]]" if a.startswith(f"answer to task {task}.") or a == f"answer to task {task}" else "[[B]]"

    def run(judge: ScriptedAPI, name: str) -> dict:
        suite = build_suite("preferences/alpaca-winrate", reference=str(ref), context={"judge": Model(judge)})
        # Batches of 3 (and of 1 below): every instruction is still checked against the next one's answer.
        return run_eval(Model(ScriptedAPI("my answer")), [suite], tmp_path / name, batch_size=3,
                        show_progress=False)["suites"]["preferences/alpaca-winrate"]

    good = run(ScriptedAPI(on_topic), "good")
    assert good["metrics"]["judge_check"]["value"] == 1.0 and good["metrics"]["judge_check"]["n"] == 10
    assert [(g["metric"], g["passed"]) for g in good["reliability"]] == [("judge_check", True)]
    assert good["metrics"]["judge_check"]["ci"][0] > 0.6  # Wilson: 10 of 10 right
    guessing = run(_longer_judge(), "guessing")  # prefers the longer answer, whatever was asked
    assert guessing["metrics"]["judge_check"]["value"] < 0.8
    gate = guessing["reliability"][0]
    assert gate["passed"] is False and "length_controlled_win_rate" in gate["covered"]
    # Two prompts per instruction for the win rate, two for the check.
    suite = build_suite("preferences/alpaca-winrate", reference=str(ref), judge_check=False,
                        context={"judge": Model(judge := ScriptedAPI(on_topic))})
    res = run_eval(Model(ScriptedAPI("my answer")), [suite], tmp_path / "off", batch_size=1, show_progress=False)
    assert "judge_check" not in res["suites"]["preferences/alpaca-winrate"]["metrics"] and len(judge.requests) == 20
