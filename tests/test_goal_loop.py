"""The closed loop on the tiny model: data → baseline → DPO → after → summary.json + report.html; resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.goals import load_goal, run_goal
from alignlab.goals._goal_report import PAIRED, UNPAIRED, paired_bootstrap

GOAL = """\
name: tiny-dpo
level: preferences
description: "Tiny <b>DPO</b> & friends"
model: hf:{model}
seed: 0
representation: {{kind: preference-pairs, limit: 24, heldout_fraction: 0.5}}
align:
  method: dpo
  lora: {{r: 4, alpha: 8}}
  trainer: {{max_steps: 2, per_device_train_batch_size: 4, max_length: 128, logging_steps: 1, learning_rate: 0.01}}
evaluate:
  - name: preferences/agreement
    args: {{path: "{{heldout.pairs}}"}}
"""


def test_paired_bootstrap_hand_checkable_cases() -> None:
    # Identical runs: every resample's mean difference is 0.
    same = paired_bootstrap([1, 0, 1, 1], [1, 0, 1, 1])
    assert same["value"] == 0 and same["ci"] == [0.0, 0.0] and same["n"] == 4 and same["method"] == PAIRED
    # Every item flips 0 → 1: the difference is 1 in every resample, however unequal the items.
    flip = paired_bootstrap([0, 0, 0], [1, 1, 1])
    assert flip["value"] == 1 and flip["ci"] == [1.0, 1.0]
    # k of n items gain 1, the rest nothing: a resample's mean difference is Binomial(n, k/n)/n, so the
    # percentile CI is the binomial's 2.5% and 97.5% quantiles / n (within one step of the bootstrap noise).
    n, k = 50, 20
    before = np.zeros(n)
    after = np.r_[np.ones(k), np.zeros(n - k)]
    res = paired_bootstrap(before, after, n_boot=20000, seed=1)
    assert res["value"] == pytest.approx(k / n)
    lo, hi = stats.binom.ppf([0.025, 0.975], n, k / n) / n
    assert res["ci"][0] == pytest.approx(lo, abs=1.01 / n) and res["ci"][1] == pytest.approx(hi, abs=1.01 / n)
    # Seeded: the same seed gives the same interval.
    assert paired_bootstrap(before, after, seed=7)["ci"] == paired_bootstrap(before, after, seed=7)["ci"]
    # Pairing matters: a common per-item offset cancels (unpaired intervals would be wide here).
    base = np.arange(40, dtype=float)
    assert paired_bootstrap(base, base + 0.5)["ci"] == pytest.approx([0.5, 0.5])


def test_run_goal_end_to_end_then_skips_finished_steps(tmp_path: Path, tiny_model_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    goal_file = tmp_path / "goal.yaml"
    goal_file.write_text(GOAL.format(model=tiny_model_dir))
    goal = load_goal(goal_file)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["goal", "run", str(goal_file), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for step in ("[1/5] data", "[2/5] baseline", "[3/5] train", "[4/5] after", "[5/5] report"):
        assert step in res.output  # one progress line per step at least
    assert "accuracy_sum" in res.output and "report.html" in res.output  # the before → after table

    for sub in ("baseline/results.json", "after/results.json", "baseline/report.html", "data/train.jsonl",
                "data/heldout.jsonl", "train/model/config.json", "goal.yaml", "summary.json", "report.html"):
        assert (out / sub).is_file(), sub
    assert json.loads((out / "state.json").read_text())["steps"]["train"]["steps"] == 2
    after_cfg = (out / "after" / "config.yaml").read_text()
    assert f"hf:{(out / 'train' / 'model').resolve()}" in after_cfg  # the trained model was evaluated

    summary = json.loads((out / "summary.json").read_text())
    # Arithmetic answers share no opening between training and held-out pairs: measured, no warning.
    assert summary["data"]["stats"]["opening_overlap"]["decisive"] == 0 and summary["warnings"] == []
    suite = summary["suites"]["preferences/agreement"]
    assert suite["n_before"] == suite["n_after"] == suite["n_paired"] == 12
    acc = suite["metrics"]["accuracy_norm"]
    assert acc["delta"]["method"] == PAIRED and acc["delta"]["n"] == 12
    assert acc["delta"]["value"] == pytest.approx(acc["after"]["value"] - acc["before"]["value"])
    lo, hi = acc["delta"]["ci"]
    assert lo <= acc["delta"]["value"] <= hi
    # The paired CI is computed from the per-item scores of both runs' samples files.
    rows = {n: {json.loads(x)["id"]: json.loads(x)["scores"]["accuracy_norm"]
                for x in (out / n / "samples" / "preferences/agreement.jsonl").read_text().splitlines()}
            for n in ("baseline", "after")}
    ids = sorted(rows["baseline"])
    expected = paired_bootstrap([rows["baseline"][i] for i in ids], [rows["after"][i] for i in ids], seed=0)
    assert acc["delta"]["ci"] == pytest.approx(expected["ci"])
    # A margin is a per-item mean too (paired); the RewardBench-style score of section means is not (unpaired).
    assert suite["metrics"]["margin_sum"]["delta"]["method"] == PAIRED
    assert suite["metrics"]["score_accuracy_sum"]["delta"]["method"] in (UNPAIRED, None)
    assert suite["metrics"]["section/helpful/accuracy_sum"]["delta"]["method"] == PAIRED

    html = (out / "report.html").read_text()
    assert "preferences/agreement" in html and "accuracy_norm" in html and PAIRED in html
    assert "Tiny &lt;b&gt;DPO&lt;/b&gt; &amp; friends" in html and "<b>DPO" not in html  # text is escaped
    assert "default-src 'none'" in html and "http://" not in html and "https://" not in html  # offline

    # A second run on the same directory redoes nothing: no retraining, no re-evaluation.
    import alignlab.align

    def no_training(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("retrained")

    monkeypatch.setattr(alignlab.align, "train", no_training)
    model_mtime = (out / "train" / "model" / "config.json").stat().st_mtime_ns
    results_mtime = (out / "after" / "results.json").stat().st_mtime_ns
    again = run_goal(goal, out, progress=False)
    assert again.skipped == ["data", "baseline", "train", "after"]
    assert (out / "train" / "model" / "config.json").stat().st_mtime_ns == model_mtime
    assert (out / "after" / "results.json").stat().st_mtime_ns == results_mtime
    assert again.summary["suites"] == summary["suites"]

    # A loop killed after training (after/ never finished) redoes only the evaluation of the trained model.
    state = json.loads((out / "state.json").read_text())
    del state["steps"]["after"]
    (out / "state.json").write_text(json.dumps(state))
    (out / "after" / "results.json").unlink()
    import alignlab.models

    opened: list[str] = []
    load_model = alignlab.models.load_model

    def spy(spec: str, **kwargs):  # noqa: ANN003, ANN202 - a Model; every model the loop opens goes through here
        opened.append(spec)
        return load_model(spec, **kwargs)

    monkeypatch.setattr(alignlab.models, "load_model", spy)
    third = run_goal(goal, out, progress=False)
    assert third.skipped == ["data", "baseline", "train"]
    assert opened == [f"hf:{(out / 'train' / 'model').resolve()}"]  # only the trained model was loaded
    assert (out / "after" / "results.json").is_file()
    assert (out / "train" / "model" / "config.json").stat().st_mtime_ns == model_mtime


def test_run_dir_refuses_another_goal(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alignlab.errors import AlignlabError

    goal_file = tmp_path / "goal.yaml"
    goal_file.write_text(GOAL.format(model=tiny_model_dir))
    out = tmp_path / "run"
    out.mkdir()
    (out / "state.json").write_text(json.dumps({"identity": {"goal": {"name": "other"}}, "steps": {}}))
    with pytest.raises(AlignlabError, match="another goal"):
        run_goal(load_goal(goal_file), out, progress=False)


@pytest.mark.slow
def test_example_goal_runs_on_the_default_model(tmp_path: Path, default_hf_dir: Path) -> None:
    """The shipped example, every step on the real default model, capped at 4 items (about 2 minutes)."""
    goal = load_goal(Path(__file__).resolve().parents[1] / "examples" / "goals" / "preference-dpo.yaml")
    result = run_goal(goal, tmp_path / "run", progress=False, limit=4)
    suite = result.summary["suites"]["preferences/agreement"]
    assert suite["n_paired"] == 4 and result.train["steps"] == 1
    assert suite["metrics"]["accuracy_norm"]["delta"]["method"] == PAIRED
    assert (tmp_path / "run" / "report.html").is_file()


def test_trainer_field_typo_fails_before_anything_runs(tmp_path: Path, tiny_model_dir: Path) -> None:
    from alignlab.errors import AlignlabError

    goal_file = tmp_path / "goal.yaml"
    goal_file.write_text(GOAL.format(model=tiny_model_dir).replace("max_steps: 2", "max_stepz: 2"))
    with pytest.raises(AlignlabError, match=r"goal.yaml:10: trainer.max_stepz: not a field of DPOConfig"):
        run_goal(load_goal(goal_file), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "data").exists() and not (tmp_path / "run" / "baseline").exists()


def test_baseline_runs_on_the_backend_the_aligned_model_is_evaluated_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # default/gguf: generate with llama.cpp; the trained model is evaluated with transformers: the baseline must be too
    import alignlab.models.default as default_mod
    import alignlab.models.hf as hf_mod
    from alignlab.goals._loop import baseline_spec

    monkeypatch.setattr(default_mod, "default_gguf", lambda: Path("/m/smol.gguf"))
    monkeypatch.setattr(hf_mod, "converted_dir", lambda p: Path("/conv") / Path(p).stem)
    assert baseline_spec("default") == "hf:/conv/smol"
    assert baseline_spec("gguf:/x/other.gguf") == "hf:/conv/other"
    assert baseline_spec("hf:/some/dir") == "hf:/some/dir"


def test_report_shows_shared_openings_and_their_warning(tmp_path: Path) -> None:
    from alignlab.goals._goal_report import render

    overlap = {"k": 4, "n_heldout": 10, "chosen": 1.0, "rejected": 0.0, "decisive": 1.0,
               "top": [["chosen: i can't help with", 10]], "warning": "10/10 held-out pairs open like training"}
    summary = {"goal": {"name": "g", "level": "preferences", "model": "m"}, "suites": {}, "train": {},
               "data": {"stats": {"opening_overlap": overlap}}, "warnings": [overlap["warning"]]}
    html = render(summary, tmp_path)
    assert "warning: 10/10 held-out pairs open like training" in html
    assert "Shared openings (first 4 words)" in html and "i can&#x27;t help with" in html
