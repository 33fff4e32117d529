"""The default model on safety and social norms: values/xstest (all 450), values/social-norms, values/safety.

    python bench/safety_default.py --out /tmp/safety-bench [--max-tokens 32] [--engine hf] [--xstest DIR]

Refusal is judged by the offline rule-based classifier (no judge). Answers are cut at ``--max-tokens``: the
rules read a reply's opening, so a short cut-off rarely changes full refusal vs compliance, but it can hide a
refusal that comes late (a partial refusal). The run directory resumes, and the response cache makes a rerun
free; the section is rewritten after each suite so a long run leaves figures behind as it goes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import alignlab.evaluate.values.norms  # noqa: E402,F401 - registers values/social-norms
import alignlab.evaluate.values.safety  # noqa: E402,F401 - registers values/safety and values/xstest
from _report import write_section  # noqa: E402
from alignlab.evaluate import build_suite, run_eval  # noqa: E402
from alignlab.models import Model, load_model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def fmt(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m.get("ci") or [None, None]
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
    return f"{m['value']:.3f}{ci} (n={m['n']})"


def safety_table(name: str, res: dict[str, Any], seconds: float) -> str:
    m = res["metrics"]
    rows = [f"### {name} — {res['n']} prompts, {seconds:.0f} s, {res['n_errors']} errors\n",
            "| metric | value [95% CI] (n) |", "|---|---|"]
    for key, label in (("rule/refusal_rate", "refusal rate on unsafe prompts (↑)"),
                       ("rule/over_refusal_rate", "over-refusal rate on safe prompts (↓)"),
                       ("rule/balanced", "balanced score = (refusal on unsafe + compliance on safe) / 2 (↑)"),
                       ("rule/full_refusal_rate/unsafe", "full refusal, unsafe"),
                       ("rule/partial_refusal_rate/unsafe", "partial refusal, unsafe"),
                       ("rule/full_refusal_rate/safe", "full refusal, safe"),
                       ("rule/partial_refusal_rate/safe", "partial refusal, safe")):
        rows.append(f"| {label} | {fmt(m.get(key))} |")
    rows += ["", "Refusal rate per prompt type (safe types: over-refusal; `contrast_*` / harm categories: refusal):",
             "", "| type | refusal rate [95% CI] (n) |", "|---|---|"]
    prefix = "rule/refusal_rate/by_type/"
    rows += [f"| {k[len(prefix):]} | {fmt(v)} |" for k, v in sorted(m.items()) if k.startswith(prefix)]
    return "\n".join(rows) + "\n"


def norms_table(res: dict[str, Any], seconds: float) -> str:
    m = res["metrics"]
    rows = [f"### values/social-norms — {res['n']} scenarios (log-likelihood), {seconds:.0f} s\n",
            "| metric | value [95% CI] (n) |", "|---|---|"]
    for key in ("accuracy", "balanced_accuracy", "accuracy_calibrated", "pair_accuracy", "rate_not_acceptable",
                "accuracy/acceptable", "accuracy/not_acceptable"):
        rows.append(f"| {key} | {fmt(m.get(key))} |")
    prefix = "accuracy/by_category/"
    rows += [f"| {k} | {fmt(v)} |" for k, v in sorted(m.items()) if k.startswith(prefix)]
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/alignlab-safety-bench")
    ap.add_argument("--xstest", default=str(REPO.parent / "shared" / "data" / "xstest"))
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--probe", type=int, default=32, help="prompts timed first to estimate the full run")
    ap.add_argument("--suites", default="xstest,social-norms,safety")
    ap.add_argument("--engine", default="auto", choices=("auto", "llamacpp", "hf"),
                    help="generating engine; hf batches prompts, which wins on a loaded CPU")
    ap.add_argument("--batch-size", type=int, default=32, help="prompts per batch (hf engine and the runner)")
    ap.add_argument("--no-cache", action="store_true", help="bypass the response cache, so times are real")
    args = ap.parse_args()

    model = load_model("default", engine=args.engine, batch_size=args.batch_size, cache=not args.no_cache)
    probe = build_suite("values/xstest", path=args.xstest, max_tokens=args.max_tokens)
    # Spread the probe over the file's types.
    probe.samples = probe.samples[:: max(1, len(probe.samples) // args.probe)][: args.probe]
    t0 = time.perf_counter()
    # The probe always reaches the model (no cache), so the section carries a real time even when the full run
    # below is answered from the cache.
    run_eval(Model(model.api), [probe], Path(args.out) / "probe", show_progress=False, batch_size=args.batch_size)
    per_prompt = (time.perf_counter() - t0) / max(len(probe.samples), 1)
    print(f"probe: {per_prompt:.1f} s per prompt at max_tokens={args.max_tokens}; 450 XSTest prompts ≈ "
          f"{450 * per_prompt / 60:.0f} min", flush=True)

    header = (f"Default model (SmolLM2-135M-Instruct, generation on {model.info().backend}); greedy, answers cut at "
              f"{args.max_tokens} tokens; refusal by alignlab's offline rule-based classifier "
              f"(`alignlab.evaluate.values.refusal`), no judge. Probe before the run: {per_prompt:.1f} s per "
              f"prompt, uncached, batches of {args.batch_size}; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores at the start (above the core count the machine was shared and times are "
              "inflated). Suite times below are 0 s where answers came from the "
              "response cache of an earlier identical run (see the model-request counts).\n")
    parts: list[str] = []
    for short in args.suites.split(","):
        name = f"values/{short}"
        params = {"path": args.xstest} if short == "xstest" else {}
        if short in ("xstest", "safety"):
            params["max_tokens"] = args.max_tokens
        suite = build_suite(name, **params)
        t0, calls = time.perf_counter(), model.model_calls
        res = run_eval(model, [suite], Path(args.out) / short, show_progress=True,
                       batch_size=args.batch_size)["suites"][name]
        seconds = time.perf_counter() - t0
        table = norms_table(res, seconds) if short == "social-norms" else safety_table(name, res, seconds)
        # A cached rerun takes no time; say how many requests reached the model so a reader can tell.
        parts.append(table + f"\nModel requests (cache misses): {model.model_calls - calls}.\n")
        pending = [s for s in args.suites.split(",") if f"values/{s}" not in " ".join(parts)]
        note = f"\n_Not yet run in this section: {', '.join(pending)}._\n" if pending else ""
        write_section("values-safety-default", header + "\n" + "\n".join(parts) + note)
    model.close()


if __name__ == "__main__":
    main()
