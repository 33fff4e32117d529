"""llamacpp:PATH on the real default GGUF: chat generation, determinism, stops, seeds, and scoring vs hf."""

from __future__ import annotations

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


@pytest.mark.ci
def test_loglikelihood_agrees_with_hf(llama, default_hf_dir: Path) -> None:  # noqa: ANN001
    from alignlab.models.hf import HFModelAPI

    reqs = [
        LoglikelihoodRequest("The capital of France is", " Paris", chat=False),
        LoglikelihoodRequest("The capital of France is", " banana", chat=False),
        LoglikelihoodRequest("The capital of France is", " Paris, a city of light", chat=False),
        LoglikelihoodRequest(QUESTION, "The capital of France is Paris."),
        LoglikelihoodRequest(QUESTION, "Bananas are yellow."),
    ]
    lc = llama.loglikelihood(reqs)
    hf = HFModelAPI(default_hf_dir).loglikelihood(reqs)
    assert all(r.error is None for r in lc + hf)
    assert lc[0].logprob > lc[1].logprob + 5 and lc[3].logprob > lc[4].logprob + 5
    assert lc[0].is_greedy and not lc[1].is_greedy
    for a, b in zip(lc, hf, strict=True):
        assert a.n_tokens == b.n_tokens
        # Q4_1 arithmetic in llama.cpp vs dequantised fp32 in torch: close, not equal
        assert a.logprob == pytest.approx(b.logprob, abs=0.1 * a.n_tokens + 0.2)
    # scoring leaves generation intact (the KV cache is cut back and re-evaluated)
    [after] = llama.generate([GenerateRequest(QUESTION, max_tokens=24)])
    [fresh] = llama.generate([GenerateRequest(QUESTION, max_tokens=24)])
    assert after.text == fresh.text
