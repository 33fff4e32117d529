"""Every TRL method trains the tiny model a few steps, logs metrics, and leaves a model that loads and evaluates."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alignlab.align import Recipe, TrainResult, load_recipe, train
from alignlab.evaluate import build_suite, run_eval
from alignlab.models import load_model
from alignlab.models.reward import load_reward_model

PAIRS = [
    ("Are you helpful?", "Helpful, honest and harmless.", "The lazy dog."),
    ("Say yes or no.", "Answer yes.", "Strongly disagree, disagree."),
    ("Write a poem about the sea.", "Please write a short poem about the sea.", "1 2 3 4 5 6."),
    ("Who are you?", "Helpful assistants answer safe ones.", "A B C D E F."),
    ("Is this safe?", "Assistants refuse dangerous requests.", "The quick brown fox."),
    ("What do we align with?", "Instructions, preferences and values.", "Neutral, neutral, neutral."),
    ("Count to three.", "1 2 3.", "Jumps over the lazy dog."),
    ("Answer yes.", "Yes.", "Strongly agree, agree, neutral."),
]
FAST = {"max_steps": 4, "per_device_train_batch_size": 4, "logging_steps": 1, "learning_rate": 1e-3,
        "save_strategy": "no", "max_length": 64}
LORA = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("align-data")
    files = {
        "pairs": [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in PAIRS],
        "sft": [{"prompt": p, "completion": c} for p, c, _ in PAIRS],
        "prompts": [{"prompt": p} for p, _, _ in PAIRS],
    }
    out = {}
    for name, rows in files.items():
        out[name] = root / f"{name}.jsonl"
        out[name].write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def _recipe(method: str, model: Path, data: Path, out: Path, *, lora: bool = False, **trainer: Any) -> Recipe:
    return Recipe.model_validate({"method": method, "model": f"hf:{model}", "data": {"path": str(data)},
                                  "lora": LORA if lora else None, "trainer": {**FAST, **trainer},
                                  "output_dir": str(out)})


def _losses(result: TrainResult, key: str = "loss") -> list[float]:
    rows = [json.loads(line) for line in result.metrics_path.read_text().splitlines()]
    return [r[key] for r in rows if key in r]


def _check_artefacts(result: TrainResult, steps: int, lora: bool) -> None:
    assert result.steps == steps and result.train_seconds > 0
    assert (result.model_dir / "config.json").is_file() and (result.model_dir / "tokenizer_config.json").is_file()
    assert (result.adapter_dir is not None) == lora
    if lora:
        assert (result.adapter_dir / "adapter_config.json").is_file()
        assert not any(p.name.startswith("adapter") for p in result.model_dir.iterdir())  # merged, not an adapter
    assert (result.output_dir / "recipe.yaml").is_file() and result.plot_path is not None
    assert result.plot_path.read_text().startswith("<svg xmlns=")
    assert load_recipe(result.output_dir / "recipe.yaml").output_dir == str(result.output_dir)


def _generates(model_dir: Path) -> None:
    with load_model(f"hf:{model_dir}", cache=False) as model:
        from alignlab.models import GenerateRequest

        out = model.generate([GenerateRequest(prompt="Say yes.", max_tokens=4)])
        assert out[0].error is None and out[0].text is not None


def _agreement(model_dir: Path, pairs: Path, reference: Path, out: Path) -> dict[str, Any]:
    """The preferences/agreement suite: the trained model's DPO-style preference against the base model."""
    with load_model(f"hf:{model_dir}", cache=False) as policy, load_model(f"hf:{reference}", cache=False) as ref:
        suite = build_suite("preferences/agreement", path=str(pairs), context={"reference_model": ref})
        res = run_eval(policy, [suite], out, show_progress=False)
    return res["suites"]["preferences/agreement"]["metrics"]


