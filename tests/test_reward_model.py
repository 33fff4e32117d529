"""Reward models: loading, batched scoring, the reward-model suite and best-of-n."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.errors import AlignlabError, ModelSpecError
from alignlab.evaluate import SuiteSkipped, build_suite, run_eval
from alignlab.evaluate.preferences.agreement import best_of_n
from alignlab.models.reward import RewardModel, load_reward_model


@pytest.fixture(scope="module")
def rm_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    from alignlab.testing.tiny_reward import build_tiny_reward_model

    return build_tiny_reward_model(tmp_path_factory.mktemp("rm") / "rm", tokenizer_dir=tiny_model_dir)


@pytest.fixture(scope="module")
def rm(rm_dir: Path) -> RewardModel:
    return load_reward_model(f"hf:{rm_dir}", batch_size=3)


def test_score_is_batched_and_order_independent(rm: RewardModel, rm_dir: Path) -> None:
    prompts = ["Say hello.", [{"role": "user", "content": "Name a colour."}], "Say hello.", "Count to three."]
    responses = ["Hello!", "Blue, a colour of the sea and the sky.", "Hi", "1 2 3"]
    scores = rm.score(prompts, responses)
    assert len(scores) == 4 and all(isinstance(s, float) for s in scores)
    alone = load_reward_model(str(rm_dir), batch_size=1, cache=False)  # plain path, no padding at all
    assert alone.score(prompts, responses) == pytest.approx(scores, abs=1e-4)
    assert rm.score(prompts[::-1], responses[::-1]) == pytest.approx(scores[::-1], abs=1e-6)
    assert rm.fingerprint().startswith("sha256:")
    assert rm.render("Q", "A").endswith("<|im_start|>assistant\nA<|im_end|>\n")


def test_bad_specs(tmp_path: Path) -> None:
    for spec in ("", "openai:gpt@http://x", f"hf:{tmp_path / 'missing'}", "hf:"):
        with pytest.raises(ModelSpecError):
            load_reward_model(spec)
    with pytest.raises(AlignlabError):
        load_reward_model(str(tmp_path))  # no config.json


def test_suite_skips_without_reward_model() -> None:
    with pytest.raises(SuiteSkipped, match="--reward-model"):
        build_suite("preferences/reward-model")


def test_suite_accuracy_scores_and_best_of_n(rm: RewardModel, tiny_model_dir: Path, tmp_path: Path) -> None:
    from alignlab.models import load_model

    model = load_model(f"hf:{tiny_model_dir}", cache=False)
    suite = build_suite("preferences/reward-model", n=2, max_tokens=6, context={"reward_model": rm})
    res = run_eval(model, [suite], tmp_path, limit=3, show_progress=False)
    m = res["suites"]["preferences/reward-model"]["metrics"]
    assert m["accuracy_rm"]["n"] == 3
    assert set(m["reward_generated"]["quantiles"]) == {"p10", "p25", "p50", "p75", "p90"}
    assert m["reward_best_of_n"]["value"] >= m["reward_mean_of_n"]["value"]
    assert 0 <= m["win_rate_vs_chosen"]["value"] <= 1
    picks = best_of_n(model, rm, ["Say hello."], n=3, max_tokens=5)
    assert picks[0].rewards[picks[0].best] == max(picks[0].rewards)


def test_pairs_only_needs_no_generation(rm: RewardModel, tmp_path: Path) -> None:
    suite = build_suite("preferences/reward-model", generate=False, limit=4, context={"reward_model": rm})
    assert suite.requires == ()
    assert len(suite.samples) == 4
