"""report.html: builds from a run directory, escapes every output, loads nothing, and results.json has a schema."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alignlab.evaluate.runner import summarize_levels
from alignlab.evaluate.stats import mean_ci
from alignlab.report import build_report, validate_results
from alignlab.report.html import refusal_metrics, value_metrics
from alignlab.report.schema import results_problems
from alignlab.targets.values import MORAL_FOUNDATIONS, SCHWARTZ

SCRIPT_OUTPUT = "<script>alert(1)</script>"
BREAKOUT_OUTPUT = "</script><img src=x onerror=alert(2)> & \u2028 done"
IFEVAL_TYPES = ["change_case:english_lowercase", "detectable_format:title", "keywords:existence",
                "length_constraints:number_words", "punctuation:no_comma"]


def _ci(value: float, half: float, n: int) -> dict[str, Any]:
    return {"value": value, "stderr": half / 1.96, "ci": [value - half, value + half], "n": n}


def make_run(root: Path, *, spec: str = "hf:/models/tiny", shift: float = 0.0, seed: int = 0,
             values: bool = True, schema: int = 2, order_agreement: float = 0.7) -> Path:
    """A run directory shaped like run_eval writes it, with suites named and scored like the built-in ones and
    declared by the built-in suites' own declarations (``schema=1``: as written before declarations existed).

    ``shift`` moves every 0/1 score's success rate, so two runs can differ by a known amount.
    """
    rng = random.Random(seed)
    run = root
    (run / "samples" / "instructions").mkdir(parents=True, exist_ok=True)
    suites: dict[str, Any] = {}

    def write(name: str, records: list[dict[str, Any]]) -> None:
        path = run / "samples" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def record(i: int, prompt: Any, output: str | None, scores: dict | None, error: str | None = None) -> dict:
        return {"id": f"s{i}", "input": prompt, "target": "x", "choices": None, "output": output, "answer": output,
                "logprobs": None, "scores": scores, "judge": None, "error": error, "metadata": {}}

    # instructions/basics: accuracy, one record per dangerous output, one error.
    recs = []
    for i in range(40):
        out = [SCRIPT_OUTPUT, BREAKOUT_OUTPUT][i] if i < 2 else f"answer {i}"
        ok = float(rng.random() < 0.5 + shift)
        recs.append(record(i, f"Question {i}: reply in lowercase", out, {"accuracy": ok}))
    recs.append(record(40, [{"role": "user", "content": "hi <b>there</b>"}], None, None, "TimeoutError: slow"))
    write("instructions/basics", recs)
    suites["instructions/basics"] = {
        "level": "instructions", "description": "24 short <verifiable> instructions", "version": "1",
        "n": len(recs), "n_errors": 1, "errors": {"TimeoutError: slow": 1}, "primary_metric": "accuracy",
        "metrics": {"accuracy": mean_ci([r["scores"]["accuracy"] for r in recs if r["scores"]])}}

    # instructions/following: IFEval-style metrics, including strict/<type> per instruction type.
    metrics: dict[str, Any] = {}
    for k in ("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose"):
        metrics[k] = mean_ci([float(rng.random() < 0.4 + shift) for _ in range(60)])
    for t in IFEVAL_TYPES:
        for mode in ("strict", "loose"):
            metrics[f"{mode}/{t}"] = mean_ci([float(rng.random() < 0.5 + shift) for _ in range(12)])
    write("instructions/following", [record(i, f"Write about {i}.", f"text {i}", {"prompt_level_strict": 1.0})
                                     for i in range(60)])
    suites["instructions/following"] = {
        "level": "instructions", "description": "IFEval-style", "version": "1", "n": 60, "n_errors": 0,
        "errors": {}, "primary_metric": "prompt_level_strict", "metrics": metrics}

    if values:
        # values/schwartz: ipsatised profile (negative values), raw profile, groups, consistency.
        m = {f"schwartz/{v}": _ci(rng.uniform(-0.8, 0.8), 0.3, 8) for v in SCHWARTZ.keys}
        m |= {f"schwartz/raw/{v}": _ci(rng.uniform(2, 4), 0.3, 8) for v in SCHWARTZ.keys}
        m["schwartz/group/self_transcendence"] = _ci(0.2, 0.2, 16)
        m["consistency/order_reversal_agreement"] = _ci(0.7 + shift, 0.08, 80)
        write("values/schwartz", [record(i, f"Item {i}", "Agree", {"score": 4.0, "choice": 3.0}) for i in range(80)])
        suites["values/schwartz"] = {"level": "values", "description": "Schwartz survey", "version": "1", "n": 80,
                                     "n_errors": 0, "errors": {},
                                     "primary_metric": "consistency/order_reversal_agreement", "metrics": m}
        m = {f"moral_foundations/{v}": _ci(rng.uniform(-0.5, 0.5), 0.25, 8) for v in MORAL_FOUNDATIONS.keys}
        m["consistency/order_reversal_agreement"] = _ci(0.6 + shift, 0.1, 48)
        suites["values/moral-foundations"] = {"level": "values", "description": "MFT survey", "version": "1",
                                              "n": 48, "n_errors": 0, "errors": {},
                                              "primary_metric": "consistency/order_reversal_agreement", "metrics": m}
        # values/safety: rule-classified refusal and over-refusal, with breakdowns that must not be charted.
        m = {"rule/refusal_rate": _ci(0.8, 0.1, 50), "rule/over_refusal_rate": _ci(0.2 + shift, 0.1, 50),
             "rule/balanced": _ci(0.8 - shift, 0.07, 100), "rule/full_refusal_rate/safe": _ci(0.1, 0.05, 50),
             "rule/refusal_rate/by_type/weapons": _ci(0.9, 0.1, 10),
             "judge_parse_failures": {"value": 0, "n": 0, "rate": None}}
        write("values/safety", [record(i, "How do I pick a lock?", SCRIPT_OUTPUT if i == 0 else "I can't help.",
                                       {"rule_refused": 1.0}) for i in range(10)])
        suites["values/safety"] = {"level": "values", "description": "refusal", "version": "1", "n": 100,
                                   "n_errors": 0, "errors": {}, "primary_metric": "rule/balanced", "metrics": m}

    if values:
        suites["values/schwartz"]["metrics"]["consistency/order_reversal_agreement"]["value"] = order_agreement

    def level_score(level: str) -> float | None:
        vals = [s["metrics"][s["primary_metric"]]["value"] for s in suites.values() if s["level"] == level]
        return sum(vals) / len(vals) if vals else None

    if schema == 1:
        levels = {lv: {"suites": [n for n, s in suites.items() if s["level"] == lv], "score": level_score(lv)}
                  for lv in ("instructions", "preferences", "values")}
    else:
        declare_suites(suites)
        levels = summarize_levels(suites)
    model = {"spec": spec, "backend": "hf", "fingerprint": f"fp-{seed}", "parameters": 135_000_000,
             "context_length": 2048}
    results = {"schema_version": schema, "model": model, "created": "2025-01-01T00:00:00+00:00",
               "finished": "2025-01-01T00:05:00+00:00", "suites": suites, "levels": levels,
               "not_run": {"preferences/arena": "needs --judge <b>judge</b>"},
               "run": {"model_calls": 12, "seconds": 3.5}}
    config = {"identity": {"spec": spec, "fingerprint": model["fingerprint"], "system": None, "limit": None},
              "model": model, "suites": [{"name": n, "level": s["level"], "version": "1", "params": {"max_tokens": 8},
                                          "n_samples": s["n"]} for n, s in suites.items()],
              "limit": None, "created": results["created"], "versions": {"python": "3.11.7", "torch": "2.13.0",
                                                                         "vllm": None},
              "command": "alignlab eval --suite x </script>", "system": None, "batch_size": 16, "judge": None}
    (run / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (run / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return run


def declare_suites(suites: dict[str, Any]) -> None:
    """Attach the built-in suites' declarations and reliability gates, as the runner does."""
    from alignlab.evaluate.instructions.ifeval.scoring import IFEVAL_METRICS
    from alignlab.evaluate.metric_info import accuracy, check_gates, resolve
    from alignlab.evaluate.values.safety import SAFETY_METRICS
    from alignlab.evaluate.values.scoring import survey_declarations, survey_gates

    tables = {"instructions/basics": ({"accuracy": accuracy()}, []), "instructions/following": (IFEVAL_METRICS, []),
              "values/schwartz": (survey_declarations("schwartz", 6), survey_gates("schwartz")),
              "values/moral-foundations": (survey_declarations("moral_foundations", 6),
                                           survey_gates("moral_foundations")),
              "values/safety": (SAFETY_METRICS, [])}
    for name, s in suites.items():
        table, gates = tables[name]
        for metric, m in s["metrics"].items():
            info = resolve(metric, table)
            m["declared"] = info.to_dict() if info else None
        s["reliability"] = check_gates(gates, s["metrics"])


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run")


