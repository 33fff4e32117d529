"""Greedy generation over `instructions/following` on the default model: llama.cpp one stream vs several sequences
per batch, side by side in one run; writes the `generation` section of BENCHMARKS.md (`generation-full-suite`
with ``--full-suite``).

    python bench/generation.py                 # first 32 prompts, 128 new tokens, 2 threads, n_parallel 4 and 8
    python bench/generation.py --full-suite [--max-tokens 256]
                                               # `alignlab eval` of the whole suite end to end, one stream
                                               # (n_parallel=1) and as the default model runs it, texts compared

All paths run in one process on one loaded model (same llama.cpp build, same threads): one stream is
``create_completion``, one request after another (``n_parallel=1``); batched decodes ``n_parallel`` sequences per
``llama_decode`` with continuous batching. Reported per path: tokens, wall seconds, tokens/s, process CPU seconds
(less inflated than wall time on a loaded machine), the ratio to one stream; and how many texts equal one-stream
decoding's, with, where one differs, its first differing token and the gap between the two candidates' logits at
that point in one-stream decoding (a near-tie is a gap of a few tenths of a nat).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import write_section
from alignlab.evaluate import build_suite
from alignlab.models import GenerateRequest, GenerateResult
from alignlab.models.default import PARALLEL, default_gguf
from alignlab.models.llamacpp import LlamaCppModelAPI

SUITE = "instructions/following"


def timed_generate(api: LlamaCppModelAPI, reqs: list[GenerateRequest], parallel: int) -> tuple[float, float, list]:
    api.n_parallel = parallel
    t0, c0 = time.perf_counter(), time.process_time()
    res = api.generate(reqs)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    assert all(r.error is None for r in res), [r.error for r in res if r.error]
    return dt, dc, res


def divergence(api: LlamaCppModelAPI, req: GenerateRequest, a: GenerateResult, b: GenerateResult) -> str:
    """First differing token of two texts (re-tokenized after the rendered prompt) and the logit gap between the
    two candidates there, from one-stream decoding of the common prefix."""
    llm = api.llm
    prompt = api.render(req.prompt, req.chat)
    ta = llm.tokenize((prompt + a.text).encode(), add_bos=False, special=True)
    tb = llm.tokenize((prompt + b.text).encode(), add_bos=False, special=True)
    k = next((i for i, (x, y) in enumerate(zip(ta, tb, strict=False)) if x != y), min(len(ta), len(tb)))
    if k >= min(len(ta), len(tb)):
        return "one text is a prefix of the other"
    llm.reset()
    llm.eval(ta[:k])
    ptr = llm._ctx.get_logits()  # the last position's logits
    logits = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(llm.n_vocab(),))
    top2 = np.sort(logits)[-2:]
    llm.reset()

    def piece(t: int) -> str:
        return llm.detokenize([t]).decode("utf-8", errors="replace")

    return (f"token {k - len(llm.tokenize(prompt.encode(), add_bos=False, special=True))}: {piece(ta[k])!r} vs "
            f"{piece(tb[k])!r}, logit gap {logits[ta[k]] - logits[tb[k]]:+.3f} (top-2 gap there "
            f"{top2[1] - top2[0]:.3f})")


def run_paths(api: LlamaCppModelAPI, reqs: list[GenerateRequest], parallels: list[int]) -> tuple[str, str]:
    t_one, c_one, one = timed_generate(api, reqs, 1)
    tok_one = sum(r.n_tokens for r in one)
    rows = [f"| llama.cpp one stream (`create_completion`, one request at a time) | {tok_one} | {t_one:.1f} | "
            f"{tok_one / t_one:.1f} | {c_one:.1f} | 1.00× | 1.00× | {len(one)} of {len(one)} |"]
    notes = []
    for p in parallels:
        t, c, res = timed_generate(api, reqs, p)
        tok = sum(r.n_tokens for r in res)
        same = [a.text == b.text and a.finish_reason == b.finish_reason for a, b in zip(one, res, strict=True)]
        rows.append(f"| llama.cpp, `n_parallel={p}` | {tok} | {t:.1f} | {tok / t:.1f} | {c:.1f} | "
                    f"**{(tok / t) / (tok_one / t_one):.2f}×** | {(tok / c) / (tok_one / c_one):.2f}× | "
                    f"{sum(same)} of {len(same)} |")
        diffs = [i for i, ok in enumerate(same) if not ok]
        notes += [f"- n_parallel={p}, prompt {i}: {divergence(api, reqs[i], one[i], res[i])}" for i in diffs[:8]]
        if len(diffs) > 8:
            notes.append(f"- n_parallel={p}: {len(diffs) - 8} more differ")
    table = ("| path | tokens | seconds | tokens/s | CPU s | tokens/s vs one stream (higher is better) | "
             "tokens per CPU-second vs one stream | texts equal to one stream |\n"
             "|---|---:|---:|---:|---:|---:|---:|---:|\n"
             + "\n".join(rows))
    return table, "\n".join(notes)


def eval_suite(suite: str, extra: list[str], out: Path) -> tuple[float, dict[str, str]]:
    """Wall time of `alignlab eval` on ``suite`` (no cache, a new process) and its texts by sample id."""
    cmd = [sys.executable, "-m", "alignlab.cli.main", "eval", "-s", suite, "--no-cache", "-q", "-o", str(out), *extra]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    texts = {}
    for path in (out / "samples").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            texts[rec["id"]] = rec["output"]
    return elapsed, texts


def full_suite(max_tokens: int | None) -> str:
    """The whole suite end to end, one stream vs the default model's batched decoding, same process start."""
    suite = SUITE if max_tokens is None else f"{SUITE}:max_tokens={max_tokens}"
    with tempfile.TemporaryDirectory() as tmp:
        t_one, one = eval_suite(suite, ["--model-arg", "n_parallel=1"], Path(tmp) / "one")
        t_def, dflt = eval_suite(suite, [], Path(tmp) / "default")
    same = sum(one[k] == dflt.get(k) for k in one)
    return (f"`alignlab eval -s {suite} --no-cache` end to end ({len(one)} prompts, generation and scoring, "
            f"process start included; target under 240 s on 2 idle cores):\n\n"
            f"| model | seconds | vs one stream (higher is better) | texts equal to one stream |\n"
            f"|---|---:|---:|---:|\n"
            f"| default, `--model-arg n_parallel=1` (one stream) | {t_one:.0f} | 1.00× | {len(one)} of {len(one)} |\n"
            f"| default (n_parallel={PARALLEL}) | {t_def:.0f} | **{t_one / t_def:.2f}×** | {same} of {len(one)} |\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="new tokens per prompt (default 128; with --full-suite the suite's own)")
    ap.add_argument("--parallel", default="4,8", help="n_parallel values to time against one stream")
    ap.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    ap.add_argument("--full-suite", action="store_true",
                    help="`alignlab eval` of the whole suite end to end, one stream vs the default model")
    args = ap.parse_args()
    parallels = [int(p) for p in args.parallel.split(",")]
    load_before = os.getloadavg()
    if args.full_suite:
        table = full_suite(args.max_tokens)
        load_after = os.getloadavg()
        write_section("generation-full-suite", f"""
{table}
Load average (1/5/15 min): {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} before, \
{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after (2 cores: above 2 the machine was shared).
""")
        return
    suite = build_suite(SUITE)
    max_tokens = args.max_tokens or 128
    reqs = [GenerateRequest(s.input, max_tokens=max_tokens) for s in suite.samples[: args.prompts]]
    import llama_cpp

    api = LlamaCppModelAPI(default_gguf(), n_threads=args.threads)
    build = (f"llama-cpp-python {llama_cpp.__version__}, {api.llm.n_threads} threads, "
             f"extra buffer types {'on' if api.extra_buffer_types else 'off'}")
    api.generate([GenerateRequest("Say hi.", max_tokens=4), GenerateRequest("Say bye.", max_tokens=4)])  # warm-up
    table, notes = run_paths(api, reqs, parallels)
    api.close()
    load_after = os.getloadavg()
    body = f"""
Greedy decoding of {len(reqs)} prompts of `{SUITE}` (chat template, up to {max_tokens} new tokens) on the default
model (SmolLM2-135M-Instruct Q4_1 GGUF), {build}, all paths in one process on one loaded model. Load average
(1/5/15 min): {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f} before, \
{load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} after (2 cores: above 2 the machine was shared and
wall times are inflated; CPU seconds less so).

{table}

Texts that differ from one-stream decoding (first differing token after re-tokenizing both texts; logit gap =
one-stream token's logit minus the batched token's in one-stream decoding of the common prefix):
{notes or "- none"}
"""
    write_section("generation", body)


if __name__ == "__main__":
    main()
