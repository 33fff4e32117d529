"""The report's opinion-item view, on run directories written by the real runner (a letter-scoring backend)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from alignlab.data.adapters.opinions import OpinionItem
from alignlab.evaluate import run_eval
from alignlab.evaluate.values.opinions import opinion_suite, similarity
from alignlab.models import Model
from alignlab.report import build_report
from alignlab.report._opinions import section
from alignlab.testing import ScriptedAPI

SCRIPT_QUESTION = "<script>alert('q')</script> Should <b>this</b> be shown?"


def LetterAPI(table: dict[str, float]) -> ScriptedAPI:  # noqa: N802
    """Scores option letters from a fixed table whatever the question: answers depend on position only."""
    return ScriptedAPI(logprob=table, is_chat=False,
                       spec="letters-" + ",".join(f"{k}{v}" for k, v in sorted(table.items())))


def _run(root: Path, items: list[OpinionItem], orders: str = "original+reversed") -> Path:
    suite = opinion_suite(name="values/opinions", items=items, dimensions=None, mode="logprob", orders=orders,
                          steer=None, samples=1, temperature=1.0, max_tokens=8, bootstrap=50, seed=0,
                          description="test survey")
    table = {"A": math.log(0.5), "B": math.log(0.3), "C": math.log(0.15), "D": math.log(0.05)}
    run_eval(Model(LetterAPI(table)), [suite], root, show_progress=False)
    return root


def _item(i: int, selections: dict[str, list[float]], question: str | None = None, k: int = 3) -> OpinionItem:
    opts = ["Agree", "Neither", "Disagree", "Refused"][:k]
    return OpinionItem(id=f"it{i}", question=question or f"Question number {i}?", options=opts,
                       selections=selections)


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples" / "values" / "opinions.jsonl").read_text().splitlines()]


def _stored_mean(run: Path, item: str) -> list[float]:
    """The model's distribution for ``item`` as the runner stored it: the mean over the orders asked."""
    dists = [r["extra"]["distribution"] for r in _records(run) if r["metadata"]["item"] == item]
    return [sum(col) / len(dists) for col in zip(*dists, strict=True)]


def _figure(html: str, item: str) -> str:
    start = html.index(f'<figure class="opinion-item" data-item="{item}"')
    return html[start:html.index("</figure>", start)]


def _series(fig: str, name: str) -> tuple[list[float], list[str]]:
    """Bar widths and printed shares of one series in one item's chart."""
    bars = re.search(rf'<g class="bars" data-series="{re.escape(name)}"[^>]*>(.*?)</g>', fig)
    shares = re.search(rf'<g class="shares" data-series="{re.escape(name)}"[^>]*>(.*?)</g>', fig)
    assert bars and shares, name
    return ([float(w) for w in re.findall(r'width="([\d.]+)"', bars.group(1))],
            re.findall(r">(\d+%)</text>", shares.group(1)))


def _shown(fig: str) -> list[str]:
    return re.findall(r'<g class="bars" data-series="([^"]+)"', fig)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pops = {"Arden": [0.6, 0.3, 0.1], "Belmora": [0.1, 0.2, 0.7], "Calvania": [0.34, 0.33, 0.33]}
    items = [_item(0, pops, SCRIPT_QUESTION),
             _item(1, {"Arden": [0.2, 0.3, 0.5], "Belmora": [0.9, 0.05, 0.05], "<img src=x onerror=alert(1)>":
                       [0.3, 0.3, 0.4]}),
             _item(2, {"Arden": [0.5, 0.5], "Belmora": [0.0, 1.0]}, k=2),
             _item(3, {"Arden": [0.1, 0.1, 0.1, 0.7], "Belmora": [0.25, 0.25, 0.25, 0.25]}, k=4),
             _item(4, {"Arden": [0.05, 0.05, 0.9], "Belmora": [0.9, 0.05, 0.05]})]
    return _run(tmp_path_factory.mktemp("op") / "run", items, orders="original+shuffled")


def test_bars_and_printed_shares_match_the_stored_distributions(run: Path) -> None:
    html = build_report(run).read_text(encoding="utf-8")
    assert '<section id="opinions">' in html and 'href="#opinions"' in html
    for item in ("it0", "it1", "it3"):
        fig = _figure(html, item)
        expected = _stored_mean(run, item)
        widths, printed = _series(fig, "model")
        assert printed == [f"{v * 100:.0f}%" for v in expected]
        top = max(range(len(expected)), key=expected.__getitem__)
        assert [w / widths[top] for w in widths] == pytest.approx([v / expected[top] for v in expected], abs=2e-3)
        # Populations' bars: the survey shares as stored in the first record's metadata.
        first = next(r for r in _records(run) if r["metadata"]["item"] == item and "selections" in r["metadata"])
        _, arden = _series(fig, "Arden")
        assert arden == [f"{v * 100:.0f}%" for v in first["metadata"]["selections"]["Arden"]]


def test_item_similarity_is_the_metric_the_results_average(run: Path) -> None:
    html = build_report(run).read_text(encoding="utf-8")
    results = json.loads((run / "results.json").read_text())["suites"]["values/opinions"]["metrics"]
    # Calvania answered only it0, so its metric is that one item's similarity.
    assert f"Calvania · sim {results['similarity/Calvania']['value']:.2f}" in _figure(html, "it0")
    model = _stored_mean(run, "it2")
    assert f"Belmora · sim {similarity(model, [0.0, 1.0]):.2f}" in _figure(html, "it2")