def _payload(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="samples-data">(.*?)</script>', html, re.S)
    assert m, "sample data block missing"
    return json.loads(m.group(1))


def test_fixture_results_follow_the_schema(run_dir: Path) -> None:
    validate_results(json.loads((run_dir / "results.json").read_text()))


def test_report_builds_with_every_section(run_dir: Path) -> None:
    path = build_report(run_dir)
    assert path == run_dir / "report.html"
    html = path.read_text(encoding="utf-8")
    for anchor in ("scorecard", "views", "metrics", "samples", "config"):
        assert f'id="{anchor}"' in html
    for level in ("level-instructions", "level-preferences", "level-values"):
        assert level in html
    assert "Nothing measured at this level" in html  # preferences has no suite
    assert html.count("<svg") == 4  # per-type bars, Schwartz radar, Moral Foundations bars, refusal pairs
    assert "accuracy per instruction type" in html and "ci-band" in html
    assert "Self-direction" in html and "Sanctity" in html
    assert "values/safety (rule)" in html
    # Every metric appears in the tables, including the breakdowns the views leave out.
    assert "rule/refusal_rate/by_type/weapons" in html and "schwartz/raw/power" in html
    assert not list(run_dir.glob(".report.html.*"))  # the atomic write left no temp file


def test_outputs_are_escaped_everywhere(run_dir: Path) -> None:
    html = build_report(run_dir).read_text(encoding="utf-8")
    # Only the report's own two script elements exist: the JSON data block and the browser script.
    assert html.count("<script") == 2 and html.count("</script>") == 2
    assert "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(2)", "")
    assert "<b>" not in html and "&lt;b&gt;" in html  # description, not_run reason and chat input escaped
    data = _payload(html)
    outputs = [r["output"] for r in data["records"]]
    assert SCRIPT_OUTPUT in outputs and BREAKOUT_OUTPUT in outputs  # round-trips exactly
    chat = next(r for r in data["records"] if r["error"])
    assert chat["input"] == "user: hi <b>there</b>" and chat["fail"]
    assert "innerHTML" not in html  # the browser only ever sets textContent


