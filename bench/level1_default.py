"""The default model on the instruction level's built-in suites; writes the `level1-default` section of BENCHMARKS.md.

    .venv/bin/python bench/level1_default.py [--out DIR] [--limit N] [--batch-size 16]

Suites: instructions/knowledge, instructions/reading (multiple choice by log-likelihood on transformers),
instructions/arithmetic, instructions/following, instructions/basics (generation, on llama.cpp when it imports).
Each suite runs through ``alignlab.evaluate.run_eval`` into one run directory, one call per suite so the section
can give each suite's wall time. The response cache is off, so the times are real model time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _report import write_section
from alignlab.evaluate import build_suite, run_eval
from alignlab.models import load_model

SUITES = ["instructions/knowledge", "instructions/reading", "instructions/arithmetic", "instructions/following",
          "instructions/basics"]
# Metrics worth a row, per suite, in order; the first is the suite's headline.
SHOWN = {
    "instructions/knowledge": ["accuracy", "accuracy_norm"],
    "instructions/reading": ["accuracy", "accuracy_norm"],
    "instructions/arithmetic": ["accuracy", "extraction_rate"],
    "instructions/following": ["prompt_level_strict", "prompt_level_loose", "inst_level_strict",
                               "inst_level_loose"],
    "instructions/basics": ["accuracy"],
}
CHANCE = {"instructions/knowledge": "25%", "instructions/reading": "25%"}


def _fmt(m: dict | None) -> tuple[str, str, str]:
    if not m or m.get("value") is None:
        return "—", "—", str((m or {}).get("n", 0))
    lo, hi = m.get("ci") or [None, None]
    ci = f"[{lo * 100:.1f}, {hi * 100:.1f}]" if lo is not None else "—"
    return f"{m['value'] * 100:.1f}%", ci, str(m.get("n"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="run directory (default: a new temp dir)")
    ap.add_argument("--limit", type=int, default=None, help="first N samples per suite (a quick look)")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="alignlab-level1-"))

    import alignlab.evaluate.tasks  # noqa: F401 - registers knowledge/arithmetic/reading until they are built-ins

    suites = [build_suite(name) for name in SUITES]
    rows, timings, categories = [], [], {}
    t_load = time.perf_counter()
    with load_model("default", cache=False) as model:
        info = model.info()
        load_s = time.perf_counter() - t_load
        for suite in suites:
            t0 = time.perf_counter()
            res = run_eval(model, [suite], out, limit=args.limit, batch_size=args.batch_size, show_progress=True)
            secs = time.perf_counter() - t0
            s = res["suites"][suite.name]
            timings.append((suite.name, s["n"], secs, s["n_errors"]))
            for i, metric in enumerate(SHOWN[suite.name]):
                value, ci, n = _fmt(s["metrics"].get(metric))
                head, chance = (f"`{suite.name}`", CHANCE.get(suite.name, "")) if i == 0 else ("", "")
                rows.append(f"| {head} | {metric} | {value} | {ci} | {n} | {chance} |")
            cats = {k.split("/", 1)[1]: v for k, v in s["metrics"].items() if k.startswith("accuracy/")}
            if cats:
                categories[suite.name] = cats

    lines = [
        f"Model: `default` — {info.backend}, fingerprint `{info.fingerprint[:19]}…`. Generation is greedy. "
        "Multiple-choice suites score each option's log-likelihood on transformers (the converted GGUF); "
        f"generative suites run on the generating engine named in the backend. Run directory: `{out}`"
        + (f"; first {args.limit} samples per suite." if args.limit else "; every sample."),
        "",
        "| suite | metric | value | 95% CI | n | chance |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Per category (accuracy, n):",
        "",
    ]
    for name, cats in categories.items():
        parts = [f"{c} {v['value'] * 100:.0f}% ({v['n']})" for c, v in cats.items() if v.get("value") is not None]
        lines.append(f"- `{name}`: " + ", ".join(parts))
    lines += ["", f"Model load {load_s:.1f} s. Wall time per suite (shared CPU, cache off):", "",
              "| suite | samples | seconds | samples/s | errors |", "|---|---|---|---|---|"]
    lines += [f"| `{n}` | {k} | {s:.1f} | {k / s:.2f} | {e} |" for n, k, s, e in timings]
    lines += ["", "CIs: Wilson intervals for 0/1 scores. `accuracy_norm` divides each option's log-likelihood by "
              "its length in characters. `extraction_rate`: replies in which a number was found at all."]
    write_section("level1-default", "\n".join(lines))


if __name__ == "__main__":
    main()
