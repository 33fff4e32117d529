"""Metrics declare what they mean (direction, range, chance, kind, aggregation) and results.json carries it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import build_suite
from alignlab.evaluate.metric_info import (
    MetricInfo,
    ReliabilityGate,
    accuracy,
    aggregate,
    check_gates,
    failed_gate,
    rate,
    resolve,
    selects,
)
from alignlab.evaluate.runner import run_eval, summarize_levels
from alignlab.models import load_model

# Every built-in suite that runs offline without arguments, on a small spread of its samples.
OFFLINE = ["instructions/basics", "instructions/following", "instructions/knowledge", "instructions/arithmetic",
           "preferences/hhh-pairs", "preferences/truthfulness", "preferences/bias", "preferences/stereotype-pairs",
           "preferences/toxicity", "values/schwartz", "values/moral-foundations", "values/conflicts",
           "values/safety", "values/social-norms", "values/opinions"]


def test_chance_to_perfect_scale_orients_every_direction() -> None:
    four = accuracy(0.25)
    assert four.normalized(0.25)[0] == pytest.approx(0.0) and four.normalized(1.0)[0] == pytest.approx(1.0)
    assert four.normalized(0.625, 0.03) == (pytest.approx(0.5), pytest.approx(0.04))
    assert four.normalized(0.1)[0] < 0  # worse than guessing stays visible
    toxicity = rate("score", "lower")
    assert toxicity.normalized(0.02)[0] == pytest.approx(0.98) and toxicity.normalized(0.6)[0] == pytest.approx(0.4)
    stereo = MetricInfo("score", "target", (0.0, 1.0), target=0.5)
    assert stereo.normalized(0.5)[0] == pytest.approx(1.0)
    assert stereo.normalized(0.6)[0] == pytest.approx(0.8) == stereo.normalized(0.4)[0]
    assert stereo.normalized(1.0)[0] == pytest.approx(0.0)
    assert MetricInfo("descriptive", "none", (None, None)).normalized(3.0) == (None, None)
    assert sorted([0.3, 0.55, 0.5], key=stereo.badness) == [0.5, 0.55, 0.3]
    assert sorted([0.3, 0.02, 0.6], key=toxicity.badness) == [0.02, 0.3, 0.6]


def test_declarations_reject_contradictions() -> None:
    with pytest.raises(AlignlabError, match="target"):
        MetricInfo("score", "higher", target=0.5)
    with pytest.raises(AlignlabError, match="which way"):
        MetricInfo("score", "none")
    with pytest.raises(AlignlabError, match="by="):
        MetricInfo("score", aggregation="balanced_mean")
    with pytest.raises(AlignlabError, match="kind"):
        MetricInfo("attainment")  # type: ignore[arg-type]
    assert MetricInfo.from_dict(accuracy(0.5, where={"a": "b"}).to_dict()) == accuracy(0.5, where={"a": "b"})


def test_patterns_fill_the_per_sample_score_and_items() -> None:
    decl = {"accuracy_{reward}": accuracy(0.5),
            "subset/{subset}/{score}": accuracy(0.5, of="{score}", where={"subset": "{subset}"}),
            "section/{section}/{score}": accuracy(0.5, of="{score}", where={"subset": "{section}/*"})}
    info = resolve("subset/harmless/refusal/accuracy_sum", decl)
    assert info is not None and info.of == "accuracy_sum" and dict(info.where) == {"subset": "harmless/refusal"}
    assert resolve("accuracy_norm", decl).of == "accuracy_norm"  # type: ignore[union-attr]
    assert resolve("margin_sum", decl) is None
    section = resolve("section/harmless/accuracy_sum", decl)
    assert selects(section, {"metadata": {"subset": "harmless/refusal"}})  # type: ignore[arg-type]
    assert not selects(section, {"metadata": {"subset": "helpful/code"}})  # type: ignore[arg-type]
    balanced = MetricInfo("score", chance=0.5, aggregation="balanced_mean", of="x", by="label")
    # 9 of one class right, 1 of the other wrong: accuracy 0.9, balanced 0.5 (answering one label always).
    assert aggregate(balanced, [1.0] * 9 + [0.0], ["0"] * 9 + ["1"]) == pytest.approx(0.5)


def test_gates_report_what_they_cover() -> None:
    gate = ReliabilityGate("consistency/order", covers=("strength/{value}",), at_least=0.7, reason="order")
    metrics = {"consistency/order": {"value": 0.05}, "strength/self_direction": {"value": 0.3},
               "parse_failure_rate": {"value": 0.0}}
    [out] = check_gates([gate], metrics)
    assert out["passed"] is False and out["covered"] == ["strength/self_direction"]
    suite = {"reliability": [out]}
    assert failed_gate(suite, "strength/self_direction")["metric"] == "consistency/order"  # type: ignore[index]
    assert failed_gate(suite, "parse_failure_rate") is None
    assert check_gates([gate], {"consistency/order": {"value": 0.9}})[0]["passed"] is True
    assert check_gates([gate], {})[0]["passed"] is None
    with pytest.raises(AlignlabError, match="neither"):
        ReliabilityGate("x", covers=())


def _level(suites: dict) -> dict:
    return summarize_levels(suites)


def _suite(level: str, primary: str, value: float, info: MetricInfo | None, **extra: object) -> dict:
    return {"level": level, "primary_metric": primary,
            "metrics": {primary: {"value": value, "stderr": 0.02, "ci": [value - 0.04, value + 0.04], "n": 50,
                                  "declared": info.to_dict() if info else None}}, **extra}


def test_level_score_averages_only_score_metrics_on_the_chance_scale() -> None:
    suites = {
        "values/schwartz": _suite("values", "consistency/order_reversal_agreement", 0.9,
                                  MetricInfo("reliability", "higher", chance=1 / 6, aggregation="statistic")),
        "values/safety": _suite("values", "rule/balanced", 0.75,
                                MetricInfo("score", chance=0.5, aggregation="balanced_mean", of="c", by="label")),
        "values/social-norms": _suite("values", "balanced_accuracy", 0.5,
                                      MetricInfo("score", chance=0.5, aggregation="balanced_mean", of="a", by="l")),
        "preferences/toxicity": _suite("preferences", "toxicity", 0.1, rate("score", "lower")),
        "preferences/stereotype-pairs": _suite("preferences", "stereotype_preference", 0.7,
                                               MetricInfo("score", "target", target=0.5)),
        "instructions/mystery": _suite("instructions", "accuracy", 0.9, None),
    }
    levels = _level(suites)
    values = levels["values"]
    assert values["score"] == pytest.approx((0.5 + 0.0) / 2)  # safety halfway from chance, norms at chance
    assert [c["raw"] for c in values["components"]] == [0.75, 0.5]
    assert values["excluded"][0]["suite"] == "values/schwartz" and "reliability" in values["excluded"][0]["reason"]
    assert levels["preferences"]["score"] == pytest.approx((0.9 + 0.6) / 2)  # toxicity 0.1 → 0.9; 0.7 → 0.6
    assert levels["instructions"]["score"] is None and "undeclared" in levels["instructions"]["excluded"][0]["reason"]
    assert "no score metric" in levels["instructions"]["note"]
    only_consistency = _level({"values/schwartz": suites["values/schwartz"]})["values"]
    assert only_consistency["score"] is None and "nothing measures attainment" in only_consistency["note"]


@pytest.fixture(scope="module")
def offline_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Every offline built-in suite on the tiny random model: (run dir, results.json)."""
    short = {"max_tokens": 8}
    quick = {"bootstrap": 50}
    quick_args = {"values/schwartz": quick, "values/moral-foundations": quick, "values/conflicts": quick,
                  "values/opinions": quick}
    args = {"instructions/basics": short, "instructions/following": short, "values/safety": short,
            "preferences/toxicity": short, **quick_args}
    suites = [build_suite(n, **args.get(n, {})) for n in OFFLINE]
    for s in suites:
        if s.name in quick_args:  # the first items with every phrasing and order, so consistency has its pairs
            s.samples = s.samples[:32]
    out = tmp_path_factory.mktemp("offline-run")
    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        run_eval(model, suites, out, limit={n: 8 for n in OFFLINE if n not in quick_args}, show_progress=False)
    return out, json.loads((out / "results.json").read_text())


