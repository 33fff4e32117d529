"""The default model's values (level 3): Schwartz profile, Moral Foundations, value conflicts; writes the
`values-default` section of BENCHMARKS.md.

    .venv/bin/python bench/values_default.py [--out runs/bench-values-default] [--bootstrap 2000]

All three suites run in logprob mode (answers read from the probabilities of the options), through
alignlab.evaluate.run_eval, so the run directory holds the samples every figure can be recomputed from.
The target comparison uses the example profile shipped in suites/data, recomputed from the same samples.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import alignlab.evaluate.values.dilemmas  # noqa: F401 - registers values/conflicts
import alignlab.evaluate.values.surveys  # noqa: F401 - registers the surveys
from _report import write_section
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.values.scoring import survey_metrics
from alignlab.models import load_model
from alignlab.targets import MORAL_FOUNDATIONS, SCHWARTZ, load_profile

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "src/alignlab/suites/data/target_profile_example.yaml"


def fmt(m: dict | None, digits: int = 2) -> str:
    """``value [lo, hi]`` or an em dash."""
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m.get("ci") or [None, None]
    ci = f" [{lo:+.{digits}f}, {hi:+.{digits}f}]" if lo is not None else ""
    return f"{m['value']:+.{digits}f}{ci}"


def plain(m: dict | None, digits: int = 2) -> str:
    """Like ``fmt`` without signs (rates, raw means)."""
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m.get("ci") or [None, None]
    ci = f" [{lo:.{digits}f}, {hi:.{digits}f}]" if lo is not None else ""
    return f"{m['value']:.{digits}f}{ci}"


def _value(m: dict | None) -> float:
    return m["value"] if m and m.get("value") is not None else float("-inf")


def profile_table(metrics: dict, system, prefix: str) -> str:
    rows = ["| value | ipsatised (95% CI) | raw mean, 1–6 (95% CI) | items |", "|---|---|---|---|"]
    for v in system.values:
        m = metrics.get(f"{prefix}/{v.key}")
        rows.append(f"| {v.name} | {fmt(m)} | {plain(metrics.get(f'{prefix}/raw/{v.key}'))} | "
                    f"{m['n'] if m else 0} |")
    rows.append(f"| *respondent mean (MRAT)* | | {plain(metrics.get(f'{prefix}/raw/mean'))} | |")
    rows.append(f"| *acquiescence (mean agreement before reverse keys)* | | "
                f"{plain(metrics.get(f'{prefix}/acquiescence'))} | |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "runs/bench-values-default"))
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    suites = [build_suite("values/schwartz", bootstrap=args.bootstrap),
              build_suite("values/moral-foundations", bootstrap=args.bootstrap),
              build_suite("values/conflicts", bootstrap=args.bootstrap)]
    t0 = time.perf_counter()
    with load_model("default") as model:
        res = run_eval(model, suites, args.out, batch_size=args.batch_size, show_progress=False)
    wall = time.perf_counter() - t0
    sch = res["suites"]["values/schwartz"]
    mf = res["suites"]["values/moral-foundations"]
    con = res["suites"]["values/conflicts"]
    s, f, c = sch["metrics"], mf["metrics"], con["metrics"]

    recs = [json.loads(line) for line in (Path(args.out) / "samples/values/schwartz.jsonl").open()]
    target = load_profile(TARGET)
    tm = survey_metrics(recs, SCHWARTZ, prefix="schwartz", target=target, bootstrap=args.bootstrap)

    groups = ["| higher-order group | ipsatised (95% CI) |", "|---|---|"]
    groups += [f"| {g.name} ({', '.join(g.values)}) | {fmt(s.get(f'schwartz/group/{g.key}'))} |"
               for g in SCHWARTZ.groups]
    mf_groups = ["| foundation group | ipsatised (95% CI) |", "|---|---|"]
    mf_groups += [f"| {g.name} ({', '.join(g.values)}) | {fmt(f.get(f'moral_foundations/group/{g.key}'))} |"
                  for g in MORAL_FOUNDATIONS.groups]

    cons = ["| consistency | Schwartz | Moral Foundations |", "|---|---|---|"]
    for key, label in [("consistency/paraphrase_r", "paraphrase: r of expected agreement, original vs paraphrase"),
                       ("consistency/paraphrase_agreement", "paraphrase: same modal option"),
                       ("consistency/order_reversal_agreement", "scale order reversed: same modal option"),
                       ("consistency/order_reversal_r", "scale order reversed: r of expected scores"),
                       ("consistency/order_reversal_mad", "scale order reversed: mean abs. difference (points)"),
                       ("consistency/repeat_agreement", "repeat agreement (Σp², two temperature-1 samples agree)")]:
        cons.append(f"| {label} | {plain(s.get(key))} | {plain(f.get(key))} |")

    strengths = sorted(((v, c.get(f"conflicts/strength/{v.key}"), c.get(f"conflicts/win_rate/{v.key}"))
                       for v in SCHWARTZ.values), key=lambda t: -_value(t[1]))
    bt = ["| value | Bradley–Terry strength, log-odds (95% CI) | win rate (95% CI) | comparisons |",
          "|---|---|---|---|"]
    bt += [f"| {v.name} | {fmt(m)} | {plain(w)} | {m['n'] if m else 0} |" for v, m, w in strengths]

    resumed = (" (every sample was already in the run directory; figures recomputed from it)"
               if res["run"]["model_calls"] == 0 else "")
    def excludes_zero(m: dict | None) -> bool:
        lo, hi = (m or {}).get("ci") or [None, None]
        return lo is not None and (lo > 0 or hi < 0)

    sure = [v.name for v in SCHWARTZ.values if excludes_zero(s.get(f"schwartz/{v.key}"))]
    sure += [v.name for v in MORAL_FOUNDATIONS.values if excludes_zero(f.get(f"moral_foundations/{v.key}"))]
    top = max((abs(m["value"]) for _, m, _ in strengths if m), default=0.0)
    reading = (
        f"**Reading.** In the dilemmas the model picks the option shown first "
        f"{plain(c.get('conflicts/first_position_rate'))} of the time, so swapping the options flips the value it "
        f"picks (order consistency {plain(c.get('consistency/order'))}); the high paraphrase consistency only "
        f"says that rephrasing keeps the same letter. Counted over both orders the wins cancel, and every "
        f"strength is within ±{top:.2f} log-odds of 0: a position preference, not a value preference. In the "
        f"surveys the answers lean to agreement (acquiescence {plain(s.get('schwartz/acquiescence'))} on 1–6, "
        f"midpoint 3.5), paraphrases agree weakly (r {plain(s.get('consistency/paraphrase_r'))}) and "
        + (f"only {', '.join(sure)} has an ipsatised CI that excludes 0." if sure
           else "no value's or foundation's ipsatised CI excludes 0: the profile is flat at this model size.")
    )
    n_items = sum(1 for _ in (REPO / "src/alignlab/suites/data/schwartz_items.jsonl").open())
    body = f"""
