"""The default model on ``values/opinions`` (logprob mode, options in original and reversed order): similarity to
the SYNTHETIC populations, position bias and the dimension profile; writes the `opinions-default` section of
BENCHMARKS.md.

    .venv/bin/python bench/opinions_default.py [--out runs/bench-opinions-default] [--limit N] [--bootstrap 2000]
        [--cache] [--no-write]

The populations in the built-in table are fictional and their numbers synthetic, so the similarity figures
exercise the pipeline, not the model's real-world alignment; the position-bias figures are about the model itself.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import alignlab.evaluate.values.opinions  # noqa: F401 - registers values/opinions
from _report import write_section
from alignlab.evaluate import build_suite, run_eval
from alignlab.evaluate.values.cultural import HOFSTEDE
from alignlab.models import load_model

REPO = Path(__file__).resolve().parent.parent
SUITE = "values/opinions"


def fmt(m: dict | None, digits: int = 3) -> str:
    """``value [lo, hi]`` or an em dash."""
    if not m or m.get("value") is None:
        return "—"
    lo, hi = m.get("ci") or [None, None]
    ci = f" [{lo:.{digits}f}, {hi:.{digits}f}]" if lo is not None else ""
    return f"{m['value']:.{digits}f}{ci}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "runs/bench-opinions-default"))
    ap.add_argument("--limit", type=int, default=None, help="first N items only (a quick check)")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--cache", action="store_true", help="reuse cached model answers (the wall time then means little)")
    ap.add_argument("--no-write", action="store_true", help="print the section instead of writing BENCHMARKS.md")
    args = ap.parse_args()

    suite = build_suite(SUITE, orders="original+reversed", bootstrap=args.bootstrap,
                        **({"limit": args.limit} if args.limit else {}))
    t0 = time.perf_counter()
    with load_model("default", cache=args.cache) as model:
        res = run_eval(model, [suite], args.out, batch_size=args.batch_size, show_progress=False)
    wall = time.perf_counter() - t0
    s = res["suites"][SUITE]
    m = s["metrics"]
    items = len({x.metadata["item"] for x in suite.samples})

    pops = sorted((k.split("/", 1)[1] for k in m if k.startswith("similarity/")),
                  key=lambda p: m[f"rank/{p}"]["value"] if f"rank/{p}" in m else 99)
    sim = ["| rank | population (SYNTHETIC) | similarity = 1 − JS distance (95% bootstrap CI over items) | items |",
           "|---|---|---|---|"]
    sim += [f"| {m.get(f'rank/{p}', {}).get('value', '—')} | {p} | {fmt(m[f'similarity/{p}'])} | "
            f"{m[f'similarity/{p}']['n']} |" for p in pops]
    pb = ["| position-bias figure (original vs reversed option order) | value (95% CI) | items |", "|---|---|---|",
          f"| mean JS distance between the two orders' distributions | {fmt(m.get('position_bias/js_distance'))} | "
          f"{m.get('position_bias/js_distance', {}).get('n', 0)} |",
          f"| share of items whose most likely option flips | {fmt(m.get('position_bias/argmax_flip_rate'))} | "
          f"{m.get('position_bias/argmax_flip_rate', {}).get('n', 0)} |",
          f"| P(first listed option) − 1/k, averaged over samples | "
          f"{fmt(m.get('position_bias/first_option_excess'))} | "
          f"{m.get('position_bias/first_option_excess', {}).get('n', 0)} |"]
    dims = ["| dimension | model score 0–100 (95% CI) | items |", "|---|---|---|"]
    dims += [f"| {name} (`{d}`) | {fmt(m.get(f'dimension/{d}'), 1)} | {m.get(f'dimension/{d}', {}).get('n', 0)} |"
             for d, name in HOFSTEDE.items() if f"dimension/{d}" in m]
    cult = ["| population (SYNTHETIC) | r with its dimension scores (95% CI) | mean abs. difference (points) |",
            "|---|---|---|"]
    cult += [f"| {p} | {fmt(m.get(f'culture/{p}/correlation'), 2)} | {fmt(m.get(f'culture/{p}/distance'), 1)} |"
             for p in pops if f"culture/{p}/correlation" in m]
    body = "\n".join([
        f"The default model (SmolLM2-135M-Instruct) on `{SUITE}`, logprob mode: P(option) from the log-likelihood "
        "of each option letter after one shared prompt, renormalised over the options; every item asked with its "
        f"options in original and reversed order. {items} items, {s['n']} samples, {s['n_errors']} errors, "
        f"{wall:.0f} s wall (model load included; {'cached answers' if args.cache else 'no cache'}), "
        f"bootstrap {args.bootstrap}.",
        "",
        "**The populations are fictional and their answer shares and dimension scores SYNTHETIC** "
        "(`suites/data/opinion_populations_synthetic.yaml`): the similarity figures show the pipeline working, "
        "not how the model relates to any real country. Run `values/globalopinionqa` for real populations.",
        "",
        "Position bias:",
        "",
        *pb,
        "",
        "Similarity to each population (the model's distribution averaged over the two orders):",
        "",
        *sim,
        "",
        "Dimension profile (expected option position between the poles, items averaged):",
        "",
        *dims,
        "",
        *cult,
    ])
    if args.no_write:
        print(body)
    else:
        write_section("opinions-default", body)
        print(body)


if __name__ == "__main__":
    main()
