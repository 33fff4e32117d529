"""Is a judge's pairwise verdict worth a win rate? Two checks of a judge, both orders, log-probability verdicts.

    python bench/judge_validity.py                       # the default model as judge, ../shared/data
    python bench/judge_validity.py --judge hf:PATH --hh 500

- **Known groups** (MT-Bench's 30 questions with GPT-4 reference answers, first turn): each question's own reference
  answer against the reference answer of the next question, which answers something else (the pairs of
  ``preferences/alpaca-winrate``'s in-run check, ``off_topic_answers``). Any judge worth asking
  prefers the answer to the question asked; the share it does so is its accuracy on a pair whose right verdict is
  not in doubt (chance 0.5).
- **People's choices** (the first ``--hh`` pairs of HH-RLHF harmless-base, test split): the judge's verdict between
  the reply people chose and the one they rejected, given the conversation. People chose the less harmful reply and
  the MT-Bench prompt asks for the more helpful one, so a good judge agrees well above chance but not always.

Each pair is judged twice, each answer shown first once; the soft verdict is the judge's probability for the
right (or people's) answer averaged over the two orders, which cancels a lean towards one position. Reported: the
mean soft verdict, the share of pairs it gets right (> 0.5) with a Wilson interval, and the mean probability the
judge gives the first-shown answer (0.5 = no position bias). Writes section ``judge-validity`` of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _report import write_section  # noqa: E402
from refusal_xstest import wilson  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def transcript(messages: list) -> str:
    """A conversation as one question for the single-question judge prompt."""
    who = {"user": "User", "assistant": "Assistant"}
    return "\n\n".join(f"{who.get(m.role, m.role)}: {m.content}" for m in messages)


def judge_pairs(judge, pairs: list[tuple[str, str, str]]) -> dict:  # noqa: ANN001
    """``pairs`` of (question, right answer, other answer) → the checks' figures."""
    from alignlab.evaluate.judges import combine_weights, pairwise_verdict_prompt

    prompts = [p for q, right, other in pairs
               for p in (pairwise_verdict_prompt([q], [right], [other]),
                         pairwise_verdict_prompt([q], [other], [right]))]
    t0 = time.perf_counter()
    weights = judge.weigh(prompts)
    seconds = time.perf_counter() - t0
    errors = [w.error for w in weights if w.error]
    if errors:
        raise SystemExit(f"{len(errors)} judge requests failed, first: {errors[0]}")
    soft, first = [], []
    for i in range(len(pairs)):
        shown_first, shown_second = weights[2 * i].p_a, weights[2 * i + 1].p_a
        soft.append(combine_weights(shown_first, shown_second)[0])
        first.append((shown_first + shown_second) / 2)
    right = sum(s > 0.5 for s in soft)
    lo, hi = wilson(right, len(pairs))
    return {"n": len(pairs), "soft": sum(soft) / len(soft), "right": right / len(pairs), "ci": (lo, hi),
            "first": sum(first) / len(first), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judge", default="default", help="model spec of the judge (needs log-likelihood scoring)")
    ap.add_argument("--hh", type=int, default=200, help="HH-RLHF pairs to judge")
    ap.add_argument("--data-dir", type=Path, default=SHARED)
    ap.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = ap.parse_args()

    from alignlab.data import iter_records, set_data_dir
    from alignlab.evaluate.judges import Judge
    from alignlab.evaluate.preferences.alpaca_winrate import off_topic_answers, read_references
    from alignlab.models import load_model

    set_data_dir(args.data_dir)
    load0 = os.getloadavg()[0]
    judge = Judge(load_model(args.judge, cache=False))
    refs = read_references("mt-bench")
    off_topic = off_topic_answers(refs)  # the suite's own check pairs
    known = [(s.metadata["instruction"], s.target, off_topic[s.id]) for s in refs if s.id in off_topic]
    hh = []
    for rec in iter_records(str(args.data_dir / "hh_rlhf/harmless-base/test.jsonl.gz"), "hh-rlhf-chat"):
        hh.append((transcript(rec.prompt), rec.chosen[0].content, rec.rejected[0].content))
        if len(hh) == args.hh:
            break
    results = {}
    for name, pairs in (("known", known), ("hh", hh)):
        results[name] = r = judge_pairs(judge, pairs)
        print(f"{name}: right {r['right']:.3f} {r['ci']}, soft {r['soft']:.3f}, first {r['first']:.3f}, "
              f"{r['seconds']:.0f} s", flush=True)

    def row(label: str, r: dict) -> str:
        return (f"| {label} | {r['n']} | **{r['right']:.3f}** [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}] | {r['soft']:.3f} | "
                f"{r['first']:.3f} | {r['seconds']:.0f} s |")

    k = results["known"]
    valid = k["ci"][0] > 0.5
    body = "\n".join([
        f"Judge: `{args.judge}`, MT-Bench's pairwise prompt asking for the verdict alone; the verdict is the "
        "probability of `[[A]]` against `[[B]]` as its reply (`verdicts=logprob`), averaged over both orders. "
        "Chance 0.5 in both checks; higher is better; an unbiased judge gives the first-shown answer 0.5.",
        "",
        "| check | pairs | right (> 0.5) [95% CI] | mean soft verdict | P(first shown) | time |",
        "|---|---|---|---|---|---|",
        row("known groups: the answer to the question asked vs another question's (MT-Bench, GPT-4 answers)", k),
        row("people's choice: HH-RLHF harmless-base chosen vs rejected", results["hh"]),
        "",
        ("Reading: the judge tells an answer to the question asked from an answer to another question more often "
         "than chance, so its win rates carry some signal; check its agreement with people before trusting one."
         if valid else
         "Reading: **the judge cannot tell the answer to the question asked from an answer to another question** "
         "(its interval includes chance), so a win rate it gives is not interpretable, whatever its value."),
        "",
        f"Load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores.",
    ])
    print(body)
    if not args.no_write:
        write_section("judge-validity", body)


if __name__ == "__main__":
    main()