Model `default` (SmolLM2-135M-Instruct; log-likelihoods on transformers), all suites in `mode=logprob`: the answer
is read from the probabilities of the options after one shared context, so no judge and no sampling are involved.
Each survey item is asked in 2 phrasings × 2 scale orders; each dilemma in 2 phrasings × 2 option orders.
CIs: 95% percentile bootstrap ({args.bootstrap} rounds) over items within each value (profiles) or over dilemmas
(strengths); Wilson or Fisher-z intervals for agreement rates and correlations. This invocation: {wall:.0f} s
wall, {res['run']['model_calls']} model calls{resumed}.

{reading}

### Schwartz value profile (circumplex order; {n_items} items, {sch['n']} samples, {sch['n_errors']} errors)

Ipsatised = value mean minus the respondent's mean over all items: above 0 ranks above the model's average value.

{profile_table(s, SCHWARTZ, 'schwartz')}

{chr(10).join(groups)}

### Moral Foundations ({mf['n']} samples, {mf['n_errors']} errors)

{profile_table(f, MORAL_FOUNDATIONS, 'moral_foundations')}

{chr(10).join(mf_groups)}

### Consistency

{chr(10).join(cons)}

### Distance to the example target profile (`suites/data/target_profile_example.yaml`, ipsatised)

| metric | value (95% CI) |
|---|---|
| target/distance (Euclidean, 10 values) | {plain(tm.get('target/distance'))} |
| target/correlation (Pearson) | {fmt(tm.get('target/correlation'))} |
| target/spearman | {fmt(tm.get('target/spearman'))} |

### Value conflicts (45 dilemmas, one per pair of values; {con['n']} samples, {con['n_errors']} errors)

Strengths are Bradley–Terry log-odds (mean 0) over fractional wins (the probability of each option, renormalised
over A/B), with a weak prior (precision 0.1).

{chr(10).join(bt)}

| consistency | value (95% CI) |
|---|---|
| same value chosen when options swap places | {plain(c.get('consistency/order'))} |
| same value chosen when the dilemma is rephrased | {plain(c.get('consistency/paraphrase'))} |
| option shown first picked (0.5 = no position bias) | {plain(c.get('conflicts/first_position_rate'))} |
"""
    write_section("values-default", body)


if __name__ == "__main__":
    main()
