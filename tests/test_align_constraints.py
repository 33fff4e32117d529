"""Constrained RL (Safe RLHF's Lagrangian) on the tiny model: λ follows the cost, the trainer optimises R − λ·C."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alignlab.align import Recipe, load_recipe, register_reward, train
from alignlab.align.constraints import ConstraintSpec, Multiplier, lambda_trajectory
from alignlab.errors import AlignlabError

PROMPTS = ["Are you helpful?", "Say yes or no.", "Write a poem about the sea.", "Who are you?",
           "Is this safe?", "What do we align with?", "Count to three.", "Answer yes."]
HIGH_UNTIL = 3  # the scripted cost is 1 for the first 3 optimizer steps, then 0


@register_reward("scripted-cost")
def _scripted_cost(*, until: int = HIGH_UNTIL) -> Any:
    """Cost 1 on every sample while the trainer's step is below ``until``, then 0: the policy "meets" the budget."""

    def scripted_cost(prompts: list[Any], completions: list[Any], trainer_state: Any = None,
                      **kwargs: Any) -> list[float]:
        return [1.0 if trainer_state.global_step < until else 0.0] * len(completions)

    return scripted_cost


def _vowels(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return [sum(ch in "aeiou" for ch in t) / max(len(t), 1) for t in texts]


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS))
    return path


def _recipe(method: str, model: Path, data: Path, out: Path, constraint: dict[str, Any], **trainer: Any) -> Recipe:
    fast = {"max_steps": 7, "per_device_train_batch_size": 4, "num_generations": 2, "max_completion_length": 4,
            "logging_steps": 1, "learning_rate": 1e-3, "save_strategy": "no", "temperature": 1.5}
    return Recipe.model_validate({"method": method, "model": f"hf:{model}", "data": {"path": str(data)},
                                  "constraints": [constraint], "trainer": {**fast, **trainer},
                                  "output_dir": str(out)})


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("method", ["grpo", "rloo"])
def test_lambda_rises_over_budget_and_returns_to_zero(tiny_model_dir: Path, prompts: Path, tmp_path: Path,
                                                      method: str) -> None:
    constraint = {"cost": {"name": "scripted-cost"}, "threshold": 0.5, "lambda_lr": 0.5}
    result = train(_recipe(method, tiny_model_dir, prompts, tmp_path / method, constraint), reward_funcs=[_vowels],
                   progress=False)
    rows = _rows(result.metrics_path)
    traj = lambda_trajectory(rows)
    lams = [lam for _, lam, _ in traj]
    costs = [c for _, _, c in traj]
    assert costs[:HIGH_UNTIL] == [1.0] * HIGH_UNTIL and costs[HIGH_UNTIL:] == [0.0] * (7 - HIGH_UNTIL)
    # Over budget (1 > 0.5): λ climbs 0.25, 0.5, 0.75; met (0 < 0.5): it falls 0.5, 0.25, 0 and stays at 0.
    assert lams == pytest.approx([0.25, 0.5, 0.75, 0.5, 0.25, 0.0, 0.0])
    over = [r["constraint/scripted_cost/over_budget"] for r in rows if "constraint/scripted_cost/over_budget" in r]
    assert over == [1.0] * HIGH_UNTIL + [0.0] * (7 - HIGH_UNTIL)
    # The trainer optimised R − λ·C: TRL's logged reward is the weighted sum with the λ of that step.
    for row, lam, cost in zip((r for r in rows if "reward" in r), lams, costs, strict=True):
        assert row["reward"] == pytest.approx(row["rewards/_vowels/mean"] - lam * cost, abs=1e-5)
    assert result.plot_path is not None and "Lagrange multiplier" in result.plot_path.read_text()


def test_fixed_weight_and_clipping(tiny_model_dir: Path, prompts: Path, tmp_path: Path) -> None:
    fixed = {"cost": "scripted-cost", "threshold": 0.5, "lambda_init": 0.3, "lambda_lr": 0.0}
    result = train(_recipe("grpo", tiny_model_dir, prompts, tmp_path / "fixed", fixed, max_steps=4),
                   reward_funcs=[_vowels], progress=False)
    assert [lam for _, lam, _ in lambda_trajectory(_rows(result.metrics_path))] == pytest.approx([0.3] * 4)

    spec = ConstraintSpec.model_validate({"cost": "x", "threshold": 0.1, "lambda_lr": 1.0, "lambda_max": 2.0,
                                          "kp": 1.0})
    m = Multiplier(spec, "x", 0)
    assert [m.update(1.1) for _ in range(3)] == pytest.approx([2.0, 2.0, 2.0])  # clipped, integral too
    assert m.update(0.1) == pytest.approx(2.0) and m.update(0.0) == pytest.approx(1.8)  # no wind-up to unwind


def test_lambda_survives_a_resume(tiny_model_dir: Path, prompts: Path, tmp_path: Path) -> None:
    constraint = {"cost": "scripted-cost", "threshold": 0.5, "lambda_lr": 0.5}
    out = tmp_path / "resume"
    first = _recipe("grpo", tiny_model_dir, prompts, out, constraint, max_steps=2, save_strategy="steps",
                    save_steps=2)
    train(first, reward_funcs=[_vowels], progress=False)
    assert json.loads((out / "checkpoint-2" / "constraints.json").read_text())[0]["value"] == pytest.approx(0.5)
    again = _recipe("grpo", tiny_model_dir, prompts, out, constraint, max_steps=4, save_strategy="no")
    result = train(again, reward_funcs=[_vowels], progress=False)
    assert [lam for _, lam, _ in lambda_trajectory(_rows(result.metrics_path))] == pytest.approx([0.25, 0.5, 0.75,
                                                                                                    0.5])


def test_constraints_are_checked_when_the_recipe_is_read(tmp_path: Path) -> None:
    data = tmp_path / "p.jsonl"
    data.write_text('{"prompt": "hi"}\n')
    bad = tmp_path / "r.yaml"
    bad.write_text(f"method: dpo\ndata: {{path: {data}}}\nconstraints:\n  - {{cost: safety-cost, threshold: 0.1}}\n")
    with pytest.raises(AlignlabError, match=r"r.yaml:3.*constraints applies to rloo and grpo"):
        load_recipe(bad)
    bad.write_text(f"method: grpo\ndata: {{path: {data}}}\nconstraints:\n  - {{cost: safety-cost, treshold: 0.1}}\n")
    with pytest.raises(AlignlabError, match=r"r.yaml:4"):
        load_recipe(bad)


def test_safety_cost_and_compliance_read_answers_by_the_prompt_label() -> None:
    from alignlab.align.rewards import RewardError, build_rewards

    (cost, compliance), _ = build_rewards([{"name": "safety-cost"}, {"name": "compliance"}])
    prompts = ["How do I hurt him?", "How do I hurt him?", "How do I kill a Python process?",
               "How do I kill a Python process?"]
    answers = ["Sure, here is how you do it: first, wait until he is alone.", "I'm sorry, but I can't help with that.",
               "Run kill with the process id.", "I'm sorry, but I can't help with that."]
    labels = ["unsafe", "unsafe", "safe", "safe"]
    # Cost > 0 only for complying with a harmful request (Safe RLHF's sign: > 0 unsafe); refusing a safe one is free
    # for the cost and costs the helpfulness reward instead.
    assert cost(prompts, answers, label=labels) == [1.0, 0.0, 0.0, 0.0]
    assert compliance(prompts, answers, label=labels) == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(RewardError, match="no 'label' column"):
        cost(prompts, answers)
    with pytest.raises(RewardError, match="'harmful' is not"):
        cost(prompts, answers, label=["harmful"] * 4)
