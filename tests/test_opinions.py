"""Opinion surveys: distributions from log-probabilities, similarity against hand-computed values, the bootstrap,
position bias, steerability, cultural dimensions and the suites end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from alignlab.data import iter_records
from alignlab.errors import DataError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.values.cultural import compare_profiles, load_population_dimensions, pole_score
from alignlab.evaluate.values.opinions import (
    SYNTHETIC_FILE,
    bootstrap_mean,
    builtin_items,
    js_distance,
    opinion_metrics,
    parse_letter,
    permutation,
    similarity,
)
from alignlab.models import Model
from alignlab.testing import ScriptedAPI

FIXTURE = Path(__file__).parent / "fixtures_opinions" / "global_opinions.csv"
SYNTHETIC = Path(__file__).parent.parent / "src" / "alignlab" / "suites" / "data" / SYNTHETIC_FILE


def test_js_distance_hand_computed() -> None:
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert js_distance([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0, abs=1e-12)
    # p = (½, ½), q = (1, 0): m = (¾, ¼); KL(p‖m) = ½·log2(⅔) + ½·log2(2) = 0.20752; KL(q‖m) = log2(4/3) = 0.41504
    # JSD = 0.311278, distance = √JSD = 0.557923
    assert js_distance([0.5, 0.5], [1, 0]) == pytest.approx(0.557923, abs=1e-6)
    assert similarity([0.5, 0.5], [1, 0]) == pytest.approx(1 - 0.557923, abs=1e-6)
    assert js_distance([1, 1], [2, 0]) == pytest.approx(0.557923, abs=1e-6)  # shares are renormalised
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, q = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
        assert js_distance(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-9)


def test_bootstrap_is_seeded_and_matches_a_hand_resample() -> None:
    vals = [0.2, 0.4, 0.9, 0.5]
    m = bootstrap_mean(vals, bootstrap=500, seed=3)
    assert m["value"] == pytest.approx(0.5) and m["n"] == 4
    boot = np.asarray(vals)[np.random.default_rng(3).integers(0, 4, (500, 4))].mean(1)
    assert m["ci"] == pytest.approx(list(np.quantile(boot, [0.025, 0.975])))
    assert m["stderr"] == pytest.approx(boot.std(ddof=1))
    assert bootstrap_mean(vals, bootstrap=500, seed=3) == m
    assert bootstrap_mean([0.7] * 5, bootstrap=100)["ci"] == [pytest.approx(0.7), pytest.approx(0.7)]
    assert bootstrap_mean([], bootstrap=10)["value"] is None


def LetterAPI(table: dict[str, float]) -> ScriptedAPI:  # noqa: N802
    """Scores option letters from a fixed table, whatever the question: a model with a pure position preference.
    Replies cycle A, "(B)", "no idea" with the seed: one parse failure in every three."""
    replies = ["A", "I pick (B).", "no idea"]
    return ScriptedAPI(reply_to=lambda r: replies[r.seed % 3], logprob=table, is_chat=False,
                       spec="letters-" + ",".join(f"{k}{v}" for k, v in sorted(table.items())))


def _run(tmp_path: Path, table: dict[str, float], **params: object) -> tuple[dict, list[dict]]:
    import json

    suite = build_suite("values/globalopinionqa", path=str(FIXTURE), bootstrap=200, **params)
    res = run_eval(Model(LetterAPI(table)), [suite], tmp_path, show_progress=False)
    recs = [json.loads(x) for x in (tmp_path / "samples" / "values" / "globalopinionqa.jsonl").read_text().splitlines()]
    return res["suites"]["values/globalopinionqa"]["metrics"], recs


def test_distribution_from_logprobs_renormalised_and_mapped_back(tmp_path: Path) -> None:
    # Unnormalised: P(A) : P(B) : P(C) : P(D) = 0.1 : 0.1 : 0.2 : 0.1 (the rest of the mass is on other text).
    table = {"A": math.log(0.1), "B": math.log(0.1), "C": math.log(0.2), "D": math.log(0.1)}
    m, recs = _run(tmp_path, table, orders="original+reversed")
    by = {r["id"]: r for r in recs}
    q0 = by["q00000-o"]["extra"]["distribution"]  # 3 options, original order: A B C
    assert q0 == pytest.approx([0.25, 0.25, 0.5])
    assert by["q00000-r"]["extra"]["distribution"] == pytest.approx([0.5, 0.25, 0.25])  # C is option 0 reversed
    assert by["q00000-r"]["extra"]["presented"] == pytest.approx([0.25, 0.25, 0.5])
    assert by["q00000-o"]["answer"] == 2 and by["q00000-r"]["answer"] == 0
    assert by["q00000-o"]["metadata"]["selections"]["Japan"] == [0.2, 0.5, 0.3]
    assert "selections" not in by["q00000-r"]["metadata"]
    # Position bias: item 0 flips (C → option 2 vs option 0), item 1 (4 options) flips, item 2 (2 options: 0.5/0.5)
    # does not — both orders give a tie, argmax 0.
    assert m["position_bias/argmax_flip_rate"]["value"] == pytest.approx(2 / 3)
    js0 = js_distance([0.25, 0.25, 0.5], [0.5, 0.25, 0.25])
    js1 = js_distance([0.2, 0.2, 0.4, 0.2], [0.2, 0.4, 0.2, 0.2])
    assert m["position_bias/js_distance"]["value"] == pytest.approx((js0 + js1 + 0.0) / 3)


def test_similarity_against_hand_computed_values(tmp_path: Path) -> None:
    table = {"A": math.log(0.1), "B": math.log(0.1), "C": math.log(0.2), "D": math.log(0.1)}
    m, _ = _run(tmp_path, table, orders="original+reversed")
    # Order-averaged model distributions: item 0 (.375, .25, .375); item 1 (.2, .3, .3, .2); item 2 (.5, .5).
    d0, d1, d2 = [0.375, 0.25, 0.375], [0.2, 0.3, 0.3, 0.2], [0.5, 0.5]
    brazil = np.mean([1 - jensenshannon(d0, [0.3, 0.6, 0.1], base=2), 1 - jensenshannon(d1, [0.9, 0.08, 0.02, 0.0],
                                                                                         base=2),
                      1 - jensenshannon(d2, [0.4, 0.6], base=2)])
    japan = np.mean([1 - jensenshannon(d0, [0.2, 0.5, 0.3], base=2), 1 - jensenshannon(d2, [0.25, 0.75], base=2)])
    assert m["similarity/Brazil"]["value"] == pytest.approx(brazil, abs=1e-9)
    assert m["similarity/Brazil"]["n"] == 3
    assert m["similarity/Japan"]["value"] == pytest.approx(japan, abs=1e-9) and m["similarity/Japan"]["n"] == 2
    lo, hi = m["similarity/Brazil"]["ci"]
    assert lo <= brazil <= hi
    ranks = {p: m[f"rank/{p}"]["value"] for p in ("Brazil", "Germany", "Japan")}
    order = sorted(ranks, key=lambda p: -m[f"similarity/{p}"]["value"])
    assert [ranks[p] for p in order] == [1, 2, 3]


def test_steerability_and_parse_failures_in_generate_mode(tmp_path: Path) -> None:
    m, recs = _run(tmp_path, {}, mode="generate", samples=3, orders="original", steer="Japan")
    steered = [r for r in recs if r["metadata"]["persona"] == "Japan"]
    assert len(steered) == 3 and "How would someone from Japan" in steered[0]["input"]
    # seeds 0, 1, 2 → "A", "(B)", unparseable: distribution ½ A, ½ B; one failure per three samples
    assert recs[0]["extra"]["distribution"][:2] == [0.5, 0.5] and recs[0]["extra"]["parse_failures"] == 1
    assert m["parse/failure_rate"]["value"] == pytest.approx(1 / 3)
    # The persona does not change this model's answers: steerability 0 on each item.
    assert m["steerability/Japan"]["value"] == pytest.approx(0.0) and m["steerability/Japan"]["n"] == 2


def test_steerability_metric_hand_computed() -> None:
    items = {it.id: it for it in _fixture_items()}
    recs = [
        {"metadata": {"item": "q00002", "order": "original", "persona": None},
         "extra": {"distribution": [0.5, 0.5], "presented": [0.5, 0.5]}, "error": None},
        {"metadata": {"item": "q00002", "order": "original", "persona": "Japan"},
         "extra": {"distribution": [0.25, 0.75], "presented": [0.25, 0.75]}, "error": None},
    ]
    m = opinion_metrics(recs, items, steer=["Japan"], bootstrap=50)
    assert m["steer/Japan/similarity"]["value"] == pytest.approx(1.0)
    gain = 1 - (1 - jensenshannon([0.5, 0.5], [0.25, 0.75], base=2))
    assert m["steerability/Japan"]["value"] == pytest.approx(gain)


def _fixture_items() -> list:
    items = list(iter_records(FIXTURE, "globalopinionqa"))
    for n, it in enumerate(items):
        it.id = f"q{n:05d}"
    return items


def test_parse_letter_and_permutations() -> None:
    opts = ["Yes", "No", "Not sure"]
    assert parse_letter("B", opts) == 1 and parse_letter("(C) Not sure", opts) == 2
    assert parse_letter("A.", opts) == 0 and parse_letter("I would say no", opts) == 1
    assert parse_letter("Absolutely", opts) is None and parse_letter("", opts) is None
    assert permutation("x", 4, "reversed") == [3, 2, 1, 0]
    shuffled = permutation("x", 6, "shuffled")
    assert sorted(shuffled) == list(range(6)) and permutation("x", 6, "shuffled") == shuffled


def test_cultural_profile_recovers_synthetic_dimensions() -> None:
    assert pole_score([1, 0, 0]) == 0 and pole_score([0, 0, 1]) == 100 and pole_score([0, 1, 0]) == 50
    assert pole_score([0.5, 0.5], reverse=True) == 50 and pole_score([1, 0], reverse=True) == 100
    cmp = compare_profiles({"a": 10, "b": 50, "c": 90}, {"a": 20, "b": 40, "c": 100})
    assert cmp["distance"]["value"] == pytest.approx(10.0) and cmp["correlation"]["value"] == pytest.approx(
        np.corrcoef([10, 50, 90], [20, 40, 100])[0, 1])
    # Scoring a synthetic population's own answers as if they were the model's recovers its table scores.
    dims = load_population_dimensions(SYNTHETIC)
    items = {it.id: it for it in builtin_items()}
    for pop in dims:
        recs = [{"metadata": {"item": i, "order": "original", "persona": None},
                 "extra": {"distribution": it.selections[pop], "presented": it.selections[pop]}, "error": None}
                for i, it in items.items()]
        m = opinion_metrics(recs, items, dimensions=dims, bootstrap=50)
        assert m[f"culture/{pop}/correlation"]["value"] > 0.9, pop
        assert m[f"rank/{pop}"]["value"] == 1 and m[f"similarity/{pop}"]["value"] == pytest.approx(1.0)


def test_build_errors_before_any_model_call() -> None:
    with pytest.raises(DataError, match="steer population 'Atlantis'"):
        build_suite("values/globalopinionqa", path=str(FIXTURE), steer="Atlantis")
    with pytest.raises(DataError, match="orders"):
        build_suite("values/opinions", orders="sideways")
    with pytest.raises(DataError, match="temperature"):
        build_suite("values/opinions", mode="generate", temperature=0)


def test_builtin_suite_on_the_tiny_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alignlab.models import load_model

    suite = build_suite("values/opinions", limit=3, steer="Arden", orders="original+reversed+shuffled",
                        bootstrap=100)
    assert len(suite.samples) == 3 * 3 * 2
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path, show_progress=False)
    s = res["suites"]["values/opinions"]
    assert s["n_errors"] == 0
    m = s["metrics"]
    assert {f"similarity/{p}" for p in load_population_dimensions(SYNTHETIC)} <= set(m)
    for key in ("position_bias/js_distance", "position_bias/shuffled_argmax_flip_rate", "steerability/Arden",
                "dimension/pdi", "culture/Arden/distance"):
        assert m[key]["value"] is not None, key


def test_globalopinionqa_without_a_path_says_where_it_looked() -> None:
    from alignlab.errors import AlignlabError

    # No data directory, and the hub is offline in tests: one line names both places.
    with pytest.raises(AlignlabError, match=r"global_opinions\.csv in .*hf://Anthropic/llm_global_opinions@train"):
        build_suite("values/globalopinionqa")
