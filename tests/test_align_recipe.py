"""Recipes: YAML → typed recipe, relative paths, overrides, and errors that name the file and line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.align import load_recipe, load_rows
from alignlab.errors import AlignlabError

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _pairs(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"q{i}", "chosen": "yes", "rejected": "no"}) for i in range(3)))
    return path


def test_load_resolves_paths_and_merges_overrides(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _pairs(tmp_path / "sub")
    path = _write(tmp_path / "sub", "method: dpo\nmodel: hf:models/m\ndata: {path: pairs.jsonl, limit: 2}\n"
                                    "trainer: {beta: 0.2, max_steps: 3}\noutput_dir: out\n")
    recipe = load_recipe(path, {"trainer.max_steps": 7, "data": {"format": "auto"}, "lora": {"r": 4}})
    assert recipe.method == "dpo" and recipe.data.limit == 2  # nested override merged, not replaced
    assert recipe.data.path == str(tmp_path / "sub" / "pairs.jsonl")
    assert recipe.model == f"hf:{tmp_path / 'sub' / 'models' / 'm'}"
    assert recipe.output_dir == str(tmp_path / "sub" / "out")
    assert recipe.trainer == {"beta": 0.2, "max_steps": 7}
    assert recipe.lora is not None and recipe.lora.r == 4 and recipe.lora.target_modules == "all-linear"
    assert recipe.source == path and recipe.where("trainer", "beta").endswith("recipe.yaml:4")
    # The resolved recipe round-trips through YAML.
    again = load_recipe(_write(tmp_path, recipe.to_yaml(), "resolved.yaml"))
    assert again.model_dump() == recipe.model_dump()


@pytest.mark.parametrize(("text", "pattern"), [
    ("method: ppo\ndata: {path: d.jsonl}\n", r"recipe\.yaml:1: method: Input should be 'sft'"),
    ("method: dpo\ndata: {path: d.jsonl}\nlora: {r: 8, rank: 4}\n", r"recipe\.yaml:3: lora\.rank: Extra inputs"),
    ("method: dpo\n\ndata: {path: d.jsonl}\nrewards: [{name: regex}]\n",
     r"recipe\.yaml:4: rewards: rewards applies to rloo and grpo, not dpo"),
    ("method: dpo\nmodel: default\n", r"recipe\.yaml:1: data: Field required"),
    ("method: [dpo\n", r"recipe\.yaml:2: invalid YAML"),
])
def test_bad_recipes_name_file_and_line(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(AlignlabError, match=pattern):
        load_recipe(_write(tmp_path, text))


def test_method_of_the_command_must_match(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {path: d.jsonl}\n")
    assert load_recipe(path, method="kto").method == "kto"  # fills a missing method
    path = _write(tmp_path, "method: sft\ndata: {path: d.jsonl}\n")
    with pytest.raises(AlignlabError, match=r"recipe\.yaml:1: method: the recipe trains 'sft', not 'dpo'"):
        load_recipe(path, method="dpo")


def test_unknown_trainer_field_and_missing_data_name_the_line(tmp_path: Path) -> None:
    from alignlab.align import check_recipe

    _pairs(tmp_path)
    path = _write(tmp_path, "method: dpo\ndata:\n  path: pairs.jsonl\ntrainer:\n  beta: 0.1\n  betta: 0.2\n")
    with pytest.raises(AlignlabError, match=r"recipe\.yaml:6: trainer\.betta: not a field of DPOConfig.*'beta'"):
        check_recipe(load_recipe(path))
    path = _write(tmp_path, "method: dpo\ndata:\n  path: missing.jsonl\n")
    with pytest.raises(AlignlabError, match=r"recipe\.yaml:3: data\.path: no such file"):
        check_recipe(load_recipe(path))
    path = _write(tmp_path, "method: sft\ndata: {path: pairs.jsonl}\ntrainer: {output_dir: x}\n")
    with pytest.raises(AlignlabError, match=r"recipe\.yaml:3: trainer\.output_dir: not set here"):
        check_recipe(load_recipe(path))


def test_rows_per_method_in_trl_schema(tmp_path: Path) -> None:
    pairs = _pairs(tmp_path)
    user = [{"role": "user", "content": "q0"}]
    dpo = load_rows("dpo", str(pairs))
    assert dpo[0] == {"prompt": user, "chosen": [{"role": "assistant", "content": "yes"}],
                      "rejected": [{"role": "assistant", "content": "no"}]}
    kto = load_rows("kto", str(pairs), limit=3)
    assert [r["label"] for r in kto] == [True, False, True] and kto[1]["completion"][0]["content"] == "no"
    assert load_rows("sft", str(pairs))[0] == {"prompt": user, "completion": [{"role": "assistant", "content": "yes"}]}
    assert load_rows("grpo", str(pairs))[0] == {"prompt": user}
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                                              {"role": "assistant", "content": "a"}]}) + "\n")
    row = load_rows("sft", str(chats))[0]  # the loss covers the assistant's reply only
    assert [m["role"] for m in row["prompt"]] == ["system", "user"] and row["completion"][0]["content"] == "a"
    ifeval = tmp_path / "ifeval.jsonl"
    ifeval.write_text(json.dumps({"key": 1, "prompt": "Write in lowercase.",
                                  "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]}) + "\n")
    row = load_rows("rloo", str(ifeval))[0]  # extra columns reach the reward functions
    assert row["instruction_id_list"] == ["change_case:english_lowercase"] and row["prompt"][0]["role"] == "user"


def test_rows_refuse_data_of_the_wrong_kind(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    with pytest.raises(AlignlabError, match=r"dpo data \S*prompts\.jsonl:1: cannot convert prompt_only"):
        load_rows("dpo", str(prompts))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "chosen": "x", "rejected": "y"}\n{"prompt": "b", "chosen": 3}\n')
    with pytest.raises(AlignlabError, match=r"bad\.jsonl:2"):
        load_rows("dpo", str(bad))


def test_example_recipes_parse() -> None:
    for method in ("sft", "reward", "dpo", "kto", "orpo", "rloo", "grpo"):
        path = REPO / "examples" / "recipes" / f"{method}.yaml"
        recipe = load_recipe(path, method=method)
        assert Path(recipe.data.path).is_file(), path
        assert f"alignlab align {method} --config examples/recipes/{method}.yaml" in path.read_text()


def test_cost_recipe_trains_what_the_safe_grpo_goal_reads() -> None:
    """examples/recipes/cost.yaml writes the cost model that examples/goals/safe-grpo.yaml constrains with."""
    from alignlab.goals import load_goal

    recipe = load_recipe(REPO / "examples" / "recipes" / "cost.yaml", method="cost")
    assert recipe.data.format == "hh-rlhf-harmless" and recipe.cost_loss == "pairwise"
    goal = load_goal(REPO / "examples" / "goals" / "safe-grpo.yaml")
    (constraint,) = goal.align["constraints"]
    assert constraint["cost"]["name"] == "cost-model"
    path = (REPO / "examples" / "goals" / constraint["cost"]["args"]["path"]).resolve()
    assert path == Path(recipe.output_dir) / "model"
    assert "alignlab align cost --config examples/recipes/cost.yaml" in (REPO / "README.md").read_text()


def test_cli_accelerate_configs_and_help_stay_light() -> None:
    from alignlab.cli.main import app

    runner = CliRunner()
    for name in ("ddp", "deepspeed_zero2", "deepspeed_zero3", "fsdp"):
        out = runner.invoke(app, ["align", "accelerate-config", name])
        assert out.exit_code == 0, out.output
        text = Path(out.output.strip()).read_text()
        assert re.search(r"^distributed_type: \w+", text, re.M) and "accelerate launch" in text
    out = runner.invoke(app, ["align", "accelerate-config", "nccl"])
    assert out.exit_code == 2 and "one of ddp" in out.output
    # `alignlab align --help` must not import torch, transformers or TRL.
    code = ("import sys; from alignlab.cli.main import app\n"
            "try: app(['align', 'dpo', '--help'])\nexcept SystemExit: pass\n"
            "assert not {'torch', 'trl', 'transformers', 'datasets'} & set(sys.modules), sys.modules.keys()")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
