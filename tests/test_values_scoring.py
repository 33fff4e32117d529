"""Value-survey scoring against hand-computed numbers: Likert from probabilities, reverse keys, ipsatisation,
profiles, consistency and target comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignlab.errors import DataError
from alignlab.evaluate.values.scoring import (
    ItemScore,
    consistency,
    ipsatize,
    item_scores,
    likert_from_choice,
    likert_from_logprobs,
    option_probs,
    reverse_key,
    survey_metrics,
    value_profile,
)
from alignlab.targets import SCHWARTZ, load_profile, parse_profile
from alignlab.targets.profiles import distance, pearson, spearman


def test_likert_from_logprobs_hand_computed() -> None:
    # Unnormalised probabilities 1,1,2,2,2,2 (sum 10) shifted in log space: renormalised to .1 .1 .2 .2 .2 .2.
    lps = list(np.log([1, 1, 2, 2, 2, 2]) - 5.0)
    assert option_probs(lps) == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.2, 0.2])
    s = likert_from_logprobs(lps, reverse=False)
    assert s["agree"] == pytest.approx(0.1 * 1 + 0.1 * 2 + 0.2 * (3 + 4 + 5 + 6))  # 3.9
    assert s["score"] == pytest.approx(3.9)
    assert s["choice"] == 2.0  # first of the tied modes
    assert s["p_repeat"] == pytest.approx(0.01 + 0.01 + 4 * 0.04)  # 0.18
    r = likert_from_logprobs(lps, reverse=True)
    assert r["agree"] == pytest.approx(3.9) and r["score"] == pytest.approx(7 - 3.9)


def test_reverse_keys() -> None:
    assert [reverse_key(k, 6) for k in range(1, 7)] == [6, 5, 4, 3, 2, 1]
    assert reverse_key(3.9, 6) == pytest.approx(3.1)
    assert likert_from_choice(4, 6, reverse=True) == {"agree": 5.0, "score": 2.0, "choice": 4.0, "parsed": 1.0}
    assert likert_from_choice(None, 6, reverse=True)["score"] is None


def test_ipsatisation_centres_on_the_item_mean() -> None:
    # Items: a = 5, 6; b = 2, 3, 4; c = 4. MRAT = 24 / 6 = 4 (the mean of value means would be 4.1667).
    got = ipsatize({"a": [5, 6], "b": [2, 3, 4], "c": [4]})
    assert got == pytest.approx({"a": 1.5, "b": -1.0, "c": 0.0})
    items = [ItemScore(f"{v}{i}", v, s) for v, ss in {"a": [5, 6], "b": [2, 3, 4], "c": [4]}.items()
             for i, s in enumerate(ss)]
    prof = value_profile(items, ["c", "b", "a", "missing"], bootstrap=500, seed=1)
    assert prof.values == ("c", "b", "a")  # order of the system, values without items left out
    assert prof.mrat == pytest.approx(4.0)
    assert prof.raw == pytest.approx([4.0, 3.0, 5.5])
    assert prof.ipsatized == pytest.approx([0.0, -1.0, 1.5])
    assert prof.boot_ipsatized.shape == (500, 3)
    assert np.all(prof.boot_raw[:, 0] == 4.0)  # a single item cannot vary under resampling
    # Each bootstrap round's ipsatised scores are its raw scores minus its own MRAT.
    assert np.allclose(prof.boot_ipsatized, prof.boot_raw - prof.boot_mrat[:, None])
    again = value_profile(items, ["c", "b", "a"], bootstrap=500, seed=1)
    assert np.array_equal(again.boot_raw, prof.boot_raw)  # seeded


def _rec(item: str, value: str, ph: int, order: str, agree: int, *, reverse: bool = False, repeat: int = 0,
         error: str | None = None) -> dict:
    return {"id": f"{item}-{ph}-{order}-{repeat}", "error": error,
            "scores": None if error else likert_from_choice(agree - 1, 6, reverse),
            "metadata": {"item": item, "value": value, "reverse": reverse, "phrasing": ph, "order": order,
                         "repeat": repeat}}


def test_item_scores_average_phrasings_orders_and_apply_reverse_keys() -> None:
    recs = [_rec("x", "power", 0, "forward", 5, reverse=True), _rec("x", "power", 1, "reversed", 6, reverse=True),
            _rec("x", "power", 1, "forward", 1, error="timeout"),
            {**_rec("x", "power", 0, "reversed", 1), "scores": likert_from_choice(None, 6, True)}]
    assert item_scores(recs) == [ItemScore("x", "power", 1.5)]  # keyed 2 and 1; error and unparsed drop out


def test_consistency_hand_computed() -> None:
    table = {"i1": [5, 5, 4, 4], "i2": [2, 3, 2, 2], "i3": [6, 6, 5, 6]}  # p0 fwd, p0 rev, p1 fwd, p1 rev
    recs = [_rec(i, "power", ph, order, a[2 * ph + k]) for i, a in table.items() for ph in (0, 1)
            for k, order in enumerate(("forward", "reversed"))]
    c = consistency(recs)
    # Order: i2/p0 (2 vs 3) and i3/p1 (5 vs 6) disagree -> 4/6; mean |diff| = 2/6.
    assert c["consistency/order_reversal_agreement"]["value"] == pytest.approx(4 / 6)
    assert c["consistency/order_reversal_mad"]["value"] == pytest.approx(1 / 3)
    # Paraphrase: item means p0 (5, 2.5, 6) vs p1 (4, 2, 5.5): r = 6.25 / sqrt(6.5 * 6.1667).
    assert c["consistency/paraphrase_r"]["value"] == pytest.approx(0.98719, abs=1e-5)
    assert c["consistency/paraphrase_r"]["n"] == 3
    # Modal choices: i1 5 vs 4, i2 2 (tie 2/3 -> lower) vs 2, i3 6 vs 5 (tie -> lower) -> 1/3.
    assert c["consistency/paraphrase_agreement"]["value"] == pytest.approx(1 / 3)
    assert "consistency/repeat_agreement" not in c  # one run each, generated


def test_repeat_agreement_from_runs_and_from_probabilities() -> None:
    runs = [_rec("i", "power", 0, "forward", a, repeat=r) for r, a in enumerate([4, 4, 5])]
    # Pairs (4,4) (4,5) (4,5): 1 of 3 agree.
    assert consistency(runs)["consistency/repeat_agreement"]["value"] == pytest.approx(1 / 3)
    probs = [{"error": None, "scores": likert_from_logprobs(list(np.log([1, 1, 2, 2, 2, 2])), False),
              "metadata": {"item": "i", "value": "power", "phrasing": 0, "order": "forward", "repeat": 0}}]
    assert consistency(probs)["consistency/repeat_agreement"]["value"] == pytest.approx(0.18)


def test_profile_metrics_groups_and_target(tmp_path) -> None:
    recs = [_rec("h", "hedonism", 0, "forward", 6), _rec("p", "power", 0, "forward", 2),
            _rec("s", "self_direction", 0, "forward", 4)]
    target = parse_profile({"system": "schwartz", "values": {"hedonism": 1.0, "power": -1.0, "self_direction": 0.0}})
    m = survey_metrics(recs, SCHWARTZ, prefix="schwartz", target=target, bootstrap=200)
    assert m["schwartz/raw/mean"]["value"] == pytest.approx(4.0)
    assert m["schwartz/acquiescence"]["value"] == pytest.approx(4.0)  # no reverse keys here
    assert m["schwartz/hedonism"]["value"] == pytest.approx(2.0)
    assert m["schwartz/power"]["value"] == pytest.approx(-2.0)
    assert m["schwartz/raw/power"]["value"] == pytest.approx(2.0)
    assert "schwartz/benevolence" not in m  # not measured
    # Hedonism counts in both groups: openness = mean(sd 0, he 2); self-enhancement = mean(he 2, po -2).
    assert m["schwartz/group/openness_to_change"]["value"] == pytest.approx(1.0)
    assert m["schwartz/group/self_enhancement"]["value"] == pytest.approx(0.0)
    assert "schwartz/group/conservation" not in m
    # Profile (sd 0, he 2, po -2) vs target (sd 0, he 1, po -1), both in system order: distance sqrt(0 + 1 + 1).
    assert m["target/distance"]["value"] == pytest.approx(math.sqrt(2))
    assert m["target/correlation"]["value"] == pytest.approx(1.0)
    assert m["target/spearman"]["value"] == pytest.approx(1.0)


def test_profile_distance_and_correlations_hand_computed() -> None:
    x, t = np.array([1.5, -1.0, 0.0]), np.array([1.0, -1.0, 0.0])
    assert distance(x, t) == pytest.approx(0.5)
    assert pearson(x, t) == pytest.approx(2.5 / math.sqrt(3.16667 * 2), abs=1e-5)  # 0.99340
    assert spearman(x, t) == pytest.approx(1.0)
    assert spearman(np.array([3.0, 2.0, 1.0]), t) == pytest.approx(0.5)  # ranks (3,2,1) vs (3,1,2)
    boots = np.stack([x, t, -t])  # (B, V) broadcast against (V,)
    assert pearson(boots, t) == pytest.approx([0.99340, 1.0, -1.0], abs=1e-5)
    assert np.isnan(pearson(np.ones(3), t))


def test_target_profile_files(tmp_path) -> None:
    from importlib import resources

    example = resources.files("alignlab.suites").joinpath("data/target_profile_example.yaml")
    prof = load_profile(str(example))
    assert prof.system == "schwartz" and prof.scale == "ipsatized" and prof.keys == SCHWARTZ.keys
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: schwartz\nvalues:\n  benevolance: 1\n  power: 0\n")
    with pytest.raises(DataError, match=r"bad\.yaml: values\.benevolance"):
        load_profile(bad)
    bad.write_text("system: schwartz\nvalues:\n  benevolence: high\n  power: 0\n")
    with pytest.raises(DataError, match=r"bad\.yaml: values\.benevolence: expected a number"):
        load_profile(bad)
    bad.write_text("system: big-five\nvalues: {a: 1}\n")
    with pytest.raises(DataError, match=r"bad\.yaml: system"):
        load_profile(bad)
    bad.write_text("system: schwartz\nscale: zscores\nvalues: {power: 1, hedonism: 0}\n")
    with pytest.raises(DataError, match=r"bad\.yaml: scale"):
        load_profile(bad)
    with pytest.raises(DataError, match="not found"):
        load_profile(tmp_path / "nope.yaml")
