"""DPO under ``accelerate launch`` on a GPU: one recipe, the shipped DDP config, its log and step times.

    python bench/align_gpu.py --arch DIR --out OUT        # on a GPU machine
    python bench/align_gpu.py --write OUT                 # here: add OUT's figures to BENCHMARKS.md

``--arch`` is a folder with a model's ``config.json`` and tokenizer files but no weights: the device machine cannot
reach a hub and the default model's weights (98 MB GGUF) exceed what travels there, so the model is the
SmolLM2-135M architecture with random weights. What this shows is the launch path (accelerate → alignlab → TRL),
bf16 on the GPU, the loss moving and the step time, not a better model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "src/alignlab/suites/data/hhh_pairs.jsonl"

RECIPE = """\
# bench/align_gpu.py writes this recipe: LoRA DPO on the built-in HHH pairs, bf16.
method: dpo
model: {model}
data: {{path: {pairs}}}
lora: {{r: 16, alpha: 32, target_modules: all-linear}}
trainer:
  loss_type: [sigmoid]
  beta: 0.1
  learning_rate: 5.0e-5
  per_device_train_batch_size: 16
  gradient_accumulation_steps: 1
  num_train_epochs: 3
  max_length: 256
  logging_steps: 1
  bf16: true
  save_strategy: "no"
  report_to: none
output_dir: {out}
"""


def build_model(arch: Path, dest: Path) -> Path:
    """Random weights for the architecture in ``arch`` (config + tokenizer), saved as an HF dir."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(arch)
    model = AutoModelForCausalLM.from_config(config)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(arch).save_pretrained(dest)
    return dest


def run(arch: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    work = Path("/tmp/align_gpu")
    model_dir = build_model(arch, work / "model")
    recipe = work / "dpo.yaml"
    recipe.write_text(RECIPE.format(model=model_dir, pairs=PAIRS, out=work / "train"))
    ddp = ROOT / "src/alignlab/align/accelerate/ddp.yaml"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ddp), "--num_processes", "1",
           "-m", "alignlab.align", "dpo", "--config", str(recipe)]
    t0 = time.perf_counter()
    with open(out / "launch.log", "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wall = time.perf_counter() - t0
    metrics = work / "train" / "metrics.jsonl"
    if metrics.exists():
        (out / "metrics.jsonl").write_text(metrics.read_text())
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU (CPU)"
    info = {"rc": rc, "wall_s": wall, "command": " ".join(cmd), "gpu": gpu,
            "torch": torch.__version__, "date": dt.date.today().isoformat(), "python": platform.python_version()}
    (out / "info.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info, indent=2))
    if rc:
        sys.exit(rc)


def write(out: Path) -> None:
    """Turn a device run's files into a BENCHMARKS.md section."""
    sys.path.insert(0, str(ROOT / "bench"))
    from _report import write_section

    info = json.loads((out / "info.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    steps = [r for r in rows if "loss" in r]
    summary = next((r for r in reversed(rows) if "train_runtime" in r), {})
    first, last = steps[0], steps[-1]

    def cell(r: dict, key: str) -> str:
        return f"{r[key]:.4f}" if isinstance(r.get(key), int | float) else "–"

    keys = ["loss", "rewards/accuracies", "rewards/margins"]
    table = ["| step | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for r in (first, steps[len(steps) // 2], last):
        table.append(f"| {r.get('step', '?')} | " + " | ".join(cell(r, k) for k in keys) + " |")
    runtime = summary.get("train_runtime")
    per_step = runtime / last["step"] if runtime and last.get("step") else None
    body = "\n".join([
        f"Command (on the device machine): `python bench/align_gpu.py --arch .gpu/smollm2-arch --out $OUT`, which runs "
        f"`{info['command'].replace(str(ROOT) + '/', '')}`.",
        f"Machine: {info['gpu']}, torch {info['torch']}, Python {info['python']}; date {info['date']}.",
        "Model: the SmolLM2-135M architecture with random weights (no hub there, and the default model's weights do "
        "not travel); LoRA r=16 on all linear layers, DPO sigmoid loss, bf16, batch 16, 3 epochs over the 180 "
        "built-in HHH pairs.",
        "",
        *table,
        "",
        f"Exit code {info['rc']}; whole launch {info['wall_s']:.1f} s (process start, model load, training, merge and "
        f"save); train_runtime {runtime:.1f} s" + (f", {per_step:.3f} s per optimizer step." if per_step else "."),
        "The launch log, progress bars removed, is in `bench/logs/align_gpu_h200.log`.",
    ])
    write_section("align_gpu", body)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--write", type=Path, help="a device run's OUT folder to write into BENCHMARKS.md")
    args = ap.parse_args()
    if args.write:
        write(args.write)
    else:
        run(args.arch, args.out)
