"""The default model on IFBench's 300 test prompts; writes the `ifbench-default` section of BENCHMARKS.md.

    .venv/bin/python bench/ifbench_default.py [--data-dir ../shared/data] [--out DIR] [--max-tokens 256] [--limit N]

Greedy generation through ``alignlab.evaluate.run_eval`` with a response cache of its own under ``--out``: the
first run generates (its wall time is the model's time, recorded in ``--out/timing.json``); a rerun after a checker
changes re-scores the cached responses and reports the first run's generation time, saying so. The chance
reference re-scores every prompt against the response the model gave to the next prompt (a fluent answer written
without this prompt's constraints): how often the constraints are met by accident.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from _report import write_section
from alignlab.data import set_data_dir
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.instructions.ifbench import UNSUPPORTED, follows
from alignlab.evaluate.instructions.ifeval import score_response
from alignlab.evaluate.rundir import RunDir
from alignlab.evaluate.stats import mean_ci
from alignlab.models import load_model

SHOWN = ["prompt_level_strict", "prompt_level_loose", "inst_level_strict", "inst_level_loose"]


def _fmt(m: dict | None) -> str:
    if not m or m.get("value") is None:
        return "— | — | 0"
    lo, hi = m["ci"]
    return f"{m['value'] * 100:.1f}% | [{lo * 100:.1f}, {hi * 100:.1f}] | {m['n']}"


def _shifted_chance(records: list[dict]) -> dict[str, dict]:
    """Prompt-level strict/loose when each prompt is scored against the next prompt's response."""
    ok = [r for r in records if r.get("error") is None]
    strict, loose = [], []
    for i, r in enumerate(ok):
        other = ok[(i + 1) % len(ok)]["output"] or ""
        md = r["metadata"]
        s = score_response(md["instruction_id_list"], md["kwargs"], other, check=follows).scores()
        strict.append(s["prompt_level_strict"])
        loose.append(s["prompt_level_loose"])
    return {"prompt_level_strict": mean_ci(strict), "prompt_level_loose": mean_ci(loose)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path("/tmp/alignlab-ifbench-default"))
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--first", type=int, default=None, help="only the first N prompts, in file order")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="stop after the 10-prompt chunk that passes this many seconds (a stated subset)")
    args = ap.parse_args()
    set_data_dir(args.data_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    timing_path = args.out / "timing.json"

    suite = build_suite("instructions/ifbench", max_tokens=args.max_tokens)
    total = min(args.first or len(suite.samples), len(suite.samples))
    run_dir = args.out / f"run-{int(time.time())}"
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    calls = 0
    with load_model("default", cache=args.out / "cache") as model:
        info = model.info()
        # Prompts in file order, 10 at a time, so a time budget leaves a clean prefix; earlier chunks come back
        # from the response cache when a later one runs.
        k = 0
        while k < total:
            k = min(k + 10, total)
            res = run_eval(model, [replace(suite, samples=suite.samples[:k])], run_dir, batch_size=16,
                           show_progress=True)
            calls += res["run"]["model_calls"]
            if args.budget_s is not None and time.perf_counter() - t0 > args.budget_s:
                break
    secs = time.perf_counter() - t0
    load_after = os.getloadavg()
    cold = calls > 0
    if cold:
        timing = {"n": k, "max_tokens": args.max_tokens, "seconds": secs, "load_before": load_before,
                  "load_after": load_after, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        timing_path.write_text(json.dumps(timing))
    timing = json.loads(timing_path.read_text())
    if timing["n"] != k or timing["max_tokens"] != args.max_tokens:
        raise SystemExit(f"{timing_path} times {timing['n']} prompts at {timing['max_tokens']} tokens, not this run")

    s = res["suites"][suite.name]
    m = s["metrics"]
    records = [json.loads(line) for line in RunDir.of(run_dir).samples_path(suite.name).read_text().splitlines()
               if line.strip()]
    chance = _shifted_chance(records)
    rows = [f"| {name} | {_fmt(m.get(name))} | {_fmt(chance.get(name)) if name in chance else '— | — | —'} |"
            for name in SHOWN]
    per = sorted((k.split("/", 1)[1], v) for k, v in m.items() if k.startswith("loose/") and v.get("n"))
    followed = [f"{cid} {v['value'] * 100:.0f}% ({v['n']})" for cid, v in per if v["value"]]
    n_uns, n_inst = m["unsupported_instructions"]["value"], m["unsupported_instructions"]["n"]
    gen = (f"{timing['seconds']:.0f} s ({timing['seconds'] / max(s['n'], 1):.1f} s/prompt), measured on "
           f"{timing['date']} with the cache cold; load average {timing['load_before'][0]:.2f} before, "
           f"{timing['load_after'][0]:.2f} after (the 2 cores are shared with other work: a loaded machine)")
    scope = "every prompt" if k == 300 else f"the first {k} in file order, as the time budget allowed"
    body = "\n".join([
        f"Model: `default` — {info.backend}, fingerprint `{info.fingerprint[:19]}…`; greedy, up to "
        f"{args.max_tokens} new tokens (IFBench's own runs allow more; a 135M model rarely needs them). "
        f"Data: `{args.data_dir}/ifbench/IFBench_test.jsonl` (300 prompts, "
        f"{scope}). Judge: none — every verdict is a "
        "rule-based checker written for alignlab.",
        "",
        f"Wall time (model load + generation + scoring): {gen}." + ("" if cold else
                                                                    f" This run re-scored the cached responses "
                                                                    f"in {secs:.0f} s."),
        "",
        "| metric | value | 95% CI | n | chance reference (next prompt's response) | CI | n |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Unsupported constraints ({len(UNSUPPORTED)} of 58 ids: {', '.join(sorted(UNSUPPORTED))}): {n_uns} of "
        f"{n_inst} instructions, left out of every accuracy; {m['unscored_prompts']['value']} prompts had every "
        "checked instruction followed but an unsupported one, so they are out of the prompt-level figures.",
        "",
        "Constraints followed at least once (loose, n): " + (", ".join(followed) or "none") + ".",
        "",
        "Chance: IFBench has no chance level (the answers are free text). The reference column scores each prompt "
        "against the model's response to the next prompt: a fluent answer that ignores this prompt's constraints. "
        "A model follows instructions only insofar as it beats that column. CIs: Wilson intervals over prompts "
        "(prompt level) or over instructions (instruction level, treating a prompt's instructions as independent).",
    ])
    write_section("ifbench-default", body)


if __name__ == "__main__":
    main()
