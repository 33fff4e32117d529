"""The `default` spec: SmolLM2-135M-Instruct generates (llama.cpp, else transformers) and scores (transformers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.models import GenerateRequest, LoglikelihoodRequest, load_model
from alignlab.models._weights import file_sha256
from alignlab.models.default import llama_cpp_imports

pytestmark = pytest.mark.slow


@pytest.mark.ci
def test_default_generates_and_scores(default_gguf_path: Path, default_hf_dir: Path, tmp_path: Path) -> None:
    model = load_model("default", cache=tmp_path / "cache.sqlite")
    assert model.api.backend == ("default(llamacpp)" if llama_cpp_imports() else "default(hf)")
    assert model.fingerprint() == "sha256:" + file_sha256(default_gguf_path)
    [res] = model.generate([GenerateRequest("What is the capital of France?", max_tokens=24)])
    assert res.error is None and res.text.strip()
    paris, banana = model.loglikelihood([
        LoglikelihoodRequest("The capital of France is", " Paris", chat=False),
        LoglikelihoodRequest("The capital of France is", " banana", chat=False),
    ])
    assert paris.logprob > banana.logprob
    info = model.info()
    assert info.spec == "default" and info.context_length and info.chat_template
    model.close()


def test_default_on_transformers_only(default_hf_dir: Path) -> None:
    model = load_model("default", cache=False, engine="hf")
    assert model.api.backend == "default(hf)"
    [res] = model.generate([GenerateRequest("Name a colour.", max_tokens=8)])
    assert res.error is None and res.text.strip()
    model.close()
