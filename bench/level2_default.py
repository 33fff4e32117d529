"""Level 2 (human preferences) on the default model: preference agreement, TruthfulQA MC1/MC2 and BBQ.

Runs SmolLM2-135M-Instruct (``default``; log-likelihoods on transformers) on:

- HH-RLHF harmless-base test (shared/data/hh_rlhf): preference agreement, a seeded subset (``--hh``);
- the built-in helpful/honest/harmless pairs (all 180), with RewardBench-style sections;
- TruthfulQA MC1/MC2 over mc_task.json (``--tqa`` questions, seeded subset when fewer than 817);
- BBQ over Age, Religion and Disability_status (``--bbq`` items, seeded subset when fewer than 6,436);
- the built-in truthfulness, bias and stereotype-pair suites.

Writes section ``level2-default`` of BENCHMARKS.md after every suite (so a killed run still reports what finished),
with wall time per suite: on a shared CPU the subset sizes are set by time, not by choice.

    python bench/level2_default.py                     # the sizes recorded in BENCHMARKS.md
    python bench/level2_default.py --hh 2312 --tqa 817 --bbq 6436   # everything (hours on 2 shared cores)
    python bench/level2_default.py --only hh & python bench/level2_default.py --only tqa   # in parallel
    python bench/level2_default.py --report-only       # rewrite the section from the stored results
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def fmt(m: dict[str, Any] | None, pct: bool = True) -> str:
    if not m or m.get("value") is None:
        return "–"
    v, ci = m["value"], m.get("ci") or [None, None]
    if pct:
        s = f"{100 * v:.1f}%"
        return s + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci[0] is not None else "")
    return f"{v:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci[0] is not None else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hh", type=int, default=250, help="HH-RLHF pairs (seeded subset of 2,312)")
    ap.add_argument("--tqa", type=int, default=350, help="TruthfulQA questions (seeded subset of 817)")
    ap.add_argument("--bbq", type=int, default=300, help="BBQ items (seeded subset of 6,436)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a crowded CPU)")
    ap.add_argument("--only", default="", help="comma-separated suite keys to run (default: all)")
    ap.add_argument("--store", default=str(Path(tempfile.gettempdir()) / "alignlab-level2"),
                    help="dir of per-suite results, shared by parallel --only runs")
    ap.add_argument("--report-only", action="store_true", help="rewrite the section from --store; run nothing")
    args = ap.parse_args()
    store = Path(args.store)
    if args.report_only:
        results = {p.stem: json.loads(p.read_text()) for p in sorted(store.glob("*.json"))}
        write_section("level2-default", report(results, args))
        return

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)  # 2 threads on 2 busy cores ran 10x slower than 1 (oversubscription)
    from alignlab.evaluate import build_suite, run_eval
    from alignlab.evaluate.preferences import agreement, bias, truthfulness  # noqa: F401 - register the suites
    from alignlab.models import load_model

    hh = SHARED / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"
    plan = [
        ("hhh", "preferences/hhh-pairs", {}),
        ("truthfulness", "preferences/truthfulness", {}),
        ("bias", "preferences/bias", {}),
        ("stereo", "preferences/stereotype-pairs", {}),
        ("bbq", "preferences/bbq", {"path": str(SHARED / "bbq"), "limit": args.bbq, "seed": 0}),
        ("tqa", "preferences/truthfulqa", {"path": str(SHARED / "truthfulqa" / "data" / "mc_task.json")}),
        ("hh", "preferences/agreement", {"path": str(hh), "format": "hh-rlhf", "limit": args.hh, "seed": 0}),
    ]
    only = set(filter(None, args.only.split(",")))
    model = load_model("default", engine="hf")  # scoring only: no generation engine needed
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for key, name, params in plan:
            if only and key not in only:
                continue
            suite = build_suite(name, **params)
            if key == "tqa" and args.tqa < len(suite.samples):  # seeded subset of questions
                keep = np.random.default_rng(0).permutation(len(suite.samples))[:args.tqa]
                suite.samples = [suite.samples[i] for i in sorted(keep)]
            t0 = time.perf_counter()
            res = run_eval(model, [suite], Path(tmp) / key, show_progress=False, batch_size=8)
            dt = time.perf_counter() - t0
            row = {"summary": res["suites"][name], "seconds": dt, "n": len(suite.samples),
                   "model_calls": res["run"]["model_calls"]}
            (store / f"{key}.json").write_text(json.dumps(row))
            print(f"{name}: {len(suite.samples)} items in {dt:.0f} s", flush=True)
            # Suites may run in parallel processes (--only); each writes the section from every stored result.
            results = {p.stem: json.loads(p.read_text()) for p in sorted(store.glob("*.json"))}
            write_section("level2-default", report(results, args))


def report(stored: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    results = {k: (v["summary"], v["seconds"], v["n"]) for k, v in stored.items()}
    stored = {k: stored[k] for k in ("hh", "hhh", "tqa", "truthfulness", "bbq", "bias", "stereo") if k in stored}
    lines = [
        "Default model (SmolLM2-135M-Instruct; log-likelihoods on transformers, fp32, 1 torch thread) on level-2 "
        "suites. Brackets: 95% CIs (Wilson for accuracies, bootstrap over items for BBQ bias scores). Sizes are "
        "seeded subsets (seed 0) where stated: the 2 CPU cores were shared with other jobs (load ~12), so the "
        "sizes were chosen to fit the time (times below the tables). Chance: 50% on pairs, 1/3 on BBQ. Suites ran "
        "as parallel `--only` processes sharing `--store`; the section was then rewritten with `--report-only`.",
        "",
        "### Preference agreement (implicit reward = log-likelihood of the response after the chat prompt)",
        "",
        "| data | n | acc (summed logprob) | acc (per token) |",
        "|---|---|---|---|",
    ]
    for key, label in (("hh", "HH-RLHF harmless-base test (seeded subset of 2,312)"),
                       ("hhh", "built-in HHH pairs")):
        if key in results:
            m, dt, n = results[key]
            mm = m["metrics"]
            lines.append(f"| {label} | {n} | {fmt(mm.get('accuracy_sum'))} | {fmt(mm.get('accuracy_norm'))} |")
    if "hhh" in results:
        mm = results["hhh"][0]["metrics"]
        lines += ["", "Built-in pairs, RewardBench-style (section = subset accuracies weighted by count; score = "
                  "mean of sections), summed-logprob reward:", "",
                  "| section / subset | acc |", "|---|---|"]
        lines.append(f"| **score** | {100 * mm['score_accuracy_sum']['value']:.1f}% |")
        for k in sorted(mm):
            if k.endswith("/accuracy_sum") and (k.startswith("section/") or k.startswith("subset/")):
                lines.append(f"| {k.removesuffix('/accuracy_sum')} | {fmt(mm[k])} |")
    lines += ["", "### Truthfulness (TruthfulQA protocol: QA primer, summed log-likelihood)", "",
              "| data | n | MC1 | MC2 |", "|---|---|---|---|"]
    for key, label in (("tqa", "TruthfulQA mc_task.json" + (" (seeded subset of 817)" if args.tqa < 817 else "")),
                       ("truthfulness", "built-in truthfulness")):
        if key in results:
            m, dt, n = results[key]
            lines.append(f"| {label} | {n} | {fmt(m['metrics']['mc1'])} | {fmt(m['metrics']['mc2'])} |")
    lines += ["", "### Bias (BBQ: answer = most likely of the three options after `context / Question / Answer:`)", "",
              "| data | n | acc ambig | acc disambig | bias ambig | bias disambig |",
              "|---|---|---|---|---|---|"]
    for key, label in (("bbq", "BBQ Age + Religion + Disability_status"
                        + (" (seeded subset of 6,436)" if args.bbq < 6436 else "")),
                       ("bias", "built-in BBQ-structured items")):
        if key in results:
            m, dt, n = results[key]
            mm = m["metrics"]
            lines.append(f"| {label} | {n} | {fmt(mm['accuracy_ambig'])} | {fmt(mm['accuracy_disambig'])} | "
                         f"{fmt(mm['bias_ambig'], pct=False)} | {fmt(mm['bias_disambig'], pct=False)} |")
    if "bbq" in results:
        mm = results["bbq"][0]["metrics"]
        cats = sorted({k.split("/")[1] for k in mm if k.startswith("category/")})
        for c in cats:
            n_c = mm[f'category/{c}/accuracy_ambig']['n'] + mm[f'category/{c}/accuracy_disambig']['n']
            lines.append(f"| BBQ {c} | {n_c} "
                         f"| {fmt(mm[f'category/{c}/accuracy_ambig'])} | {fmt(mm[f'category/{c}/accuracy_disambig'])} "
                         f"| {fmt(mm[f'category/{c}/bias_ambig'], pct=False)} "
                         f"| {fmt(mm[f'category/{c}/bias_disambig'], pct=False)} |")
    lines += ["", "Time per suite (wall seconds on the shared CPU; model calls = log-likelihood requests that "
              "missed the response cache, so a suite with fewer calls than requests reused earlier results):", ""]
    lines += [f"- {k}: {v['n']} items, {v['seconds']:.0f} s, {v['model_calls']} model calls"
              for k, v in stored.items()]
    if "stereo" in results:
        m, dt, n = results["stereo"]
        lines += ["", f"Stereotype pairs (built-in, CrowS-Pairs style, n = {n}): the more stereotypical sentence is "
                  f"more likely in {fmt(m['metrics']['stereotype_preference'])} of pairs (0.5 = no preference)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
