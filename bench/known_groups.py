"""Known-groups validity of the value surveys for the default model: does a system prompt that states a value
priority move the measured profile toward it? Writes the `known-groups` section of BENCHMARKS.md.

    .venv/bin/python bench/known_groups.py [--suite values/schwartz ...] [--orders 1] [--out runs/bench-known-groups]

Both instruments by default (Schwartz: one persona per higher-order group; Moral Foundations: one per foundation),
one sub-section each.

Runs the survey with ``known_groups=true`` (alignlab's personas, suites/data/value_personas.yaml) through
alignlab.evaluate.run_eval, so the run directory holds every sample and a killed run resumes. The plain survey
(the model's own profile, in the `values-default` section) is left out here: only the neutral and persona
conditions are asked. ``--orders 1`` lists the scale in one order (persona and neutral share it, so the paired
difference cancels the order bias); ``--paraphrases`` asks the paraphrases too.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _report import write_section
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.metric_info import explain_gate
from alignlab.evaluate.values.known_groups import load_personas
from alignlab.models import load_model
from alignlab.targets import get_system

REPO = Path(__file__).resolve().parent.parent


def fmt(m: dict | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m["ci"]
    return f"{m['value']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", action="append", help="a survey suite (repeat; default: Schwartz and Moral "
                    "Foundations)")
    ap.add_argument("--out", default=str(REPO / "runs/bench-known-groups"))
    ap.add_argument("--orders", type=int, choices=(1, 2), default=1)
    ap.add_argument("--paraphrases", action="store_true")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--cache", default=None,
                    help="response cache file (default: the user's; a new file gives a cold-cache wall time)")
    args = ap.parse_args()
    lines: list[str] = []
    for name in args.suite or ["values/schwartz", "values/moral-foundations"]:
        lines += [f"### {name}", "", *instrument(name, args), ""]
    write_section("known-groups", "\n".join(lines).rstrip())


def instrument(name: str, args: argparse.Namespace) -> list[str]:
    """Run one survey's known-groups check on the default model; its lines for the section."""
    suite = build_suite(name, known_groups=True, paraphrases=args.paraphrases,
                        order_reversal=args.orders == 2, bootstrap=args.bootstrap)
    suite.samples = [s for s in suite.samples if "condition" in s.metadata]
    prefix = suite.name.split("/")[1].replace("-", "_")
    system = get_system(prefix)
    personas = load_personas(system)
    n_items = len({s.metadata["item"] for s in suite.samples})
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with load_model("default", cache=args.cache or True) as model:
        res = run_eval(model, [suite], Path(args.out) / prefix, batch_size=args.batch_size, show_progress=True)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    s = res["suites"][suite.name]
    m = s["metrics"]
    det = m.get("known_groups/detected", {})

    detected = sum(1 for p in personas.personas if m.get(f"known_groups/{p.key}", {}).get("verdict") == "detected")
    lines = [
        f"Model `default` (SmolLM2-135M-Instruct; option log-likelihoods on transformers), suite `{suite.name}` with "
        f"`known_groups=true`: {n_items} items × {1 + args.paraphrases} phrasing(s) × {args.orders} scale order(s), "
        f"asked under a neutral system prompt and under each of {len(personas.personas)} personas "
        f"(`suites/data/value_personas.yaml`): {s['n']} samples, {s['n_errors']} errors. The plain survey (no "
        "persona) is left out; the model's own profile is in `values-default`.",
        "",
        "Effect = change of a value's ipsatised score (1–6 scale points, centred on the respondent's mean) from the "
        "neutral condition, paired over items; a persona's effect is the mean over the values it puts first. "
        f"95% CIs: paired percentile bootstrap over items within each value ({args.bootstrap} rounds). Detected = "
        "CI above 0.",
        "",
        f"Wall time {wall / 60:.1f} min for {res['run']['model_calls']} model calls (cache misses); load average "
        f"{load_before:.1f} at the start and {load_after:.1f} at the end on {os.cpu_count()} cores"
        + (" (a shared machine: the time says nothing about speed)." if max(load_before, load_after)
           > (os.cpu_count() or 1) else "."),
        "",
        f"**Verdict**: {detected} of {len(personas.personas)} induced priorities detected "
        f"(share {det.get('value', 0):.2f}, Wilson CI [{det['ci'][0]:.2f}, {det['ci'][1]:.2f}]). "
        + ("The profile is interpretable for this model." if det.get("value") == 1 else
           "Where a stated priority does not show, this survey's profile of this model is not interpretable: the "
           "instrument cannot see that value in it."),
        "",
        "| persona | values it puts first | effect on them [95% CI] | verdict |",
        "|---|---|---|---|",
    ]
    for p in personas.personas:
        e = m.get(f"known_groups/{p.key}")
        lines.append(f"| {p.key} | {', '.join(p.values)} | {fmt(e)} | {(e or {}).get('verdict', '—')} |")
    lines += ["", "Effect of each persona on every value (rows: values; the persona's own values in bold):", "",
              "| value | " + " | ".join(p.key for p in personas.personas) + " |",
              "|---|" + "---|" * len(personas.personas)]
    for v in system.keys:
        cells = []
        for p in personas.personas:
            cell = fmt(m.get(f"known_groups/{p.key}/{v}"))
            cells.append(f"**{cell}**" if v in p.values else cell)
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    for gate in s.get("reliability") or []:
        if "known_groups" in str(gate.get("metric", "")):
            lines += ["", "Reliability gate in `results.json` (what the report reads; a failed gate greys the profile "
                      "as not interpretable): " + (f"{gate['metric']} passed." if gate.get("passed") else
                                                   explain_gate(gate))]
    return lines


if __name__ == "__main__":
    main()
