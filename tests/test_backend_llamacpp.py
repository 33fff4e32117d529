"""llamacpp:PATH on the real default GGUF: chat generation, determinism, stops, seeds, and scoring vs hf."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from alignlab.models import GenerateRequest, LoglikelihoodRequest
from alignlab.models._weights import file_sha256

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def llama(default_gguf_path: Path):  # noqa: ANN201 - LlamaCppModelAPI, imported lazily
    pytest.importorskip("llama_cpp")
    from alignlab.models.llamacpp import LlamaCppModelAPI

    api = LlamaCppModelAPI(default_gguf_path)
    yield api
    api.close()


@pytest.mark.ci
def test_chat_generation_is_deterministic_and_stops(llama) -> None:  # noqa: ANN001
    reqs = [GenerateRequest(QUESTION, max_tokens=24)] * 2
    first, second = llama.generate(reqs)
    assert first.error is None and first.text.strip()
    assert first.text == second.text
    [counted] = llama.generate([GenerateRequest("Count from 1 to 10, separated by commas.", max_tokens=40,
                                                stop=("5",))])
    assert counted.finish_reason == "stop" and "5" not in counted.text and "4" in counted.text
    [short] = llama.generate([GenerateRequest("Write a long story.", max_tokens=5)])
    assert (short.n_tokens, short.finish_reason) == (5, "length")
    assert llama.fingerprint() == "sha256:" + file_sha256(llama.path)


def test_seeded_sampling(llama) -> None:  # noqa: ANN001
    def req(seed: int) -> GenerateRequest:
        return GenerateRequest("Write a story.", max_tokens=20, temperature=0.9, seed=seed)

    a, b, c = llama.generate([req(1), req(1), req(2)])
    assert a.text == b.text != c.text


def test_render_matches_transformers(llama, default_hf_dir: Path) -> None:  # noqa: ANN001
    """The default model renders with llama.cpp and scores with transformers: both must read the same text."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(default_hf_dir)
    for prompt in (QUESTION, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]):
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        expected = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert llama.render(prompt, None) == expected


# Texts scored by both backends: likely and unlikely continuations of the same contexts, 1 to 14 tokens.
SCORED = [
    LoglikelihoodRequest("The capital of France is", " Paris", chat=False),
    LoglikelihoodRequest("The capital of France is", " banana", chat=False),
    LoglikelihoodRequest("The capital of France is", " Paris, a city of light", chat=False),
    LoglikelihoodRequest(QUESTION, "The capital of France is Paris."),
    LoglikelihoodRequest(QUESTION, "Bananas are yellow."),
    LoglikelihoodRequest("Water boils at", " 100 degrees Celsius at sea level.", chat=False),
    LoglikelihoodRequest("Once upon a time", " there was a little girl who lived near the forest.", chat=False),
    LoglikelihoodRequest("Explain gravity in one sentence.", "Gravity is the force by which masses attract."),
    LoglikelihoodRequest("2 + 2 =", " 4", chat=False),
    LoglikelihoodRequest("2 + 2 =", " 5", chat=False),
]


