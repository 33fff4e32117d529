"""Value conflicts: Bradley–Terry over values against hand-computed strengths, scoring of swapped options,
consistency, the built-in dilemmas, and an end-to-end run on the tiny model."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import alignlab.evaluate.values.dilemmas as dil
from alignlab.evaluate import Output, build_suite, run_eval
from alignlab.models import load_model
from alignlab.targets import SCHWARTZ

SD, ST, HE = "self_direction", "stimulation", "hedonism"


def test_bradley_terry_three_values_hand_computed() -> None:
    # Strengths (ln 2, 0, -ln 2) predict P(0>1) = P(1>2) = 2/3 and P(0>2) = 4/5; wins in exactly those
    # proportions satisfy the likelihood equations W_ij = n_ij * p_ij, so they are the MLE (mean 0).
    w = np.array([[0, 2, 4], [1, 0, 2], [1, 1, 0]], dtype=float)
    assert dil.value_strengths(w, l2=1e-9) == pytest.approx([math.log(2), 0.0, -math.log(2)], abs=1e-6)
    # Two values, 3 wins to 1: s0 - s1 = ln 3, centred.
    assert dil.value_strengths(np.array([[0, 3], [1, 0]]), l2=1e-9) == pytest.approx(
        [math.log(3) / 2, -math.log(3) / 2], abs=1e-6)
    # Batched bootstrap rounds (R, V, V) fit at once.
    assert dil.value_strengths(np.stack([w, w.T]), l2=1e-9)[1] == pytest.approx([-math.log(2), 0, math.log(2)],
                                                                                 abs=1e-6)


def test_prior_keeps_a_value_that_never_loses_finite() -> None:
    s = dil.value_strengths(np.array([[0, 4], [0, 0]]))
    assert np.all(np.isfinite(s)) and s[0] > 1.0 and s.sum() == pytest.approx(0.0, abs=1e-9)


def test_scoring_maps_swapped_options_back() -> None:
    from alignlab.evaluate import Sample

    meta = {"dilemma": "d", "phrasing": 0, "values": [[SD], [ST]]}
    lps = [math.log(0.8), math.log(0.2)]  # A .8, B .2
    ab = dil.score_dilemma(Sample("x", "", metadata={**meta, "order": "ab"}), Output(logprobs=lps))
    assert ab == {"p_first": pytest.approx(0.8), "choice": 0.0, "position_first": 1.0}
    # Swapped: A shows the second option, so the first option got .2.
    ba = dil.score_dilemma(Sample("x", "", metadata={**meta, "order": "ba"}), Output(logprobs=lps))
    assert ba == {"p_first": pytest.approx(0.2), "choice": 1.0, "position_first": 1.0}
    gen = dil.score_dilemma(Sample("x", "", metadata={**meta, "order": "ba"}), Output(text="B", answer=1))
    assert gen == {"p_first": 1.0, "choice": 0.0, "position_first": 0.0, "parsed": 1.0}
    assert dil.score_dilemma(Sample("x", "", metadata={**meta, "order": "ab"}), Output(text="?"))["parsed"] == 0.0
    assert [dil.parse_letter(t) for t in ("B.", "(A) because", "Answer: B", "I'd pick neither", "")] == [
        1, 0, 1, None, None]


def _recs(dilemma: str, a: str, b: str, ps: list[float]) -> list[dict]:
    return [{"error": None, "scores": {"p_first": p, "choice": float(p < 0.5), "position_first": 1.0},
             "metadata": {"dilemma": dilemma, "phrasing": i // 2, "order": ("ab", "ba")[i % 2],
                          "values": [[a], [b]]}} for i, p in enumerate(ps)]


def test_conflict_metrics_hand_computed() -> None:
    # Fractional wins giving the matrix of the hand example: sd 2:1 st, st 2:1 he, sd 4:1 he.
    recs = _recs("d1", SD, ST, [2 / 3] * 3) + _recs("d2", ST, HE, [2 / 3] * 3) + _recs("d3", SD, HE, [0.8] * 5)
    m = dil.conflict_metrics(recs, SCHWARTZ, bootstrap=300, l2=1e-9)
    assert m[f"conflicts/strength/{SD}"]["value"] == pytest.approx(math.log(2), abs=1e-5)
    assert m[f"conflicts/strength/{ST}"]["value"] == pytest.approx(0.0, abs=1e-5)
    assert m[f"conflicts/strength/{HE}"]["value"] == pytest.approx(-math.log(2), abs=1e-5)
    assert "conflicts/strength/power" not in m  # in no dilemma
    assert m[f"conflicts/win_rate/{SD}"]["value"] == pytest.approx(6 / 8)
    assert m[f"conflicts/win_rate/{HE}"]["value"] == pytest.approx(2 / 8)
    assert m[f"conflicts/strength/{SD}"]["n"] == 8
    lo, hi = m[f"conflicts/strength/{SD}"]["ci"]
    assert lo <= m[f"conflicts/strength/{SD}"]["value"] <= hi
    mat = np.array(m["conflicts/win_matrix"]["matrix"])
    i, j, k = (SCHWARTZ.keys.index(v) for v in (SD, ST, HE))
    assert mat[i, j] == pytest.approx(2) and mat[j, i] == pytest.approx(1) and mat[i, k] == pytest.approx(4)


def test_order_and_paraphrase_consistency() -> None:
    # One dilemma: p0 ab picks first, p0 ba picks second (order flip), p1 ab first, p1 ba first.
    recs = _recs("d", SD, ST, [0.9, 0.3, 0.7, 0.6])
    m = dil.conflict_metrics(recs, SCHWARTZ, bootstrap=50)
    assert m["consistency/order"]["value"] == pytest.approx(1 / 2)  # p0 disagrees, p1 agrees
    assert m["consistency/paraphrase"]["value"] == pytest.approx(1 / 2)  # ab agrees, ba disagrees
    assert m["conflicts/first_position_rate"]["value"] == 1.0


def test_builtin_dilemmas_cover_every_pair_with_paraphrases() -> None:
    rows = dil.load_dilemmas(SCHWARTZ)
    assert len(rows) >= 40
    pairs = {frozenset(v for o in r["options"] for v in o["values"]) for r in rows}
    assert pairs == {frozenset(p) for p in itertools.combinations(SCHWARTZ.keys, 2)}
    assert all(r["paraphrase"]["scenario"] != r["scenario"] for r in rows)
    suite = build_suite("values/conflicts")
    assert len(suite.samples) == 4 * len(rows) and len({s.id for s in suite.samples}) == len(suite.samples)
    assert suite.requires == ("loglikelihood",)


def test_conflicts_end_to_end_on_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = build_suite("values/conflicts", bootstrap=100)
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", limit=16, show_progress=False)
    s = res["suites"]["values/conflicts"]
    assert s["n_errors"] == 0
    assert {"consistency/order", "consistency/paraphrase", "conflicts/win_matrix"} <= set(s["metrics"])
    assert any(k.startswith("conflicts/strength/") for k in s["metrics"])
    # The figures can be recomputed from the samples file alone.
    recs = [json.loads(line) for line in (tmp_path / "run/samples/values/conflicts.jsonl").read_text().splitlines()]
    again = dil.conflict_metrics(recs, SCHWARTZ, bootstrap=100)
    assert again["consistency/order"] == {k: v for k, v in s["metrics"]["consistency/order"].items() if k != "declared"}