def test_items_farthest_from_the_populations_come_first_and_are_capped(run: Path) -> None:
    suites = json.loads((run / "results.json").read_text())["suites"]
    html = section(run, suites, max_items=2)
    first = {r["metadata"]["item"]: r["metadata"]["selections"] for r in _records(run) if "selections" in r["metadata"]}
    mean_sim = {i: sum(similarity(_stored_mean(run, i), s) for s in sel.values()) / len(sel)
                for i, sel in first.items()}
    drawn = re.findall(r'<figure class="opinion-item" data-item="([^"]+)"', html)
    assert drawn == sorted(mean_sim, key=mean_sim.get)[:2]
    assert "Showing the first 2 of 5 items" in html and "samples/values/opinions.jsonl" in html
    assert "Showing the first" not in section(run, suites)  # 5 items fit under the default cap


def test_item_text_options_and_population_names_render_as_text(run: Path) -> None:
    html = build_report(run).read_text(encoding="utf-8")
    view = html[html.index('<section id="opinions">'):html.index('<section id="metrics">')]
    assert "&lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt; Should &lt;b&gt;this&lt;/b&gt; be shown?" in view
    assert "&lt;img src=x onerror=alert(1)&gt;" in view
    assert "<script" not in view and "<img" not in view and "<b>" not in view
    assert html.count("<script") == 2  # the sample browser's data block and the page's own script, nothing else


def test_many_populations_show_the_most_similar_and_the_least(tmp_path: Path) -> None:
    shares = [[0.5 + 0.05 * i, 0.3, 0.2 - 0.05 * i] if i < 4 else [0.1 * (i - 3), 0.3, 0.7 - 0.1 * (i - 3)]
              for i in range(7)]
    run = _run(tmp_path / "run", [_item(0, {f"P{i}": s for i, s in enumerate(shares)})], orders="original")
    fig = _figure(build_report(run).read_text(encoding="utf-8"), "it0")
    model = _stored_mean(run, "it0")
    ranked = sorted((f"P{i}" for i in range(7)), key=lambda p: -similarity(model, shares[int(p[1])]))
    assert _shown(fig) == ["model", *ranked[:4], ranked[-1]]
    assert "least similar" in fig


def test_no_view_without_population_shares(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", [_item(0, {"Arden": [0.2, 0.3, 0.5]})])
    for path in (run / "samples" / "values").glob("*.jsonl"):  # a survey whose records carry no shares
        rows = [json.loads(x) for x in path.read_text().splitlines()]
        for r in rows:
            r["metadata"].pop("selections", None)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    html = build_report(run).read_text(encoding="utf-8")
    assert 'id="opinions"' not in html and "Opinion items" not in html


def test_position_only_answers_grey_the_similarity_views(tmp_path: Path) -> None:
    """LetterAPI answers by position alone: the top answer flips with the order, so the gate fails and the
    report draws the population views greyed with the figure and the reason instead of as a finding."""
    run = _run(tmp_path / "run", [_item(i, {"Arden": [0.2, 0.3, 0.5]}) for i in range(4)])
    results = json.loads((run / "results.json").read_text())
    [gate] = results["suites"]["values/opinions"]["reliability"]
    assert gate["metric"] == "position_bias/argmax_flip_rate" and gate["passed"] is False
    assert "similarity/Arden" in gate["covered"]
    html = build_report(run).read_text(encoding="utf-8")
    assert html.count('class="gated"') == 2  # the similarity chart and the per-item charts
    assert "Not interpretable for this model: position_bias/argmax_flip_rate = 1.000 (needs ≤ 0.3)" in html
    assert 'id="reliability"' in html and "falls short" in html


def test_synthetic_labels_follow_the_data_flag(tmp_path: Path) -> None:
    from alignlab.evaluate.values.opinions import opinions

    table = {"A": math.log(0.5), "B": math.log(0.3), "C": math.log(0.15), "D": math.log(0.05)}
    built_in = opinions(limit=3, orders="original", bootstrap=20)
    run_eval(Model(LetterAPI(table)), [built_in], tmp_path / "builtin", show_progress=False)
    html = build_report(tmp_path / "builtin").read_text(encoding="utf-8")
    assert "SYNTHETIC populations" in html and "Arden (synthetic)" in html and "made-up populations" in html

    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "q1", "question": "Is it fine?", "options": ["Yes", "No"]}) + "\n")
    pops = tmp_path / "pops.yaml"
    pops.write_text("populations:\n  Surveyed:\n    selections: {q1: [0.7, 0.3]}\n")
    mine = opinions(path=str(items), populations=str(pops), orders="original", bootstrap=20)
    assert mine.synthetic is None  # a user's own table is not called synthetic
    run_eval(Model(LetterAPI(table)), [mine], tmp_path / "mine", show_progress=False)
    html = build_report(tmp_path / "mine").read_text(encoding="utf-8")
    assert "(synthetic)" not in html and "Synthetic data" not in html and "SYNTHETIC" not in html
    pops.write_text("synthetic: true\n" + pops.read_text())
    assert opinions(path=str(items), populations=str(pops), orders="original").synthetic == {
        "populations": ["Surveyed"], "source": "pops.yaml"}
