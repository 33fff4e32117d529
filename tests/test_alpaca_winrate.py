"""preferences/alpaca-winrate: judged in both orders against reference outputs, with AlpacaEval 2's LC win rate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from alignlab.errors import DataError
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