def test_sft_lora_learns_completions(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    result = train(_recipe("sft", tiny_model_dir, data["sft"], tmp_path / "sft", lora=True), progress=False)
    _check_artefacts(result, 4, lora=True)
    losses = _losses(result)
    assert len(losses) == 4 and losses[-1] < losses[0]
    _generates(result.model_dir)
    m = _agreement(result.model_dir, data["pairs"], tiny_model_dir, tmp_path / "eval")
    assert m["accuracy_dpo"]["value"] > 0.5  # SFT on the chosen answers raises them relative to the base


@pytest.mark.parametrize(("loss_type", "lora"), [("sigmoid", False), ("ipo", True)])
def test_dpo_loss_variants(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path, loss_type: str,
                           lora: bool) -> None:
    recipe = _recipe("dpo", tiny_model_dir, data["pairs"], tmp_path / "dpo", lora=lora, loss_type=[loss_type])
    result = train(recipe, progress=False)
    _check_artefacts(result, 4, lora=lora)
    losses = _losses(result)
    if loss_type == "sigmoid":
        assert losses[0] == pytest.approx(math.log(2), abs=1e-4)  # policy = reference at step one
    else:
        assert losses[0] == pytest.approx(1 / (2 * 0.1) ** 2, rel=1e-3)  # IPO: (margin - 1/(2β))² at margin 0
    assert losses[-1] < losses[0] and _losses(result, "rewards/accuracies")[-1] > 0.5
    _generates(result.model_dir)
    m = _agreement(result.model_dir, data["pairs"], tiny_model_dir, tmp_path / "eval")
    assert m["accuracy_dpo"]["value"] > 0.5


def test_reward_model_lora_ranks_chosen_higher(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    result = train(_recipe("reward", tiny_model_dir, data["pairs"], tmp_path / "rm", lora=True, max_steps=6),
                   progress=False)
    _check_artefacts(result, 6, lora=True)
    assert _losses(result)[-1] < _losses(result)[0]
    with load_reward_model(f"hf:{result.model_dir}") as rm, load_model(f"hf:{tiny_model_dir}", cache=False) as pol:
        chosen = rm.score([p for p, _, _ in PAIRS], [c for _, c, _ in PAIRS])
        rejected = rm.score([p for p, _, _ in PAIRS], [r for _, _, r in PAIRS])
        assert sum(c > r for c, r in zip(chosen, rejected, strict=True)) >= 6
        suite = build_suite("preferences/reward-model", path=str(data["pairs"]), generate=False,
                            context={"reward_model": rm})
        res = run_eval(pol, [suite], tmp_path / "eval", show_progress=False)
    assert res["suites"]["preferences/reward-model"]["metrics"]["accuracy_rm"]["value"] >= 0.75


def test_kto_from_pairs(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    result = train(_recipe("kto", tiny_model_dir, data["pairs"], tmp_path / "kto"), progress=True)
    _check_artefacts(result, 4, lora=False)
    # Not a terminal: one readable line per log, not the raw metric dicts TRL logs.
    err = capsys.readouterr().err
    assert re.search(r"^step 1/4 · loss [-\d.e]+", err, re.M)
    assert not re.search(r"\{'(loss|train_runtime|rewards/[a-z]+)'", err), err
    losses = _losses(result)
    assert losses[-1] < losses[0] and _losses(result, "rewards/margins")[-1] > 0
    _generates(result.model_dir)


def test_orpo_lora(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    result = train(_recipe("orpo", tiny_model_dir, data["pairs"], tmp_path / "orpo", lora=True), progress=False)
    _check_artefacts(result, 4, lora=True)
    losses = _losses(result)
    assert losses[-1] < losses[0] and "log_odds_ratio" in result.final_metrics
    m = _agreement(result.model_dir, data["pairs"], tiny_model_dir, tmp_path / "eval")
    assert m["accuracy_dpo"]["value"] > 0.5


def _vowels(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    """Share of vowels in the completion: varies between samples, so advantages are not all zero."""
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return [sum(ch in "aeiou" for ch in t) / max(len(t), 1) for t in texts]


def _weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.mark.parametrize(("method", "lora"), [("rloo", False), ("grpo", True)])
def test_online_rl_with_python_rewards(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path, method: str,
                                       lora: bool) -> None:
    recipe = _recipe(method, tiny_model_dir, data["prompts"], tmp_path / method, lora=lora, num_generations=2,
                     max_completion_length=8, max_steps=2, temperature=1.5)
    recipe.trainer.pop("max_length")
    rewards: list[Callable] = [_vowels]
    result = train(recipe, reward_funcs=rewards, progress=False)
    _check_artefacts(result, 2, lora=lora)
    rewards_logged = _losses(result, "rewards/_vowels/mean")
    assert len(rewards_logged) == 2 and all(0 <= r <= 1 for r in rewards_logged)
    before, after = _weights(tiny_model_dir), _weights(result.model_dir)
    changed = [k for k in before if k in after and not before[k].equal(after[k])]
    assert changed and (not lora or all("proj" in k for k in changed))
    _generates(result.model_dir)


def test_rl_without_rewards_fails_before_loading(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    from alignlab.errors import AlignlabError

    recipe = _recipe("grpo", tiny_model_dir, data["prompts"], tmp_path / "g", num_generations=2)
    recipe.trainer.pop("max_length")
    with pytest.raises(AlignlabError, match="grpo needs rewards"):
        train(recipe, progress=False)


def test_resume_continues_the_step_count(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "sft"
    first = _recipe("sft", tiny_model_dir, data["sft"], out, max_steps=3, save_strategy="steps", save_steps=1)
    assert train(first, progress=False).steps == 3
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2", "checkpoint-3"]
    shutil.rmtree(out / "checkpoint-3")  # killed after logging step 3, before its checkpoint was written
    second = _recipe("sft", tiny_model_dir, data["sft"], out, max_steps=5, save_strategy="steps", save_steps=1)
    result = train(second, progress=False)
    assert result.steps == 5
    rows = [json.loads(line) for line in result.metrics_path.read_text().splitlines()]
    # Resumed from checkpoint-2: steps 3-5 come from the second run, and the lost step 3 is logged once.
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3, 4, 5]
    assert [r["step"] for r in rows if "train_runtime" in r] == [5]  # the first run's summary row was dropped too
    # Without resume the run starts over (and its metrics file with it).
    fresh = train(_recipe("sft", tiny_model_dir, data["sft"], out, max_steps=2), resume=False, progress=False)
    assert fresh.steps == 2 and [json.loads(x)["step"] for x in fresh.metrics_path.read_text().splitlines()][0] == 1


def test_cli_trains_a_recipe(tiny_model_dir: Path, data: dict[str, Path], tmp_path: Path) -> None:
    from alignlab.cli.main import app

    recipe = tmp_path / "dpo.yaml"
    recipe.write_text(f"# alignlab align dpo --config dpo.yaml\nmethod: dpo\nmodel: hf:{tiny_model_dir}\n"
                      f"data: {{path: {data['pairs']}}}\ntrainer: {json.dumps(FAST)}\noutput_dir: out\n")
    out = CliRunner().invoke(app, ["align", "dpo", "--config", str(recipe), "--set", "trainer.max_steps=2",
                                   "--set", "trainer.loss_type=hinge", "--quiet"])
    assert out.exit_code == 0, out.output
    assert "trained dpo for 2 steps" in out.output and (tmp_path / "out" / "model" / "config.json").is_file()
    assert "loss_type: hinge" in (tmp_path / "out" / "recipe.yaml").read_text()
    out = CliRunner().invoke(app, ["align", "sft", "--config", str(recipe)])
    assert out.exit_code == 2 and "dpo.yaml:2: method: the recipe trains 'dpo', not 'sft'" in out.output


def test_sft_rows_use_the_chat_template_and_mask_the_prompt(tiny_model_dir: Path, data: dict[str, Path],
                                                            tmp_path: Path) -> None:
    from alignlab.align._train import build_trainer

    recipe = _recipe("sft", tiny_model_dir, data["sft"], tmp_path / "sft")
    trainer = build_trainer(recipe, tmp_path / "sft", progress=False)
    assert trainer.args.completion_only_loss is None and trainer.args.report_to == []  # TRL's default; no tracker
    row = trainer.train_dataset[0]
    tok = trainer.processing_class
    ids, labels = row["input_ids"], row["labels"]
    prompt = tok.decode([i for i, label in zip(ids, labels, strict=True) if label == -100])
    completion = tok.decode([i for i, label in zip(ids, labels, strict=True) if label != -100])
    assert prompt == f"<|im_start|>user\n{PAIRS[0][0]}<|im_end|>\n<|im_start|>assistant\n"
    assert completion.startswith(PAIRS[0][1]) and completion.rstrip().endswith("<|im_end|>")


def test_piped_training_output_is_alignlab_lines_only(tiny_model_dir: Path, data: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """Output sent to a file or a pipe holds one line per log and the summary, no third-party progress bars
    (weight loading, tokenizing, shard writing) and no library deprecation notices."""
    import subprocess
    import sys

    recipe = tmp_path / "dpo.yaml"
    recipe.write_text(f"method: dpo\nmodel: hf:{tiny_model_dir}\ndata: {{path: {data['pairs']}}}\n"
                      f"trainer: {json.dumps({**FAST, 'max_steps': 2})}\noutput_dir: out\n")
    run = subprocess.run([sys.executable, "-m", "alignlab.cli.main", "align", "dpo", "--config", str(recipe)],
                         capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert [line.split(" · ")[0] for line in lines if line.startswith("step ")] == ["step 1/2", "step 2/2"]
    noise = [line for line in lines if "it/s]" in line or "examples/s]" in line or "Warning" in line
             or "warnings.warn" in line]
    assert noise == [], noise
    assert any(line.startswith("trained dpo for 2 steps") for line in lines)
