"""Slow: `accelerate launch` with the shipped ddp config (two CPU processes), and the real default model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAIRS = REPO / "src" / "alignlab" / "suites" / "data" / "hhh_pairs.jsonl"


@pytest.mark.slow
def test_accelerate_launch_ddp_on_two_cpu_processes(tiny_model_dir: Path, tmp_path: Path) -> None:
    accelerate = Path(sys.executable).with_name("accelerate")
    if not accelerate.exists() and shutil.which("accelerate") is None:
        pytest.skip("accelerate's launcher is not installed")
    from alignlab.cli.align import accelerate_config_path

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(line + "\n" for line in PAIRS.read_text().splitlines()[:16]))
    recipe = tmp_path / "dpo.yaml"
    recipe.write_text(f"method: dpo\nmodel: hf:{tiny_model_dir}\ndata: {{path: pairs.jsonl}}\n"
                      "lora: {r: 4, alpha: 8, target_modules: [q_proj, v_proj]}\n"
                      "trainer: {max_steps: 2, per_device_train_batch_size: 4, logging_steps: 1, max_length: 64,"
                      " save_strategy: 'no'}\noutput_dir: out\n")
    cmd = [str(accelerate if accelerate.exists() else "accelerate"), "launch", "--config_file",
           str(accelerate_config_path("ddp")), "--num_processes", "2", "-m", "alignlab.align", "dpo",
           "--config", str(recipe), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained dpo for 2 steps") == 1  # one summary, from the main process
    rows = [json.loads(line) for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    # Two processes × 4 pairs per step = 8 of the 16 pairs per step: half an epoch, logged once per step.
    assert [r["epoch"] for r in rows if "loss" in r] == [0.5, 1.0]
    assert (tmp_path / "out" / "model" / "model.safetensors").is_file()


@pytest.mark.slow
def test_default_model_dpo_lora_two_steps(default_hf_dir: Path, tmp_path: Path) -> None:
    from alignlab.align import Recipe, train
    from alignlab.models import GenerateRequest, load_model

    recipe = Recipe.model_validate({
        "method": "dpo", "model": "default", "data": {"path": str(PAIRS), "limit": 4},
        "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
        "trainer": {"max_steps": 2, "per_device_train_batch_size": 2, "max_length": 96, "logging_steps": 1,
                    "save_strategy": "no"},
        "output_dir": str(tmp_path / "dpo")})
    result = train(recipe, progress=False)
    assert result.steps == 2 and (result.adapter_dir / "adapter_config.json").is_file()
    with load_model(f"hf:{result.model_dir}", cache=False) as model:
        out = model.generate([GenerateRequest(prompt="What is 2 + 2?", max_tokens=8)])
    assert out[0].error is None and out[0].text.strip()
