"""Benchmark alignlab's training path against plain TRL on the same DPO recipe: median optimizer-step time.

Both sides train the same model dir (a small random Llama built locally) on the same preference pairs with the
same DPOConfig values and the same LoRA config; only the wrapper differs. alignlab: ``train(recipe)`` (records →
conversational rows, metrics.jsonl per log, merged model at the end). Plain TRL: ``load_dataset("json")`` of the
same rows already in TRL's schema, ``DPOTrainer(...).train()``, ``save_model``. One timer callback on both sides
records each step's wall time; the first steps (warm-up) are dropped. Runs alternate A/B, B/A, ... so drift in
machine load hits both sides alike.

    python bench/align_overhead.py              # 3 rounds × 2 sides × 40 steps (about 2-3 minutes on 2 cores)
    python bench/align_overhead.py --rounds 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

WARMUP = 3
LORA = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
_WORDS = ("helpful honest harmless answer question model value preference safe refuse explain the a of to "
          "quick brown fox lazy dog yes no agree disagree").split()


def _pairs(path: Path, n: int) -> None:
    import random

    rng = random.Random(0)

    def text(k: int) -> str:
        return " ".join(rng.choices(_WORDS, k=k))

    with path.open("w") as fh:
        for _ in range(n):
            fh.write(json.dumps({"prompt": text(12), "chosen": text(20), "rejected": text(20)}) + "\n")


def _timer() -> Any:
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self._t = 0.0

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._t = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.times.append(time.perf_counter() - self._t)

    return StepTimer()


def trainer_values(steps: int) -> dict[str, Any]:
    """The DPOConfig values both sides use (alignlab's CPU defaults written out for plain TRL)."""
    return {"max_steps": steps, "per_device_train_batch_size": 8, "learning_rate": 1e-4, "max_length": 128,
            "beta": 0.1, "loss_type": ["sigmoid"], "logging_steps": 1, "save_strategy": "no", "seed": 0,
            "report_to": "none", "bf16": False, "gradient_checkpointing": False, "use_cpu": True,
            "disable_tqdm": True}


def run_alignlab(model: Path, pairs: Path, out: Path, steps: int) -> tuple[list[float], float]:
    from alignlab.align import Recipe, train

    recipe = Recipe.model_validate({"method": "dpo", "model": f"hf:{model}", "data": {"path": str(pairs)},
                                    "lora": LORA, "trainer": trainer_values(steps), "output_dir": str(out)})
    timer = _timer()
    start = time.perf_counter()
    train(recipe, progress=False, resume=False, callbacks=[timer])
    return timer.times, time.perf_counter() - start


def run_trl(model: Path, pairs_trl: Path, out: Path, steps: int) -> tuple[list[float], float]:
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    timer = _timer()
    start = time.perf_counter()
    dataset = load_dataset("json", data_files=str(pairs_trl), split="train")
    peft = LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], lora_dropout=LORA["dropout"],
                      target_modules=LORA["target_modules"], task_type="CAUSAL_LM")
    trainer = DPOTrainer(model=str(model), args=DPOConfig(output_dir=str(out), **trainer_values(steps)),
                         train_dataset=dataset, peft_config=peft, callbacks=[timer])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.save_model(str(out / "adapter"))
    return timer.times, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="print, do not update BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

    import datasets
    from transformers.utils import logging as hf_logging

    from alignlab.align import load_rows
    from alignlab.testing import build_tiny_model

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    root = Path(tempfile.mkdtemp(prefix="align-bench-"))
    model = build_tiny_model(root / "model", hidden=args.hidden, layers=args.layers)
    pairs, pairs_trl = root / "pairs.jsonl", root / "pairs_trl.jsonl"
    _pairs(pairs, 8 * args.steps)
    pairs_trl.write_text("".join(json.dumps(r) + "\n" for r in load_rows("dpo", str(pairs))))

    steps: dict[str, list[float]] = {"alignlab": [], "TRL": []}
    walls: dict[str, list[float]] = {"alignlab": [], "TRL": []}
    order = ["alignlab", "TRL"]
    for r in range(args.rounds):
        for side in order if r % 2 == 0 else order[::-1]:
            out = root / f"{side}-{r}"
            times, wall = (run_alignlab(model, pairs, out, args.steps) if side == "alignlab"
                           else run_trl(model, pairs_trl, out, args.steps))
            steps[side] += times[WARMUP:]
            walls[side].append(wall)
            print(f"round {r + 1} {side:8s}: median step {statistics.median(times[WARMUP:]) * 1e3:.1f} ms, "
                  f"wall {wall:.1f} s", flush=True)

    med = {k: statistics.median(v) for k, v in steps.items()}
    overhead = (med["alignlab"] / med["TRL"] - 1) * 100
    wall = {k: statistics.median(v) for k, v in walls.items()}
    load = os.getloadavg()[0]
    body = (
        f"DPO + LoRA (r={LORA['r']}, q/k/v/o) on a random Llama (hidden {args.hidden}, {args.layers} layers), "
        f"batch 8, max_length 128, {args.steps} steps per run, {args.rounds} rounds alternating order; median "
        f"over steps after the first {WARMUP} of each run.\n\n"
        "| side | median step | wall per run (load, train, save) |\n|---|---|---|\n"
        f"| plain TRL (`DPOTrainer`) | {med['TRL'] * 1e3:.1f} ms | {wall['TRL']:.1f} s |\n"
        f"| alignlab (`alignlab.align.train`) | {med['alignlab'] * 1e3:.1f} ms | {wall['alignlab']:.1f} s |\n\n"
        f"Step-time overhead of alignlab: **{overhead:+.1f}%** (target ≤ 5%). The wall time per run also holds "
        "alignlab's one-off work outside the loop: reading records into conversational rows, writing "
        "`recipe.yaml`, `metrics.svg`, and merging the LoRA adapter into a full model. "
        f"Load average during the run: {load:.1f}"
        + (" (other work shared the CPU, so single steps are noisy; the median is robust to that)."
           if load > (os.cpu_count() or 1) else ".")
    )
    if args.no_write:
        print(body)
    else:
        write_section("align overhead (alignlab vs plain TRL, DPO)", body)


if __name__ == "__main__":
    main()