def _q8_blocks(x):  # noqa: ANN001, ANN202 - a torch tensor
    """``x`` rounded as llama.cpp rounds a matmul's activations for Q4_1 and Q8_0 weights (Q8_1 / Q8_0): blocks of
    32 values, each scaled by its absolute max / 127 (stored as fp16) and rounded to an integer."""
    import torch

    blocks = x.reshape(*x.shape[:-1], x.shape[-1] // 32, 32)
    scale = (blocks.abs().amax(-1, keepdim=True) / 127).half().float()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (torch.round(blocks / safe) * scale).reshape(x.shape)


def quantisation_noise_per_token(hf, requests) -> float:  # noqa: ANN001 - HFModelAPI, LoglikelihoodRequests
    """σ: the RMS per-token change of log-probs when transformers' fp32 model gets llama.cpp's 8-bit activations.

    llama.cpp computes with the same (Q4_1) weights transformers dequantised, but rounds every matmul's input to
    8 bits per block of 32 values (and keeps K/V in fp16, a finer rounding left out here). That rounding is the
    arithmetic difference between the two backends, so its effect, measured here in torch on this machine's
    transformers, sets the tolerance; nothing in it depends on how llama.cpp was compiled.
    """
    import torch

    exact = hf.loglikelihood(requests)
    linears = [m for m in hf.model.modules() if isinstance(m, torch.nn.Linear)]
    hooks = [m.register_forward_pre_hook(lambda _m, args: (_q8_blocks(args[0]), *args[1:])) for m in linears]
    try:
        rounded = hf.loglikelihood(requests)
    finally:
        for h in hooks:
            h.remove()
    sq = sum((a.logprob - b.logprob) ** 2 for a, b in zip(rounded, exact, strict=True))
    return (sq / sum(r.n_tokens for r in exact)) ** 0.5


@pytest.mark.ci
def test_loglikelihood_agrees_with_hf(llama, default_hf_dir: Path) -> None:  # noqa: ANN001
    """llama.cpp and transformers agree within the noise of llama.cpp's 8-bit activations, on any build.

    Quantisation noise adds up over a continuation's tokens like a random walk, so a continuation of n tokens may
    differ by up to 4σ√n (σ per token, from ``quantisation_noise_per_token``); over all texts the RMS per-token
    difference stays within 2σ. Continuations of one context whose transformers scores differ by more than both
    tolerances together are ranked the same way by llama.cpp.
    """
    from alignlab.models.hf import HFModelAPI

    hf_api = HFModelAPI(default_hf_dir)
    lc = llama.loglikelihood(SCORED)
    hf = hf_api.loglikelihood(SCORED)
    assert all(r.error is None for r in lc + hf)
    sigma = quantisation_noise_per_token(hf_api, SCORED)
    assert 0 < sigma < 0.5, f"8-bit activations move log-probs by {sigma:.3f} nats per token"

    def tol(n: int) -> float:
        return 4 * sigma * n**0.5

    for req, a, b in zip(SCORED, lc, hf, strict=True):
        assert a.n_tokens == b.n_tokens
        assert abs(a.logprob - b.logprob) <= tol(a.n_tokens), (
            f"{req.continuation!r}: llama.cpp {a.logprob:.3f}, transformers {b.logprob:.3f}, "
            f"tolerance {tol(a.n_tokens):.3f} (σ = {sigma:.3f}/token)")
    rms = (sum((a.logprob - b.logprob) ** 2 for a, b in zip(lc, hf, strict=True)) / sum(a.n_tokens for a in lc))
    assert rms**0.5 <= 2 * sigma
    ranked = 0
    for i, j in itertools.combinations(range(len(SCORED)), 2):
        if SCORED[i].context != SCORED[j].context:
            continue
        gap = hf[i].logprob - hf[j].logprob
        if abs(gap) > tol(hf[i].n_tokens) + tol(hf[j].n_tokens):
            ranked += 1
            assert (lc[i].logprob > lc[j].logprob) == (gap > 0), (SCORED[i].continuation, SCORED[j].continuation)
    assert ranked >= 2  # " Paris" over " banana", and the answer over "Bananas are yellow."
    assert lc[0].is_greedy and not lc[1].is_greedy
    # scoring leaves generation intact (the KV cache is cut back and re-evaluated)
    [after] = llama.generate([GenerateRequest(QUESTION, max_tokens=24)])
    [fresh] = llama.generate([GenerateRequest(QUESTION, max_tokens=24)])
    assert after.text == fresh.text


BATCH_PROMPTS = ["Write a haiku about the sea.", "List three colors, separated by commas.", "What is 2 + 2?",
                 "Say hello in French.", "Name a famous scientist and one discovery.", QUESTION,
                 "Describe a cat in one sentence.", "Why is the sky blue? Answer briefly.",
                 [{"role": "system", "content": "Answer in one word."},
                  {"role": "user", "content": "Opposite of hot?"}]]


@pytest.mark.ci
def test_batched_greedy_equals_one_at_a_time(default_gguf_path: Path) -> None:
    """Batched greedy decoding gives create_completion's texts, stops and lengths exactly, whatever shares its
    steps: with one sequence and with several (fewer slots than requests, slots refilled as requests finish and
    reused across calls), in request order, reversed, and for a subset of the requests. Sampled requests keep their
    one-stream seeded texts. ("What is 2 + 2?" and "Why is the sky blue?" have near-ties that earlier schedulers
    flipped: one mixed prompts into decoding steps, one kept a slot's cells of a shared prefix.)"""
    pytest.importorskip("llama_cpp")
    from alignlab.models._llamacpp_batch import BatchDecoder, GreedyRow
    from alignlab.models.llamacpp import LlamaCppModelAPI

    reqs = [GenerateRequest(p, max_tokens=12 + 5 * (i % 4), stop=(".",) if i % 3 == 0 else ())
            for i, p in enumerate(BATCH_PROMPTS)]
    # one thread: the comparison does not need speed, and a shared 2-core machine stalls llama.cpp's thread pool
    one = LlamaCppModelAPI(default_gguf_path, n_threads=1, n_parallel=1)  # create_completion, one after another
    try:
        want = one.generate(reqs)
        rows = [GreedyRow(one._encode(r.prompt, r.chat), r.max_tokens, tuple(r.stop)) for r in reqs]
        single = BatchDecoder(one.llm, 1)
        fresh = single.generate(rows)
        reused = single.generate(rows[::-1])[::-1]  # each prompt after another one in the same slot
        single.close()
    finally:
        one.close()
    expected = [(w.text, w.n_tokens, w.finish_reason) for w in want]
    assert [(g.text, g.n_tokens, g.finish_reason) for g in fresh] == expected
    assert [(g.text, g.n_tokens, g.finish_reason) for g in reused] == expected
    assert {w.finish_reason for w in want} == {"stop", "length"}

    extra = [GenerateRequest("Tell me a joke.", max_tokens=0),
             GenerateRequest("Tell me a joke.", max_tokens=8, temperature=0.8, seed=3)]  # sampled: one stream
    batched = LlamaCppModelAPI(default_gguf_path, n_threads=1, n_parallel=4)  # fewer slots than requests
    try:
        first = batched.generate(reqs + extra)
        backwards = batched.generate(reqs[::-1])[::-1]
        subset = batched.generate(reqs[1::2])
        [sampled] = LlamaCppModelAPI(default_gguf_path, n_threads=1).generate(extra[1:])
    finally:
        batched.close()
    assert [(g.text, g.n_tokens, g.finish_reason) for g in first[: len(reqs)]] == expected
    assert [(g.text, g.n_tokens, g.finish_reason) for g in backwards] == expected
    assert [(g.text, g.n_tokens, g.finish_reason) for g in subset] == expected[1::2]
    assert (first[-2].n_tokens, first[-2].text) == (0, "")
    assert first[-1].text == sampled.text
