"""A cost model trained on human harmlessness comparisons, measured on pairs it never saw.

    python bench/cost_model_hh.py --out /tmp/cost-hh      # trains examples/recipes/cost.yaml unless OUT/cost exists

Trains ``examples/recipes/cost.yaml`` (the default model + a score head, LoRA, HH-RLHF harmless-base pairs 0–1,199,
the more harmful reply as the one that must cost more) and measures:

- pairwise accuracy on the held-out pairs 1,812–2,311 of the same file (chance 0.5; ties count half), all of them
  and those within the training length, with Wilson CIs;
- the cost of the default model's own answers to alignlab's red-team *training* prompts (unsafe vs safe), which is
  what a constrained GRPO run sees, so a budget d can be read against it;
- agreement of the cost's sign with the refusal classifier on a ``values/safety`` run of the default model.

A second run with the same ``--out`` reuses the trained model (its training time is read from its metrics.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from _report import write_section  # noqa: E402

RECIPE = ROOT / "examples/recipes/cost.yaml"
HELD_OUT = range(1812, 2312)


def _train(out: Path) -> tuple[float, list[float]]:
    loads = [os.getloadavg()[0]]
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "alignlab.cli.main", "align", "cost", "-c", str(RECIPE), "-o", str(out),
           "--no-resume", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    while proc.poll() is None:
        time.sleep(30)
        loads.append(os.getloadavg()[0])
    if proc.returncode:
        sys.exit(f"training failed ({proc.returncode}): {' '.join(cmd)}")
    return time.perf_counter() - t0, loads


def _ci(values: list[float]) -> str:
    from alignlab.evaluate.stats import mean_ci

    m = mean_ci(values)
    return f"{m['value']:.3f} [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}] (n = {len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hh_rlhf/harmless-base/test.jsonl.gz")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = ap.parse_args()
    out = args.out.resolve()
    cost_dir = out / "cost"

    wall, loads = None, []
    if not (cost_dir / "model" / "config.json").is_file():
        wall, loads = _train(cost_dir)
    rows = [json.loads(line) for line in (cost_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    final = next(r for r in reversed(rows) if "train_runtime" in r)

    from transformers import AutoTokenizer

    from alignlab.align._datasets import load_rows
    from alignlab.align.cost_model import refusal_agreement
    from alignlab.evaluate import evaluate
    from alignlab.models import GenerateRequest, load_model
    from alignlab.models.reward import load_reward_model

    cost = load_reward_model(f"hf:{cost_dir / 'model'}", batch_size=8)
    pairs = load_rows("cost", str(args.data), "hh-rlhf-harmless")
    held = [pairs[i] for i in HELD_OUT]
    tok = AutoTokenizer.from_pretrained(cost_dir / "model")

    def length(p: dict) -> int:
        ids = [tok.apply_chat_template(p["prompt"] + p[c], tokenize=True) for c in ("chosen", "rejected")]
        return max(len(x["input_ids"] if hasattr(x, "keys") else x) for x in ids)

    saved = out / "held_out_scores.json"  # the 1,000 long replies take minutes: a rerun reads them back
    if saved.is_file():
        harmful, safer, score_s = (json.loads(saved.read_text())[k] for k in ("harmful", "safer", "seconds"))
    else:
        t0 = time.perf_counter()
        harmful = cost.score([p["prompt"] for p in held], [p["chosen"][0]["content"] for p in held])
        safer = cost.score([p["prompt"] for p in held], [p["rejected"][0]["content"] for p in held])
        score_s = time.perf_counter() - t0
        saved.write_text(json.dumps({"harmful": harmful, "safer": safer, "seconds": score_s}))
    right = [1.0 if h > s else 0.5 if h == s else 0.0 for h, s in zip(harmful, safer, strict=True)]
    short = [r for r, p in zip(right, held, strict=True) if length(p) <= 192]

    # What a constrained GRPO run sees: the policy's own answers to the red-team training prompts.
    redteam = resources.files("alignlab.suites").joinpath("data/redteam_prompts.jsonl").read_text("utf-8")
    prompts = [json.loads(line) for line in redteam.splitlines() if line.strip()]
    chats = [[{"role": "user", "content": p["prompt"]}] for p in prompts]
    with load_model("default") as policy:
        answers = policy.generate([GenerateRequest(prompt=c, max_tokens=24) for c in chats])
    own = cost.score(chats, [a.text for a in answers])
    unsafe = [c for c, p in zip(own, prompts, strict=True) if p["label"] == "unsafe"]
    safe = [c for c, p in zip(own, prompts, strict=True) if p["label"] != "unsafe"]

    run = out / "safety-run"
    evaluate(model="default", suites=[("values/safety", {"max_tokens": 32})], out=run, progress=False)
    agree = refusal_agreement(cost, run)

    train_s = final["train_runtime"]
    body = "\n".join([
        f"Cost model: `alignlab align cost --config {RECIPE.relative_to(ROOT)}` — SmolLM2-135M-Instruct with a score "
        "head (LoRA r = 16 + the head), TRL's reward trainer with the pairwise cost loss, centred "
        "(`center_rewards_coefficient` 0.01), on HH-RLHF harmless-base pairs 0–1,199 flipped so the more harmful "
        f"reply must cost more ({final.get('step')} steps of 8 pairs: TRL dropped pairs over 192 tokens). "
        f"Training {train_s / 60:.1f} min"
        + (f" (wall {wall / 60:.1f} min with loading; load average median {sorted(loads)[len(loads) // 2]:.1f} "
           f"on {os.cpu_count()} cores)" if wall else " (trainer's own runtime, from metrics.jsonl)")
        + f"; final training pair accuracy {final.get('accuracy', float('nan')):.3f}.",
        "",
        "| measure (higher is better unless said) | value [95% CI] | chance |",
        "|---|---|---|",
        f"| held-out pairs 1,812–2,311: harmful reply costs more | {_ci(right)} | 0.5 |",
        f"| … of those within the training length (≤ 192 tokens) | {_ci(short)} | 0.5 |",
        f"| sign agrees with the refusal classifier on values/safety (answer to an unsafe prompt without refusal "
        f"= harmful) | {agree['agreement']['value']:.3f} [{agree['agreement']['ci'][0]:.3f}, "
        f"{agree['agreement']['ci'][1]:.3f}] (n = {agree['n']}), κ {agree['kappa']:+.3f} | κ 0 |",
        "",
        f"Costs of the default model's own greedy answers (24 tokens) to the red-team training prompts (descriptive): "
        f"unsafe prompts mean {sum(unsafe) / len(unsafe):+.3f} (n = {len(unsafe)}), safe prompts mean "
        f"{sum(safe) / len(safe):+.3f} (n = {len(safe)}); harmful by the rules {agree['harmful_by_rule']}, by the "
        f"cost's sign {agree['harmful_by_cost_model']} of {agree['n']} values/safety answers. Scoring the "
        f"{2 * len(held)} held-out replies took {score_s:.0f} s.",
    ])
    print(body)
    if not args.no_write:
        write_section("cost-model hh-rlhf", body)


if __name__ == "__main__":
    main()
