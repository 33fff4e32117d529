"""Level 2 public suites on the default model: sycophancy over TruthfulQA MC1, and the AlpacaEval-style win rate.

- ``preferences/sycophancy`` (Sharma et al., 2023; both protocols) over TruthfulQA's 817 MC1 questions, run in
  chunks of ``--chunk`` questions in a seeded order until all are done or ``--budget`` seconds have passed (on a
  shared CPU the size is set by time; the section says how many ran);
- ``preferences/alpaca-winrate`` over MT-Bench's 30 questions with GPT-4 reference answers (first turn), the
  default model judging itself by the log-probabilities of its two verdicts (``verdicts=logprob``: as a writer of
  verdicts it produced none that parsed), with the suite's own known-groups check of the judge and its gate.

Writes section ``level2-public`` of BENCHMARKS.md after each part, with wall time and the machine's load.

    python bench/level2_public.py                      # what BENCHMARKS.md records
    python bench/level2_public.py --only sycophancy --budget 600
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MC_TASK = SHARED / "truthfulqa" / "data" / "mc_task.json"


def fmt(m: dict[str, Any] | None, pct: bool = True) -> str:
    if not m or m.get("value") is None:
        return "–"
    v, ci = m["value"], m.get("ci") or [None, None]
    if pct:
        return f"{100 * v:.1f}%" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci[0] is not None else "")
    return f"{v:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci[0] is not None else "")


def load() -> str:
    return "load average {:.1f} / {:.1f} / {:.1f} (1/5/15 min)".format(*os.getloadavg())


def run_sycophancy(model: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import numpy as np

    from alignlab.evaluate import build_suite, run_eval
    from alignlab.evaluate.preferences.sycophancy import sycophancy_metrics

    suite = build_suite("preferences/sycophancy", path=str(MC_TASK))
    order = np.random.default_rng(0).permutation(len(suite.samples))
    all_samples, records, t0 = suite.samples, [], time.perf_counter()
    load_start = load()
    for start in range(0, len(order), args.chunk):
        if time.perf_counter() - t0 > args.budget:
            break
        suite.samples = [all_samples[i] for i in order[start:start + args.chunk]]
        out = tmp / f"syc{start}"
        run_eval(model, [suite], out, show_progress=False, batch_size=8)
        for p in (out / "samples").rglob("*.jsonl"):
            records += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
        print(f"sycophancy: {len(records)} questions in {time.perf_counter() - t0:.0f} s", flush=True)
    suite.samples = [all_samples[i] for i in order[:len(records)]]
    declared = {k: v.to_dict() for k, v in suite.metric_info.items()}
    import torch

    return {"metrics": sycophancy_metrics(records), "declared": declared, "n": len(records),
            "threads": torch.get_num_threads(),
            "seconds": time.perf_counter() - t0, "load_start": load_start, "load_end": load(),
            "model_calls": model.model_calls}


def report(stored: dict[str, dict[str, Any]]) -> str:
    threads = stored.get("sycophancy", {}).get("threads", 1)
    lines = [f"Default model (SmolLM2-135M-Instruct; transformers, fp32, {threads} torch thread(s)). Brackets: 95% "
             "Wilson CIs "
             "over questions (t interval for the paired accuracy drop). Chance: a model picking a letter uniformly "
             "at random at every turn (the mean over questions of the 4–13 options' 1/k)."]
    if "sycophancy" in stored:
        s = stored["sycophancy"]
        m, d = s["metrics"], s["declared"]
        subset = ("all 817 questions" if s["n"] >= 817 else
                  f"{s['n']} of 817 questions: seeded order, seed 0; the time budget ran out")
        lines += ["", f"### Sycophancy over TruthfulQA MC1 ({subset})", "",
                  "Answers by letter log-likelihood (`The answer is (X)` as the assistant's reply), so no parse "
                  f"failures; model errors: {int(m['errors']['value'])}.", "",
                  "| metric | better | value [95% CI] | chance |", "|---|---|---|---|"]
        for k in ("neutral_correct", "flip", "correct_kept", "correct_to_wrong", "wrong_to_correct",
                  "pushback_correct", "suggestion_correct", "accuracy_drop", "follows_suggestion",
                  "moved_to_suggestion"):
            if k in m:
                pct = k != "accuracy_drop"
                chance = d[k]["chance"]
                lines.append(f"| {k} | {d[k]['direction']} | {fmt(m[k], pct)} (n = {m[k]['n']}) | "
                             + (f"{100 * chance:.1f}%" if pct else f"{chance:+.3f}") + " |")
        lines += ["", f"Wall time {s['seconds']:.0f} s for {s['n']} questions (3 conversations each, one "
                  f"log-likelihood per option; {s.get('model_calls', '?')} model calls, the rest from the bench's "
                  f"own cache); {s['load_start']} at the start, {s['load_end']} at the end."]
    if "winrate" in stored:
        lines += ["", stored["winrate"]["text"]]
    else:
        lines += ["", "### AlpacaEval-style win rate", "", "Not measured: no stored result of "
                  "`python bench/level2_public.py --only winrate` (it did not finish in the time this run had)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=1500, help="seconds for sycophancy chunks")
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--only", default="", help="sycophancy,winrate")
    ap.add_argument("--tokens", type=int, default=128, help="max tokens of answers and judge outputs (win rate)")
    ap.add_argument("--store", default=str(Path(tempfile.gettempdir()) / "alignlab-level2-public"))
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch threads (1 is fastest on a crowded CPU, bench/level2_default.py)")
    args = ap.parse_args()
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    if not args.report_only:
        import torch

        torch.set_num_threads(args.threads)
        from alignlab.models import load_model

        with tempfile.TemporaryDirectory() as tmp:
            if not only or "sycophancy" in only:
                model = load_model("default", engine="hf", cache=str(store / "cache.sqlite"))
                (store / "sycophancy.json").write_text(json.dumps(run_sycophancy(model, args, Path(tmp))))
            if not only or "winrate" in only:
                (store / "winrate.json").write_text(json.dumps(run_winrate(Path(tmp), args)))
    stored = {p.stem: json.loads(p.read_text()) for p in sorted(store.glob("*.json"))}
    write_section("level2-public", report(stored))


def run_winrate(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    from alignlab.data import set_data_dir
    from alignlab.evaluate import build_suite, run_eval
    from alignlab.models import load_model

    set_data_dir(SHARED)
    t0, load_start = time.perf_counter(), load()
    # generation on llama.cpp; the same model is the judge
    model = load_model("default", cache=str(Path(args.store) / "cache.sqlite"))
    suite = build_suite("preferences/alpaca-winrate", max_tokens=args.tokens, judge_max_tokens=args.tokens,
                        verdicts="logprob", context={"judge": model})
    res = run_eval(model, [suite], tmp / "winrate", show_progress=False)
    s = res["suites"]["preferences/alpaca-winrate"]
    m = s["metrics"]
    dt = time.perf_counter() - t0
    gate = next(g for g in s["reliability"] if g["metric"] == "judge_check")
    shown = "not interpretable (gated)" if gate["passed"] is False else "interpretable"
    rows = [f"| {k} | {fmt(m.get(k))} | {shown} |"
            for k in ("win_rate", "discrete_win_rate", "length_controlled_win_rate")]
    rows.append(f"| judge_check (reliability: the judge prefers the answer to the question asked) | "
                f"{fmt(m.get('judge_check'))} (n = {m.get('judge_check', {}).get('n')}) | gate ≥ "
                f"{gate['at_least']:g}: {'passed' if gate['passed'] else 'failed'} |")
    rows.append(f"| first_position_preference (reliability, ideal 50%) | {fmt(m.get('first_position_preference'))} "
                "| cancelled by the two orders |")
    n = len(suite.samples)
    text = "\n".join([
        f"### AlpacaEval-style win rate: MT-Bench's {n} questions with GPT-4 reference answers (first turn)", "",
        "Judge: **the default model judging itself** (SmolLM2-135M-Instruct) by the log-probabilities of its two "
        "verdicts (`verdicts=logprob`: MT-Bench's pairwise prompt asking for the verdict alone, both orders, the "
        "model's preference averaged over them). Asked to write verdicts it wrote none that parsed (60 of 60 in "
        "this bench's earlier run with `verdicts=generate`). The suite checks its judge in the same run: each "
        "question's GPT-4 answer against the next question's (`bench/judge_validity.py` does the same on more "
        "pairs, section `judge-validity`). Answers "
        f"capped at {args.tokens} tokens (time on a 2-core CPU). Chance: 50%. Brackets: ±1.96 standard errors "
        "(bootstrap for LC).", "",
        "| metric | value | reading |", "|---|---|---|", *rows, "",
        ("**The judge fails its check, so the win rates above are not interpretable**: " + gate["reason"] + "."
         if gate["passed"] is False else "The judge passes its check."), "",
        f"Position disagreements: {m['position_disagreements']['value']:g} of {m['position_disagreements']['n']}; "
        "mean length difference (model − GPT-4): "
        f"{m.get('mean_length_difference', {}).get('value', float('nan')):.0f} characters.", "",
        f"Wall time {dt:.0f} s for {model.model_calls} model calls (cache misses); {load_start} at the start, "
        f"{load()} at the end."])
    return {"text": text, "metrics": m, "seconds": dt}


if __name__ == "__main__":
    main()
