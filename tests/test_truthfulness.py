"""TruthfulQA MC1/MC2 scoring (hand-computed), the mc_task reader and the built-in truthfulness items."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.preferences.truthfulness import (
    QA_PRIMER,
    builtin_truthfulness_path,
    mc1_score,
    mc2_score,
    read_mc_task,
)
from alignlab.models import Model
from alignlab.testing import ScriptedAPI

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MC_TASK = SHARED / "truthfulqa" / "data" / "mc_task.json"


def TableAPI(table: dict[str, float]) -> ScriptedAPI:  # noqa: N802
    return ScriptedAPI(logprob=table, spec="table")


def test_mc_scores_hand_computed() -> None:
    # MC2: p(true) = .2 + .1, p(false) = .3 → .3 / .6 = 0.5
    assert mc2_score([math.log(.2), math.log(.1)], [math.log(.3)]) == pytest.approx(0.5)
    # very long answers: exp underflows, the log-space sum does not
    assert mc2_score([-2000.0], [-2000.0 - math.log(3)]) == pytest.approx(0.75)
    assert mc1_score([-1.0], [-2.0, -0.5]) == 0.0
    assert mc1_score([-1.0], [-2.0, -1.5]) == 1.0
    assert mc1_score([-1.0], [-1.0]) == 0.0  # a tie is not a win, as upstream


def test_suite_end_to_end_on_a_table_model(tmp_path: Path) -> None:
    data = tmp_path / "mc.json"
    data.write_text(json.dumps([{
        "question": "Q?",
        "mc1_targets": {"T1": 1, "F1": 0, "F2": 0},
        "mc2_targets": {"T1": 1, "T2": 1, "F1": 0, "F3": 0},
    }]))
    api = TableAPI({"T1": math.log(.1), "T2": math.log(.3), "F1": math.log(.2), "F2": math.log(.05),
                    "F3": math.log(.4)})
    suite = build_suite("preferences/truthfulqa", path=str(data))
    assert suite.samples[0].choices == ["T1", "F1", "F2", "T2", "F3"]  # distinct answers scored once
    res = run_eval(Model(api), [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["preferences/truthfulqa"]["metrics"]
    assert m["mc1"]["value"] == 0.0  # T1 (.1) < F1 (.2)
    assert m["mc2"]["value"] == pytest.approx(.4 / 1.0)  # (.1 + .3) / (.1 + .3 + .2 + .4)
    context = api.loglikelihood_requests[0].context
    assert context.startswith(QA_PRIMER) and context.endswith("Q: Q?\nA:")


def test_truthfulqa_needs_a_path_and_a_known_style() -> None:
    with pytest.raises(AlignlabError, match=r"mc_task\.json in .*hf://truthfulqa/truthful_qa:multiple_choice"):
        build_suite("preferences/truthfulqa")
    with pytest.raises(AlignlabError, match="prompt style"):
        build_suite("preferences/truthfulness", prompt="poem")


def test_builtin_items() -> None:
    samples = read_mc_task(builtin_truthfulness_path())
    assert len(samples) >= 100
    for s in samples:
        md = s.metadata
        assert len(md["mc1_true"]) == 1 and set(md["mc1_true"]) <= set(md["mc2_true"])
        assert 0 < len(md["mc2_true"]) < len(md["mc2"]) and md["category"]


def test_builtin_on_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.models import load_model

    model = load_model(f"hf:{tiny_model_dir}", cache=False)
    res = run_eval(model, [build_suite("preferences/truthfulness", prompt="chat")], tmp_path, limit=3,
                   show_progress=False)
    m = res["suites"]["preferences/truthfulness"]["metrics"]
    assert m["mc1"]["n"] == 3 and 0 <= m["mc2"]["value"] <= 1


@pytest.mark.skipif(not MC_TASK.exists(), reason="shared TruthfulQA copy absent")
def test_read_real_mc_task() -> None:
    samples = read_mc_task(MC_TASK)
    assert len(samples) == 817
    first = samples[0].metadata
    assert first["mc1_true"] == [first["mc1"][0]]  # upstream lists the correct MC1 answer first
    assert all(len(s.metadata["mc1_true"]) == 1 for s in samples)
