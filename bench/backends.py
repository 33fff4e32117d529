"""Backends side by side on the default model, in one run; writes the `backends` section of BENCHMARKS.md.

    .venv/bin/python bench/backends.py [--prompts 8] [--max-tokens 64] [--items 24]

1. Generation tokens/s: hf (the converted GGUF) at batch 1, hf batched, llama.cpp.
2. Log-likelihood items/s on 6-option Likert items: shared-context scoring vs naive (a full forward per option).
3. The openai backend with concurrency 16 vs 1 against a local server that adds 200 ms per request.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _report import write_section
from alignlab.models import GenerateRequest, LoglikelihoodRequest, load_model
from alignlab.models.default import default_gguf

REPO = Path(__file__).resolve().parent.parent
TOPICS = ["the sea", "mountains", "a library", "friendship", "rain", "a city at night", "bread", "the moon",
          "autumn", "a bicycle", "music", "gardens", "snow", "trains", "coffee", "the desert"]
SCALE = ["Strongly disagree", "Disagree", "Slightly disagree", "Slightly agree", "Agree", "Strongly agree"]
STATEMENTS = [
    "It is important to me to think up new ideas and be creative.", "I want to be rich and own expensive things.",
    "Living in secure surroundings matters a lot to me.", "I like to have a good time and enjoy life.",
    "It is important to help the people around me.", "Being very successful is important to me.",
    "I seek adventures and like to take risks.", "Behaving properly and avoiding wrong actions matters to me.",
    "I want to be in charge and tell others what to do.", "Caring for nature and the environment matters to me.",
    "Tradition and the customs of my family are important to me.", "I believe everyone should be treated equally.",
]
INSTRUCTIONS = (
    "You will read a statement about what matters to a person. Think about how much the statement describes "
    "you, as an assistant with your own priorities. There are no right or wrong answers; answer honestly and "
    "consistently. Use exactly one of the following options and nothing else: " + "; ".join(SCALE) + ". "
    "Consider the statement as a whole, not only one word of it, and answer for the general case rather than "
    "for an unusual situation. If you are unsure, choose the option closest to your typical view.\n\nStatement: "
)


def time_generate(spec: str, n: int, max_tokens: int, **options: object) -> tuple[float, int, float]:
    with load_model(spec, cache=False, **options) as model:
        model.generate([GenerateRequest("Say hi.", max_tokens=4)])  # warm-up: load weights, compile graphs
        reqs = [GenerateRequest(f"Write a short paragraph about {TOPICS[i % len(TOPICS)]}.", max_tokens=max_tokens)
                for i in range(n)]
        t0 = time.perf_counter()
        res = model.generate(reqs)
        dt = time.perf_counter() - t0
    assert all(r.error is None for r in res), [r.error for r in res if r.error]
    toks = sum(r.n_tokens for r in res)
    return toks / dt, toks, dt


def time_loglik(spec: str, items: int, shared: bool) -> tuple[float, float, list[float]]:
    with load_model(spec, cache=False, shared_context=shared, batch_size=8) as model:
        model.loglikelihood([LoglikelihoodRequest("Hi", " there")])
        reqs = [LoglikelihoodRequest([{"role": "user", "content": INSTRUCTIONS + STATEMENTS[i % len(STATEMENTS)]}],
                                     option) for i in range(items) for option in SCALE]
        t0 = time.perf_counter()
        res = model.loglikelihood(reqs)
        dt = time.perf_counter() - t0
    return items / dt, dt, [r.logprob for r in res]


def time_openai(n: int, concurrency: int, url: str) -> tuple[float, float]:
    with load_model(f"openai:fault-model@{url}", cache=False, concurrency=concurrency) as model:
        reqs = [GenerateRequest(f"question {i}", max_tokens=8) for i in range(n)]
        t0 = time.perf_counter()
        res = model.generate(reqs)
        dt = time.perf_counter() - t0
    assert all(r.error is None for r in res)
    return n / dt, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--items", type=int, default=24)
    ap.add_argument("--requests", type=int, default=64)
    args = ap.parse_args()
    gguf = default_gguf()
    rows = []
    gen = {}
    for label, spec, opts in [("hf, batch 1", f"gguf:{gguf}", {"batch_size": 1}),
                              ("hf, batch 8", f"gguf:{gguf}", {"batch_size": 8}),
                              ("llama.cpp", f"llamacpp:{gguf}", {})]:
        tps, toks, dt = time_generate(spec, args.prompts, args.max_tokens, **opts)
        gen[label] = tps
        rows.append(f"| generation | {label} | {tps:.1f} tokens/s | {toks} tokens in {dt:.2f} s |")
        print(rows[-1], flush=True)
    base = gen["hf, batch 1"]
    for label in ("hf, batch 8", "llama.cpp"):
        rows.append(f"| generation | {label} vs hf batch 1 | {gen[label] / base:.2f}× | |")

    shared_ips, shared_dt, lp_shared = time_loglik(f"gguf:{gguf}", args.items, shared=True)
    naive_ips, naive_dt, lp_naive = time_loglik(f"gguf:{gguf}", args.items, shared=False)
    diff = max(abs(a - b) for a, b in zip(lp_shared, lp_naive, strict=True))
    rows += [
        f"| log-likelihood, 6-option Likert | naive (one forward per option) | {naive_ips:.2f} items/s | "
        f"{args.items} items in {naive_dt:.2f} s |",
        f"| log-likelihood, 6-option Likert | shared context | {shared_ips:.2f} items/s | "
        f"{args.items} items in {shared_dt:.2f} s; max abs. difference from naive {diff:.1e} |",
        f"| log-likelihood, 6-option Likert | shared vs naive | {shared_ips / naive_ips:.2f}× | |",
    ]
    print(*rows[-3:], sep="\n", flush=True)

    sys.path.insert(0, str(REPO / "tests"))
    from fault_server import start_server, stop_server

    proc, url = start_server(mode="slow", delay=0.2)
    try:
        one_rps, one_dt = time_openai(args.requests, 1, url)
        many_rps, many_dt = time_openai(args.requests, 16, url)
    finally:
        stop_server(proc)
    rows += [
        f"| openai, 200 ms/request server | concurrency 1 | {one_rps:.2f} requests/s | "
        f"{args.requests} in {one_dt:.2f} s |",
        f"| openai, 200 ms/request server | concurrency 16 | {many_rps:.2f} requests/s | "
        f"{args.requests} in {many_dt:.2f} s |",
        f"| openai, 200 ms/request server | 16 vs 1 | {many_rps / one_rps:.2f}× | |",
    ]
    body = (
        f"Default model: SmolLM2-135M-Instruct (`{gguf.name}`); greedy decoding, up to {args.max_tokens} new tokens "
        f"for each of {args.prompts} prompts; the hf rows run the GGUF converted to fp32 transformers weights. "
        f"Likert items: {args.items} statements × 6 options after a ~150-token shared instruction, chat-rendered.\n\n"
        "| what | variant | result | detail |\n|---|---|---|---|\n" + "\n".join(rows)
    )
    write_section("backends", body)


if __name__ == "__main__":
    main()
