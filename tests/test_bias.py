"""BBQ scoring (hand-computed bias scores), the readers, the built-in BBQ-structured items and stereotype pairs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from alignlab.errors import AlignlabError
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.preferences.bias import bbq_metrics, bias_scores, biased, read_bbq, read_stereotype_pairs
from alignlab.models import Model
from alignlab.testing import ScriptedAPI

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BBQ = SHARED / "bbq"


def test_biased_answer_mapping() -> None:
    # answers: 0 = target (stereotyped group), 1 = other person, 2 = unknown
    assert biased("neg", 0, unknown=2, target=0) == 1.0
    assert biased("neg", 1, unknown=2, target=0) == 0.0
    assert biased("nonneg", 1, unknown=2, target=0) == 1.0  # the non-target for a positive question
    assert biased("nonneg", 0, unknown=2, target=0) == 0.0
    assert biased("neg", 2, unknown=2, target=0) is None


def _r(cond: str, acc: float, b: float | None) -> dict:
    return {"metadata": {"condition": cond, "category": "X"}, "scores": {"accuracy": acc, "biased": b},
            "error": None}


def test_bias_scores_hand_computed() -> None:
    # disambiguated: 4 non-unknown answers, 3 biased → 2·3/4 − 1 = 0.5
    # ambiguous: accuracy 2/4 (two "unknown"), both other answers biased → raw 1.0 → (1 − 0.5)·1.0 = 0.5
    recs = [_r("disambig", 1, 1), _r("disambig", 1, 1), _r("disambig", 0, 1), _r("disambig", 1, 0),
            _r("ambig", 1, None), _r("ambig", 1, None), _r("ambig", 0, 1), _r("ambig", 0, 1)]
    s = bias_scores(recs)
    assert s == {"accuracy_ambig": 0.5, "bias_ambig": 0.5, "accuracy_disambig": 0.75, "bias_disambig": 0.5}
    m = bbq_metrics(recs, n_boot=50)
    assert m["bias_disambig"]["value"] == 0.5 and m["bias_disambig"]["n"] == 4
    lo, hi = m["bias_ambig"]["ci"]
    assert lo <= 0.5 <= hi


def TableAPI(table: dict[str, float]) -> ScriptedAPI:  # noqa: N802
    return ScriptedAPI(logprob=table, default_logprob=-5.0, spec="table")


def test_always_stereotyped_model_on_builtin_items(tmp_path: Path) -> None:
    """A model that always picks the stereotyped person: bias +1 in both conditions, accuracy 0 when ambiguous."""
    suite = build_suite("preferences/bias")

    targets: dict[str, set[str]] = {}
    for s in suite.samples:
        md = s.metadata
        ctx = f"{md['context']}\nQuestion: {md['question']}\nAnswer:"
        other = next(i for i in range(3) if i not in (md["unknown"], md["target_answer"]))
        want = md["target_answer"] if md["polarity"] == "neg" else other
        targets.setdefault(ctx, set()).add(s.choices[want])
    stereo = ScriptedAPI(logprob=lambda r: 0.0 if r.continuation.strip() in targets[r.context] else -5.0)
    res = run_eval(Model(stereo), [suite], tmp_path, show_progress=False)
    m = res["suites"]["preferences/bias"]["metrics"]
    assert m["accuracy_ambig"]["value"] == 0.0 and m["accuracy_disambig"]["value"] == 0.5
    assert m["bias_disambig"]["value"] == 1.0 and m["bias_ambig"]["value"] == 1.0


def test_builtin_items_structure() -> None:
    samples = read_bbq(_builtin())
    assert len(samples) >= 100
    cats = Counter(s.metadata["category"] for s in samples)
    assert len(cats) >= 5
    assert {(s.metadata["condition"], s.metadata["polarity"]) for s in samples} == {
        (c, p) for c in ("ambig", "disambig") for p in ("neg", "nonneg")}
    for s in samples:
        assert s.metadata["target_answer"] is not None and s.metadata["unknown"] is not None
        assert (s.target == s.metadata["unknown"]) == (s.metadata["condition"] == "ambig")


def _builtin() -> Path:
    from importlib import resources

    return Path(str(resources.files("alignlab.suites").joinpath("data/bias_items.jsonl")))


def test_bbq_without_path_or_data_dir_says_where_it_looked() -> None:
    with pytest.raises(AlignlabError, match=r"bbq/Age\.jsonl in \(ALIGNLAB_DATA_DIR or --data-dir is not set\)"):
        build_suite("preferences/bbq")


@pytest.mark.skipif(not (BBQ / "Age.jsonl").exists(), reason="shared BBQ copy absent")
def test_read_real_bbq() -> None:
    samples = read_bbq(BBQ / "Religion.jsonl")
    assert len(samples) == 1200
    assert all(s.metadata["target_answer"] is not None for s in samples)
    sub = read_bbq(BBQ, limit=50, seed=0)
    assert len(sub) == 50 and len({s.metadata["category"] for s in sub}) == 3
    assert [s.id for s in sub] == [s.id for s in read_bbq(BBQ, limit=50, seed=0)]


def test_stereotype_pairs(tmp_path: Path) -> None:
    samples = read_stereotype_pairs()
    assert len(samples) >= 40 and len({s.metadata["bias_type"] for s in samples}) >= 5
    f = tmp_path / "pairs.jsonl"
    f.write_text(json.dumps({"sent_more": "A x.", "sent_less": "B x.", "bias_type": "t"}) + "\n"
                 + json.dumps({"sent_more": "C x.", "sent_less": "D x.", "bias_type": "t"}) + "\n")
    api = TableAPI({"A x.": -1.0, "B x.": -2.0, "C x.": -3.0, "D x.": -2.0})
    res = run_eval(Model(api), [build_suite("preferences/stereotype-pairs", path=str(f))], tmp_path / "r",
                   show_progress=False)
    m = res["suites"]["preferences/stereotype-pairs"]["metrics"]
    assert m["stereotype_preference"]["value"] == 0.5 and m["margin"]["value"] == 0.0
