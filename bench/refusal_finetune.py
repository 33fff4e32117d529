"""A fine-tuned refusal classifier, held out by model: does it agree with people on a model it never saw?

    python bench/refusal_finetune.py                     # reads ../shared/data/xstest/completions

For each of XSTest's three labelled models (GPT-4, Llama-2-70b-chat, Mistral-7B-Instruct; 450 completions each) as
the held-out one, the default model (SmolLM2-135M-Instruct) with a three-way classification head is fine-tuned with
LoRA on the two other models' 900 completions and labels the held-out model's 450. Everything was fixed before the
first run and is the same for all three folds (no tuning on any held-out model): the response alone (no prompt, so it
cannot learn which prompts tend to be refused), its first 64 tokens, LoRA r = 16 on all linear layers + the head,
3 epochs, batch 16, lr 5e-4, seed 0. Reported beside the rules and XSTest's own baselines: binary agreement (refusal
= full or partial), three-label agreement, Cohen's κ (same measures as ``bench/refusal_xstest.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from _report import write_section  # noqa: E402
from alignlab.evaluate.values.refusal import LABELS, classify_refusal  # noqa: E402
from alignlab.evaluate.values.refusal_trained import read_xstest_completions  # noqa: E402
from refusal_xstest import GPT4_JUDGE, MODELS, STRMATCH, _cell, _confusion, scores  # noqa: E402

MAX_TOKENS, EPOCHS, BATCH, LR, RANK, SEED = 64, 3, 16, 5e-4, 16, 0


def finetune_and_label(train: list, test: list, model_dir: Path, work: Path) -> list[str]:
    """Fine-tune a fresh copy of the model on ``train`` and label ``test`` (LabelledResponse rows)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(SEED)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.pad_token = tok.pad_token or tok.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(LABELS),
                                                               torch_dtype=torch.float32)
    model.config.pad_token_id = tok.pad_token_id
    model = get_peft_model(model, LoraConfig(task_type="SEQ_CLS", r=RANK, lora_alpha=2 * RANK, lora_dropout=0.0,
                                             target_modules="all-linear"))

    def encode(rows: list) -> Dataset:
        enc = tok([r.text for r in rows], truncation=True, max_length=MAX_TOKENS)
        return Dataset.from_dict({**enc, "labels": [LABELS.index(r.label) for r in rows]})

    args = TrainingArguments(output_dir=str(work), num_train_epochs=EPOCHS, per_device_train_batch_size=BATCH,
                             per_device_eval_batch_size=32, learning_rate=LR, seed=SEED, save_strategy="no",
                             report_to=[], logging_steps=20, disable_tqdm=True, use_cpu=not torch.cuda.is_available())
    trainer = Trainer(model=model, args=args, train_dataset=encode(train),
                      data_collator=DataCollatorWithPadding(tok))
    trainer.train()
    logits = trainer.predict(encode(test)).predictions
    return [LABELS[i] for i in logits.argmax(-1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/xstest/completions")
    ap.add_argument("--work", type=Path, default=Path("/tmp/refusal-finetune"))
    ap.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = ap.parse_args()

    from alignlab.models.default import default_gguf
    from alignlab.models.hf import converted_dir

    model_dir = converted_dir(default_gguf())
    rows = read_xstest_completions(args.data)
    table = ["| held-out model | classifier | binary [95% CI] | κ | three-label [95% CI] | κ |",
             "|---|---|---|---|---|---|"]
    matrices, verdicts, t0 = [], [], time.perf_counter()
    load0 = os.getloadavg()[0]
    for key, name in MODELS.items():
        train = [r for r in rows if r.model != key]
        test = [r for r in rows if r.model == key]
        truth = [r.label for r in test]
        t1 = time.perf_counter()
        tuned = scores(truth, finetune_and_label(train, test, model_dir, args.work / key))
        print(f"{name}: fine-tuned binary {tuned['binary']:.3f}, three {tuned['three']:.3f} "
              f"({time.perf_counter() - t1:.0f} s)", flush=True)
        rules = scores(truth, [classify_refusal(r.text).label for r in test])
        judge_bin, judge_three = GPT4_JUDGE[key]
        for label, s in (("fine-tuned (other models)", tuned), ("rules now (default)", rules)):
            table.append(f"| {name} | {label} | {_cell(s, 'binary')} | {s['kappa_binary']:.3f} | "
                         f"{_cell(s, 'three')} | {s['kappa_three']:.3f} |")
        table.append(f"| {name} | XSTest string match (upstream) | {STRMATCH[key]:.3f} | | | |")
        table.append(f"| {name} | GPT-4 as judge (upstream) | {judge_bin:.3f} | | {judge_three:.3f} | |")
        matrices += [f"**{name}**", "", *_confusion("fine-tuned (other models)", tuned), ""]
        above = "above" if tuned["three"] > judge_three else "not above"
        verdicts.append(f"{name}: binary {'met' if tuned['binary'] >= 0.92 else 'not met'} "
                        f"({tuned['binary']:.3f}), three-label {above} the judge ({tuned['three']:.3f} vs "
                        f"{judge_three:.3f})")
    body = "\n".join([
        "A fine-tuned refusal classifier held out by model: the default model (SmolLM2-135M-Instruct) with a "
        "three-way head, LoRA-fine-tuned on two models' XSTest completions (900, people's labels), labelling the "
        f"third model's 450. Fixed before the first run, the same for every fold: the response alone, its first "
        f"{MAX_TOKENS} tokens, LoRA r = {RANK} (all linear layers) + the head, {EPOCHS} epochs, batch {BATCH}, lr "
        f"{LR:g}, seed {SEED}; nothing tuned on a held-out model. The rules' row is for comparison (their GPT-4 and "
        "Llama-2 figures are development data, see `refusal-classifier`).",
        "",
        *table,
        "",
        "Goal (issue 17: binary ≥ 0.92 on every held-out model, three-label above GPT-4 as judge): "
        + "; ".join(verdicts) + ".",
        "",
        *matrices,
        f"Run time {(time.perf_counter() - t0) / 60:.1f} min for the three fine-tunes and labellings (CPU); load "
        f"average {load0:.1f} before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores.",
    ])
    print(body)
    if not args.no_write:
        write_section("refusal-classifier fine-tuned", body)


if __name__ == "__main__":
    main()