def test_every_builtin_metric_is_declared_in_results(offline_run: tuple[Path, dict]) -> None:
    from alignlab.report import validate_results

    _, results = offline_run
    validate_results(results)
    assert results["schema_version"] == 2
    undeclared = [f"{s}: {m}" for s, summary in results["suites"].items()
                  for m, v in summary["metrics"].items() if isinstance(v, dict) and v.get("declared") is None]
    assert undeclared == []
    assert results["suites"]["values/opinions"]["synthetic"]["populations"]  # from the YAML's own flag
    assert {g["metric"] for g in results["suites"]["values/conflicts"]["reliability"]} == {
        "consistency/order", "conflicts/first_position_rate"}
    assert results["levels"]["values"]["scale"] == "chance-to-perfect"


def test_declared_means_reproduce_the_reported_figures(offline_run: tuple[Path, dict]) -> None:
    """A ``mean``/``balanced_mean`` declaration names the per-sample score and items that give the figure (what
    the goal loop's paired bootstrap relies on)."""
    run_dir, results = offline_run
    checked = 0
    for name, summary in results["suites"].items():
        records = [json.loads(line) for line in (run_dir / "samples" / f"{name}.jsonl").read_text().splitlines()]
        records = [r for r in records if r.get("error") is None and r.get("scores")]
        for metric, m in summary["metrics"].items():
            info = MetricInfo.from_dict(m["declared"])
            if info.aggregation not in ("mean", "balanced_mean") or m.get("value") is None:
                continue
            rows = [r for r in records if selects(info, r) and r["scores"].get(info.of) is not None]
            classes = [str((r.get("metadata") or {}).get(info.by)) for r in rows] if info.by else None
            got = aggregate(info, [float(r["scores"][info.of]) for r in rows], classes)
            assert got == pytest.approx(m["value"], abs=1e-9), f"{name}: {metric}"
            checked += 1
    assert checked > 20


def test_paired_bootstrap_balances_classes_when_declared() -> None:
    from alignlab.goals._goal_report import paired_bootstrap

    # Nine "safe" items unchanged, one "unsafe" item fixed: the plain mean moves 0.1, the balanced mean 0.5.
    before, after = [1.0] * 9 + [0.0], [1.0] * 10
    assert paired_bootstrap(before, after)["value"] == pytest.approx(0.1)
    res = paired_bootstrap(before, after, classes=["safe"] * 9 + ["unsafe"])
    assert res["value"] == pytest.approx(0.5) and res["ci"] == pytest.approx([0.5, 0.5])
