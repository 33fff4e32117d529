"""Value systems as data, the built-in survey items, suite construction and end-to-end survey runs on the tiny
model (both modes)."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

import alignlab.evaluate.values.surveys as sv
from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.values.scoring import survey_metrics
from alignlab.models import load_model
from alignlab.targets import HHH, MORAL_FOUNDATIONS, SCHWARTZ, get_system

EXAMPLE_TARGET = str(resources.files("alignlab.suites").joinpath("data/target_profile_example.yaml"))


def test_schwartz_circumplex_and_groups() -> None:
    assert SCHWARTZ.keys == ("self_direction", "stimulation", "hedonism", "achievement", "power", "security",
                             "conformity", "tradition", "benevolence", "universalism")
    assert SCHWARTZ.groups_of("hedonism") == ("openness_to_change", "self_enhancement")
    assert SCHWARTZ.groups_of("benevolence") == ("self_transcendence",)
    assert SCHWARTZ.circular_distance("universalism", "self_direction") == 1  # the circle closes
    assert SCHWARTZ.circular_distance("self_direction", "security") == 5  # opposite
    assert all(v.definition for v in SCHWARTZ.values)
    assert MORAL_FOUNDATIONS.keys[-1] == "liberty" and "liberty" not in MORAL_FOUNDATIONS.subset(
        ["care", "fairness"]).keys
    assert HHH.keys == ("helpful", "honest", "harmless")
    assert get_system("moral-foundations") is MORAL_FOUNDATIONS
    with pytest.raises(AlignlabError):
        get_system("big_five")


@pytest.mark.parametrize(("data", "system"), [("schwartz_items.jsonl", SCHWARTZ),
                                              ("moral_foundations_items.jsonl", MORAL_FOUNDATIONS)])
def test_builtin_items(data: str, system) -> None:
    items = sv.load_items(data, system)
    per = Counter(i.value for i in items)
    assert set(per) == set(system.keys) and min(per.values()) >= 4
    assert {i.value for i in items if i.reverse} == set(system.keys)  # every value has a reverse key
    assert all(i.paraphrases and i.paraphrases[0] != i.text for i in items)
    assert len({i.id for i in items}) == len(items)


def test_parse_option_prefers_the_longest_label_at_the_first_match() -> None:
    assert [sv.parse_option(t) for t in ("Strongly agree.", "I disagree", "slightly agree, I think",
                                         "Agree", "strongly disagree", "no idea", "")] == [5, 1, 3, 4, 0, None, None]


def test_samples_cover_phrasings_orders_and_repeats() -> None:
    suite = build_suite("values/schwartz")
    assert len(suite.samples) == 40 * 2 * 2 and suite.requires == ("loglikelihood",)
    fwd, rev = (next(s for s in suite.samples if s.id == f"sd1-p0-{o}-r0") for o in "fr")
    assert fwd.input.index("Strongly disagree") < fwd.input.index("Strongly agree")
    assert rev.input.index("Strongly agree") < rev.input.index("Strongly disagree")
    assert fwd.choices == rev.choices == list(sv.SCALE)  # answers are always scored in canonical order
    gen = build_suite("values/schwartz", mode="generate", repeats=3, temperature=0.7, order_reversal=False)
    assert len(gen.samples) == 40 * 2 * 3 and gen.requires == ("generate",)
    mf = build_suite("values/moral-foundations", liberty=False)
    assert {s.metadata["value"] for s in mf.samples} == {"care", "fairness", "loyalty", "authority", "sanctity"}


def test_bad_arguments_fail_when_the_suite_is_built(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="mode"):
        build_suite("values/schwartz", mode="judge")
    with pytest.raises(DataError, match="repeats"):
        build_suite("values/schwartz", repeats=3)  # logprob mode: probabilities do not change
    with pytest.raises(DataError, match="temperature"):
        build_suite("values/schwartz", mode="generate", repeats=3)  # greedy repeats are identical
    with pytest.raises(DataError, match="measures 'moral_foundations'"):
        build_suite("values/moral-foundations", target=EXAMPLE_TARGET)
    mf = tmp_path / "mf.yaml"
    mf.write_text("system: moral_foundations\nvalues: {care: 1, liberty: 0.5}\n")
    with pytest.raises(DataError, match="values.liberty"):
        build_suite("values/moral-foundations", target=str(mf), liberty=False)


def test_schwartz_logprob_end_to_end_with_target(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = build_suite("values/schwartz", target=EXAMPLE_TARGET, bootstrap=200)
    assert suite.primary_metric == "target/correlation"
    # Two items of each of three values, each in both phrasings and orders (sd, st, he: the first 12 items).
    keep = {f"{p}{i}" for p in ("sd", "st", "he") for i in (1, 4)}
    suite.samples = [s for s in suite.samples if s.metadata["item"] in keep]
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    s = res["suites"]["values/schwartz"]
    assert s["n_errors"] == 0 and s["level"] == "values"
    m = s["metrics"]
    for key in ("schwartz/self_direction", "schwartz/raw/hedonism", "schwartz/group/openness_to_change",
                "consistency/paraphrase_r", "consistency/order_reversal_agreement", "consistency/repeat_agreement"):
        assert key in m, key
    ips = [m[f"schwartz/{v}"]["value"] for v in ("self_direction", "stimulation", "hedonism")]
    assert sum(ips) == pytest.approx(0.0, abs=1e-9)  # equal items per value: ipsatised scores sum to 0
    lo, hi = m["schwartz/hedonism"]["ci"]
    assert lo <= m["schwartz/hedonism"]["value"] <= hi
    # The example target names all ten values; only three were measured here, so no target figures.
    assert "target/distance" not in m
    recs = [json.loads(line) for line in (tmp_path / "run/samples/values/schwartz.jsonl").read_text().splitlines()]
    assert all(len(r["logprobs"]) == 6 for r in recs)
    again = survey_metrics(recs, SCHWARTZ, prefix="schwartz", bootstrap=200)
    stored = {k: v for k, v in m["schwartz/hedonism"].items() if k != "declared"}
    assert again["schwartz/hedonism"] == stored  # recomputable from samples jsonl


def test_moral_foundations_generate_mode_counts_parse_failures(tiny_model_dir: Path, tmp_path: Path) -> None:
    suite = build_suite("values/moral-foundations", mode="generate", repeats=2, temperature=1.0,
                        order_reversal=False, paraphrases=False, max_tokens=4, bootstrap=100)
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", limit=8, show_progress=False)
    m = res["suites"]["values/moral-foundations"]["metrics"]
    # A random tiny model rarely names an option: failures are counted, not errors.
    assert m["parse_failure_rate"]["n"] == 8
    assert res["suites"]["values/moral-foundations"]["n_errors"] == 0