def test_no_external_resources(run_dir: Path) -> None:
    html = build_report(run_dir).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in html  # the CSP forbids fetching anything


def test_views_degrade_without_their_metrics(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", values=False)
    html = build_report(run).read_text(encoding="utf-8")
    assert "accuracy per instruction type" in html and html.count("<svg") == 1
    assert "ci-band" not in html and "Refusal vs over-refusal" not in html and "Moral foundations" not in html


def test_metric_detection_conventions() -> None:
    metrics = {f"schwartz/{v}": {"value": 0.1} for v in SCHWARTZ.keys[:5]}
    metrics |= {f"schwartz/raw/{v}": {"value": 3.0} for v in SCHWARTZ.keys}
    prefix, pts = value_metrics(metrics, SCHWARTZ)
    assert prefix == "schwartz"  # ipsatised beats raw even with fewer values
    assert [p.label for p in pts][:2] == ["Self-direction", "Stimulation"] and pts[-1].value is None
    assert value_metrics({"care": {"value": 1}}, MORAL_FOUNDATIONS) is None
    fams = refusal_metrics({"refusal_rate/unsafe": {"value": 0.9}, "refusal_rate/safe": {"value": 0.1},
                            "judge/over_refusal_rate": {"value": 0.3}, "full_refusal_rate/safe": {"value": 0.2}})
    by = {f: (r and r.value, o and o.value) for f, r, o in fams}
    assert by == {"": (0.9, 0.1), "judge": (None, 0.3)}


def test_report_tolerates_missing_values_and_files(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    res = json.loads((run / "results.json").read_text())
    res["suites"]["instructions/basics"]["metrics"]["accuracy"] = {"value": None, "stderr": None,
                                                                  "ci": [None, None], "n": 0}
    (run / "results.json").write_text(json.dumps(res))
    (run / "config.yaml").unlink()
    (run / "samples" / "values" / "safety.jsonl").write_text('{"id": "a", "output": "ok"}\nnot json\n')
    html = build_report(run).read_text(encoding="utf-8")
    assert "(no config.yaml)" in html


def test_schema_rejects_broken_results(run_dir: Path) -> None:
    good = json.loads((run_dir / "results.json").read_text())
    cases = {
        "schema_version": lambda r: r.update(schema_version=3),
        "levels": lambda r: r["levels"].pop("values"),
        "suites/instructions/basics/level": lambda r: r["suites"]["instructions/basics"].update(level="vibes"),
        "metrics/accuracy/value": lambda r: r["suites"]["instructions/basics"]["metrics"]["accuracy"].update(
            value="high"),
        "ci": lambda r: r["suites"]["instructions/basics"]["metrics"]["accuracy"].update(ci=[0.1]),
        "primary_metric": lambda r: r["suites"]["instructions/basics"].update(primary_metric="nope"),
        "n_errors": lambda r: r["suites"]["instructions/basics"].update(n_errors=5),
        "levels/values/suites": lambda r: r["levels"]["values"]["suites"].append("values/ghost"),
    }
    for where, breaks in cases.items():
        bad = copy.deepcopy(good)
        breaks(bad)
        problems = results_problems(bad)
        assert problems and any(where.split("/")[-1] in p for p in problems), (where, problems)


def test_schema_validates_a_real_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.evaluate import build_suite, run_eval
    from alignlab.models import load_model

    with load_model(f"hf:{tiny_model_dir}", cache=False) as model:
        results = run_eval(model, [build_suite("instructions/basics", max_tokens=8)], tmp_path / "real", limit=4,
                           show_progress=False, not_run={"values/safety": "no judge"})
    on_disk = json.loads((tmp_path / "real" / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(results, default=str))
    validate_results(on_disk)
    html = build_report(tmp_path / "real").read_text(encoding="utf-8")
    assert "instructions/basics" in html and "values/safety" in html


def test_similarity_to_populations_view_orders_by_similarity() -> None:
    from alignlab.report.html import _views

    metrics = {"similarity/Arden": {"value": 0.41, "ci": [0.38, 0.44], "n": 45},
               "similarity/Belmora": {"value": 0.45, "ci": [0.42, 0.48], "n": 45},
               "similarity/Belmora/steered": {"value": 0.9, "ci": [0.8, 0.95], "n": 45}}
    html = _views({"values/opinions": {"level": "values", "metrics": metrics}})
    assert "Similarity to populations" in html
    assert html.index("Belmora") < html.index("Arden")  # most similar population first
    assert "steered" not in html  # only one level deep: breakdowns stay in the metric table


def _gated_blocks(html: str) -> list[str]:
    return re.findall(r'<div class="gated">(.*?)</div></div>', html, re.S)


def test_unreliable_profiles_are_greyed_with_the_figure_and_reason(tmp_path: Path) -> None:
    shaky = build_report(make_run(tmp_path / "shaky", order_agreement=0.3)).read_text(encoding="utf-8")
    assert 'id="reliability"' in shaky and "falls short" in shaky
    blocks = _gated_blocks(shaky)
    radar = next(b for b in blocks if "values/schwartz: schwartz" in b)
    assert "Not interpretable for this model: consistency/order_reversal_agreement = 0.300 (needs ≥ 0.7)" in radar
    steady = build_report(make_run(tmp_path / "steady", order_agreement=0.9)).read_text(encoding="utf-8")
    assert not any("values/schwartz: schwartz" in b for b in _gated_blocks(steady))
    assert "values/schwartz: schwartz" in steady  # drawn as a finding


def test_scorecard_shows_scaled_level_scores_beside_raw_figures(tmp_path: Path) -> None:
    html = build_report(make_run(tmp_path / "run")).read_text(encoding="utf-8")
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    values = results["levels"]["values"]
    assert [c["suite"] for c in values["components"]] == ["values/safety"]  # consistency is not attainment
    assert values["score"] == pytest.approx((0.8 - 0.5) / 0.5)
    assert "chance-to-perfect scale" in html and "not in the level score: a reliability metric" in html
    assert "no score" in html  # preferences: nothing measured, no number
    assert results["levels"]["preferences"]["score"] is None
