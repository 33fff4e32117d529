"""The default model on the public Level-3 suites at full size: HarmBench, StrongREJECT, ETHICS (five subsets) and
Anthropic's persona statements.

    python bench/level3_public.py --data-dir ../shared/data --out /tmp/level3-public [--max-tokens 32]

Generation suites (HarmBench, StrongREJECT) are answered greedily (llama.cpp), cut at ``--max-tokens``, and
labelled by the offline rule-based refusal classifier; no judge (the default model as its own StrongREJECT judge
would be a 135M model grading itself, so the rubric score is left for a run with ``--judge``). Log-likelihood
suites go through transformers' batched scoring. The section is rewritten after each suite, so a run cut short leaves
the suites it finished, and says which are missing. Each suite's table is also kept under ``--out``
(``parts/``), so a later run of some suites (``--suites a,b``) rewrites theirs and keeps the others'.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from alignlab.data import set_data_dir  # noqa: E402
from alignlab.evaluate import build_suite, run_eval  # noqa: E402
from alignlab.models import load_model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SUITES = ("values/ethics-justice", "values/harmbench", "values/strongreject", "values/ethics-deontology",
          "values/ethics", "values/ethics-virtue", "values/ethics-utilitarianism", "values/anthropic-persona")
SHOWN = {
    "values/harmbench": ["rule/refusal_rate", "rule/full_refusal_rate/unsafe", "rule/partial_refusal_rate/unsafe",
                         "rule/refusal_rate/by_functional/standard", "rule/refusal_rate/by_functional/contextual",
                         "excluded/copyright"],
    "values/strongreject": ["rule/refusal_rate", "rule/full_refusal_rate/unsafe",
                            "rule/partial_refusal_rate/unsafe"],
    "values/ethics": ["accuracy", "balanced_accuracy", "accuracy_calibrated", "accuracy/acceptable",
                      "accuracy/not_acceptable", "accuracy/by_category/short", "accuracy/by_category/long"],
    "values/ethics-utilitarianism": ["accuracy"],
}
LABELLED = ["accuracy", "balanced_accuracy", "exact_match", "accuracy/no", "accuracy/yes"]


def spread(samples: list[Any], limit: int) -> list[Any]:
    """About ``limit`` items spread evenly over the file, keeping an ETHICS group or a persona statement's two
    orders together (the grouped metrics need whole groups)."""
    def key(s: Any) -> Any:
        m = s.metadata
        return m.get("group", (m.get("persona"), m.get("statement")) if "persona" in m else s.id)

    keys = list(dict.fromkeys(key(s) for s in samples))
    per_key = len(samples) / len(keys)
    step = max(1, round(len(keys) / max(1, limit / per_key)))
    step |= 1  # an odd stride: the persona files alternate Yes- and No-keyed statements, an even one takes one kind
    keep = set(keys[::step])
    return [s for s in samples if key(s) in keep]


def fmt(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m.get("ci") or [None, None]
    ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None else ""
    value = m["value"]
    return (f"{value:.3f}" if isinstance(value, float) else str(value)) + f"{ci} (n={m['n']})"


def chance(res: dict[str, Any], key: str) -> str:
    declared = (res["metrics"].get(key) or {}).get("declared") or {}
    c = declared.get("chance")
    return "—" if c is None else f"{c:.4g}"


def table(name: str, res: dict[str, Any], seconds: float, load: tuple[float, float], calls: int) -> str:
    m = res["metrics"]
    keys = SHOWN.get(name) or (LABELLED if name != "values/anthropic-persona" else sorted(
        k for k in m if k.startswith(("endorsement/", "order_agreement")) and k.count("/") <= 1)
        + [k for k in ("yes_rate", "minority_answer_rate") if k in m])
    rows = [f"### {name} — {res['n']} items, {seconds:.0f} s, {res['n_errors']} errors, {calls} model requests "
            f"(load average {load[0]:.1f} before, {load[1]:.1f} after)\n",
            "| metric | value [95% CI] (n) | chance | better |", "|---|---|---|---|"]
    for k in keys:
        declared = (m.get(k) or {}).get("declared") or {}
        rows.append(f"| {k} | {fmt(m.get(k))} | {chance(res, k)} | {declared.get('direction', '—')} |")
    for gate in res.get("reliability") or []:
        rows.append(f"\nReliability gate: {gate['metric']} ≥ {gate['at_least']}: "
                    + ("passed." if gate["passed"] else f"FAILED — the rates it covers are not interpretable: "
                       f"{gate['reason']}."))
    return "\n".join(rows) + "\n"


def compose(header: str, store: Path) -> str:
    """The section: every suite's stored table in SUITES order, then the suites with none (or only a subset)."""
    parts, missing, partial = [], [], []
    for name in SUITES:
        f = store / f"{name.replace('/', '_')}.json"
        if not f.is_file():
            missing.append(name)
            continue
        stored = json.loads(f.read_text())
        parts.append(stored["text"])
        if not stored["full"]:
            partial.append(name)
    tail = ""
    if missing:
        tail += f"\n_Not run yet at any size: {', '.join(missing)}._\n"
    if partial:
        tail += f"\n_Run on a spread subset only (full size still owed): {', '.join(partial)}._\n"
    return header + "\n" + "\n".join(parts) + tail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--out", default="/tmp/alignlab-level3-public")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--limit", type=int, default=0,
                    help="log-likelihood items per suite, spread over the file, whole ETHICS groups and persona "
                         "statements (0: all)")
    ap.add_argument("--limit-generate", type=int, default=0, help="prompts per generation suite (0: all)")
    args = ap.parse_args()
    set_data_dir(args.data_dir)
    names = args.suites.split(",")

    t0 = time.perf_counter()
    model = load_model("default", batch_size=args.batch_size, cache=False)
    header = (f"Default model (SmolLM2-135M-Instruct as `alignlab eval` runs it: llama.cpp generates, transformers "
              f"scores; CPU; loaded in {time.perf_counter() - t0:.0f} s), "
              f"every public Level-3 suite from `--data-dir` (the pinned files of `alignlab.data.public_sources()`), "
              + "at full size unless a suite says it ran a spread subset. "
              + f"HarmBench and StrongREJECT: greedy answers cut at {args.max_tokens} tokens (the suites' "
              "default is 128; the refusal rules read a reply's opening, so a short cut can miss only a late "
              "refusal), labelled by alignlab's rule-based refusal classifier; **no judge**, so StrongREJECT's "
              "rubric score is not reported (the default model grading itself would be a 135M judge; `alignlab "
              "eval --judge SPEC` gives it). ETHICS and persona: log-likelihood of the answers, batches of "
              f"{args.batch_size}. Refusal rates have no chance level (refusing everything scores 1). Wall times "
              "are per suite, with the load average before and after it (above 2 on 2 cores: the machine was "
              "shared and the time is inflated). 95% CIs: Wilson for rates.\n")
    store = Path(args.out) / "parts"
    store.mkdir(parents=True, exist_ok=True)
    for name in names:
        params: dict[str, Any] = {"max_tokens": args.max_tokens} if name in SHOWN and "ethics" not in name else {}
        suite = build_suite(name, **params)
        limit = args.limit_generate if "generate" in suite.requires else args.limit
        full = len(suite.samples)
        if limit:
            suite.samples = spread(suite.samples, limit)
        run_dir = Path(args.out) / name.replace("/", "_")
        samples_dir = run_dir / "samples"
        journal = samples_dir / f"{name}.jsonl.partial"
        earlier = sum(1 for _ in journal.open(encoding="utf-8")) if journal.is_file() else 0
        saved = store / f"{name.replace('/', '_')}.json"
        # A suite answered in full before is only rescored (0 model requests): keep that pass's time in the header.
        answered_before = (samples_dir / f"{name}.jsonl").is_file() and saved.is_file()
        before_header = next((line for line in json.loads(saved.read_text())["text"].splitlines()
                              if line.startswith("### ")), None) if answered_before else None
        load_before, calls, t1 = os.getloadavg()[0], model.model_calls, time.perf_counter()
        res = run_eval(model, [suite], run_dir, show_progress=True,
                       batch_size=args.batch_size)["suites"][name]
        seconds = time.perf_counter() - t1
        part = (f"_{name}: a spread subset, {len(suite.samples)} of {full} items (not full size)._\n"
                if len(suite.samples) < full else "")
        rows = table(name, res, seconds, (load_before, os.getloadavg()[0]), model.model_calls - calls)
        if before_header and model.model_calls == calls:
            rows = before_header + "\n" + rows.split("\n", 1)[1] + (
                "\nMetrics recomputed from that pass's stored answers by the current code (0 model requests, "
                f"{seconds:.0f} s).\n")
        part += rows
        if earlier:
            part += (f"\nResumed: {earlier} of {len(suite.samples)} items were answered by an earlier, interrupted "
                     "pass (kept in the run's journal); the wall time and model requests above are this pass's.\n")
        part += (f"\nRun by `python bench/level3_public.py {' '.join(sys.argv[1:])}` on "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n")
        full_size = len(suite.samples) == full
        saved.write_text(json.dumps({"text": part, "full": full_size}))
        write_section("level3-public", compose(header, store))
    model.close()


if __name__ == "__main__":
    main()
