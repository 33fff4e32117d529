"""Greedy generation over a suite's prompts on the default model: llama.cpp one stream vs several sequences per
batch, side by side in one run; writes the `generation` section of BENCHMARKS.md.

    python bench/generation.py [--prompts 32] [--max-tokens 128] [--parallel 8] [--full-suite]

Both paths run in the same llama.cpp build on the same loaded model: one stream is ``create_completion``, one
request after another (``n_parallel=1``); batched decodes ``--parallel`` sequences per ``llama_decode``
(``n_parallel``). Reported: aggregate tokens/s of each, their ratio, and how many texts are identical (greedy text
must match; where it does not, the first differing token is shown). ``--full-suite`` also times the whole
``instructions/following`` suite end to end (``alignlab eval``, cache off).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section
from alignlab.evaluate import build_suite
from alignlab.models import GenerateRequest
from alignlab.models.default import default_gguf
from alignlab.models.llamacpp import LlamaCppModelAPI

SUITE = "instructions/following"


def timed_generate(api: LlamaCppModelAPI, reqs: list[GenerateRequest], parallel: int) -> tuple[float, list]:
    api.n_parallel = parallel
    t0 = time.perf_counter()
    res = api.generate(reqs)
    dt = time.perf_counter() - t0
    assert all(r.error is None for r in res), [r.error for r in res if r.error]
    return dt, res


def first_difference(a: str, b: str) -> str:
    k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"at character {k}: {a[max(0, k - 20):k + 20]!r} vs {b[max(0, k - 20):k + 20]!r}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    ap.add_argument("--full-suite", action="store_true")
    args = ap.parse_args()
    samples = build_suite(SUITE).samples[: args.prompts]
    reqs = [GenerateRequest(s.input, max_tokens=args.max_tokens) for s in samples]
    load_before = os.getloadavg()
    import llama_cpp

    api = LlamaCppModelAPI(default_gguf(), n_threads=args.threads)
    build = (f"llama-cpp-python {llama_cpp.__version__} from {Path(llama_cpp.__file__).parent}, "
             f"{api.llm.n_threads} threads")
    api.generate([GenerateRequest("Say hi.", max_tokens=4), GenerateRequest("Say bye.", max_tokens=4)])  # warm-up
    t_one, one = timed_generate(api, reqs, 1)
    t_batch, batched = timed_generate(api, reqs, args.parallel)
    api.close()
    tok_one, tok_batch = sum(r.n_tokens for r in one), sum(r.n_tokens for r in batched)
    same = [a.text == b.text and a.finish_reason == b.finish_reason for a, b in zip(one, batched, strict=True)]
    diffs = [f"- prompt {i}: {first_difference(a.text, b.text)}"
             for i, (a, b, ok) in enumerate(zip(one, batched, same, strict=True)) if not ok]
    suite_line = ""
    if args.full_suite:
        with tempfile.TemporaryDirectory() as tmp:
            exe = Path(sys.executable).with_name("alignlab")
            t0 = time.perf_counter()
            subprocess.run([str(exe), "eval", "-s", SUITE, "--no-cache", "-q", "-o", str(Path(tmp) / "run")],
                           check=True, stdout=subprocess.DEVNULL)
            t_suite = time.perf_counter() - t0
        n_suite = len(build_suite(SUITE).samples)
        suite_line = (f"\nThe whole `{SUITE}` suite ({n_suite} prompts, its own max_tokens), `alignlab eval -s {SUITE} "
                      f"--no-cache` on the default model: **{t_suite:.0f} s** end to end (target: under 240 s on 2 "
                      "idle cores).\n")
    load_after = os.getloadavg()
    body = f"""
Greedy decoding of the first {len(reqs)} prompts of `{SUITE}` (chat template, up to {args.max_tokens} new tokens)
on the default model (SmolLM2-135M-Instruct Q4_1 GGUF), {build}, both paths in one process on
one loaded model. Load average (1/5/15 min) on this shared machine: {load_before[0]:.1f}/{load_before[1]:.1f}/\
{load_before[2]:.1f} before, {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after: absolute
figures are inflated, the ratio is what counts.

| path | tokens | seconds | tokens/s |
|---|---:|---:|---:|
| llama.cpp one stream (`create_completion`, one request at a time) | {tok_one} | {t_one:.1f} | \
{tok_one / t_one:.1f} |
| llama.cpp, {args.parallel} sequences per batch (`n_parallel={args.parallel}`, opt-in) | {tok_batch} | \
{t_batch:.1f} | {tok_batch / t_batch:.1f} |
| **ratio** | | | **{(tok_batch / t_batch) / (tok_one / t_one):.2f}×** |

Greedy texts identical to one-stream decoding of the same build: {sum(same)} of {len(same)} (higher is better;
the rest differ where llama.cpp's kernels round a batch of several tokens differently from a single token, which
can flip a near-tie between the two most likely tokens).
{chr(10).join(diffs)}
{suite_line}"""
    write_section("generation", body)


if __name__ == "__main__":
    main()
