"""Sampling n answers per prompt and pass@k: the estimator, the suite arguments, and runs on real backends."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest

import alignlab.evaluate.instructions.ifeval.suite  # noqa: F401 - registers the suites
from alignlab.errors import AlignlabError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.sampling import ks_for, pass_at_k
from alignlab.models import GenerateRequest, ResponseCache, load_model


def _brute_force(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (the first c correct) holding at least one correct sample."""
    subsets = list(combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


def test_pass_at_k_equals_enumeration_over_every_subset() -> None:
    for n in range(1, 9):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(_brute_force(n, c, k), abs=1e-12), (n, c, k)
    assert pass_at_k(200, 3, 1) == pytest.approx(3 / 200)  # pass@1 is the share correct
    assert 0.0 < pass_at_k(1000, 1, 100) < 1.0  # no overflow where C(1000, 100) would be astronomically large
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_reported_ks() -> None:
    assert ks_for(1) == [1] and ks_for(4) == [1, 2, 4] and ks_for(10) == [1, 2, 4, 8, 10]


def test_sampling_arguments_are_checked_before_the_run() -> None:
    with pytest.raises(AlignlabError, match="temperature > 0"):
        build_suite("instructions/following", n=4)
    with pytest.raises(AlignlabError, match="no per-sample correctness"):
        build_suite("values/safety", n=2, temperature=0.7)
    suite = build_suite("instructions/following", n=4, temperature=0.7, max_tokens=8)
    assert suite.params == {"n": 4, "temperature": 0.7, "max_tokens": 8}
    info = suite.metric_info["pass@4/prompt_level_strict"]
    assert info.kind == "score" and info.direction == "higher" and info.aggregation == "mean"
    assert info.chance is None  # IFEval's prompt-level pass has no chance level


def test_n4_on_the_tiny_model_gives_distinct_cached_samples_and_pass1_le_pass4(tiny_model_dir: Path,
                                                                               tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    args = {"n": 4, "temperature": 1.0, "max_tokens": 8}
    with load_model(f"hf:{tiny_model_dir}", cache=cache) as model:
        res = run_eval(model, [build_suite("instructions/following", **args)], tmp_path / "run", limit=6,
                       show_progress=False)
        assert model.model_calls == 6 * 4
    assert cache.info()["entries"] == 6 * 4  # one cached answer per (prompt, sample index)
    s = res["suites"]["instructions/following"]
    assert s["n"] == 6 and s["n_errors"] == 0
    m = s["metrics"]
    for mode in ("strict", "loose"):
        p1, p2, p4 = (m[f"pass@{k}/prompt_level_{mode}"]["value"] for k in (1, 2, 4))
        assert 0.0 <= p1 <= p2 <= p4 <= 1.0
        assert m[f"pass@4/prompt_level_{mode}"]["n"] == 6
    rows = [json.loads(x) for x in (tmp_path / "run" / "samples" / "instructions" / "following.jsonl")
            .read_text().splitlines()]
    for r in rows:
        texts = [x["text"] for x in r["extra"]["samples"]]
        assert len(texts) == 4 and r["output"] == texts[0]
        c = r["scores"]["prompt_level_strict/correct"]
        assert r["scores"]["pass@1/prompt_level_strict"] == pytest.approx(c / 4)
    # Four seeds at temperature 1 on a random model: the samples differ (one answer repeated would not).
    assert any(len({x["text"] for x in r["extra"]["samples"]}) > 1 for r in rows)

    # A second run reads all 24 answers back from the cache, sample by sample.
    with load_model(f"hf:{tiny_model_dir}", cache=cache) as model:
        again = run_eval(model, [build_suite("instructions/following", **args)], tmp_path / "run2", limit=6,
                         show_progress=False)
        assert model.model_calls == 0
    assert again["suites"]["instructions/following"]["metrics"]["pass@4/prompt_level_strict"] == \
        m["pass@4/prompt_level_strict"]


def _seeded(spec: str, **options: object) -> tuple[list[str], list[str]]:
    with load_model(spec, cache=False, **options) as model:
        reqs = [GenerateRequest("Name a colour.", max_tokens=12, temperature=1.0, seed=s) for s in (0, 1, 2, 3)]
        first = [r.text for r in model.generate(reqs)]
        second = [r.text for r in model.generate(reqs)]
    return first, second


def test_hf_backend_samples_differ_by_seed_and_repeat_for_a_seed(tiny_model_dir: Path) -> None:
    first, second = _seeded(f"hf:{tiny_model_dir}")
    assert first == second and len(set(first)) > 1


@pytest.mark.slow
def test_llamacpp_backend_samples_differ_by_seed_and_repeat_for_a_seed() -> None:
    first, second = _seeded("default")
    assert first == second and len(set(first)) > 1


def test_yaml_tasks_keep_their_temperature_unless_n_is_asked_for() -> None:
    plain = build_suite("instructions/arithmetic", temperature=0.5)
    assert not any(k.startswith("pass@") for k in plain.metric_info)
    sampled = build_suite("instructions/arithmetic", n=2, temperature=0.5)
    assert set(sampled.metric_info) >= {"pass@1/accuracy", "pass@2/accuracy"}
    with pytest.raises(AlignlabError, match="no per-sample correctness"):
        build_suite("instructions/knowledge", n=2, temperature=0.5)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1].parent / "shared/data/ifbench/IFBench_test.jsonl")
                    .exists(), reason="the IFBench file is not in ../shared/data")
def test_ifbench_takes_n_and_reports_pass_at_k(tmp_path: Path) -> None:
    import alignlab.evaluate.instructions.ifbench.suite  # noqa: F401 - registers the suite

    path = Path(__file__).resolve().parents[1].parent / "shared/data/ifbench/IFBench_test.jsonl"
    suite = build_suite("instructions/ifbench", path=str(path), n=4, temperature=0.7)
    assert {"pass@1/prompt_level_loose", "pass@4/prompt_level_strict"} <= set(suite.metric_info)
    # A prompt with an unsupported constraint has no pass@k (None), never a pass or a fail.
    with load_model("scripted:Yes.", cache=False) as model:
        res = run_eval(model, [suite], tmp_path / "run", show_progress=False)
    m = res["suites"]["instructions/ifbench"]["metrics"]
    n_scored = m["pass@4/prompt_level_strict"]["n"]
    assert 0 < n_scored < 300 and m["pass@1/prompt_level_strict"]["value"] <= m["pass@4/prompt_level_strict"]["value"]
