"""gguf:PATH on the real default model file: converted once into a plain transformers dir, then fast to load."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from alignlab.models import GenerateRequest, create_api
from alignlab.models._weights import file_sha256

pytestmark = pytest.mark.slow


@pytest.mark.ci
def test_gguf_converts_once_then_loads_without_converting(default_gguf_path: Path, default_hf_dir: Path) -> None:
    marker = default_hf_dir / "alignlab-conversion.json"
    assert marker.is_file()
    assert default_hf_dir.name == file_sha256(default_gguf_path)[:16]
    converted_at = marker.stat().st_mtime_ns
    first = create_api(f"gguf:{default_gguf_path}")  # warms imports; the dir exists, so nothing converts
    assert first.fingerprint() == "sha256:" + file_sha256(default_gguf_path)
    # CPU seconds, not wall-clock: a conversion costs ~40 s of CPU, a load well under one, on a busy machine too.
    start = time.process_time()
    second = create_api(f"gguf:{default_gguf_path}")
    cpu = time.process_time() - start
    assert cpu < 5.0, f"second gguf: load took {cpu:.2f} CPU s"
    assert marker.stat().st_mtime_ns == converted_at  # loaded from the dir, never converted again
    [res] = second.generate([GenerateRequest("What is the capital of France?", max_tokens=16)])
    assert res.error is None and res.text.strip()
    assert second.info().parameters == 134_515_008


def test_converted_model_saves_and_trains(default_hf_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert "quantization_config" not in json.loads((default_hf_dir / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(default_hf_dir, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(default_hf_dir)
    assert not getattr(model, "is_quantized", False)
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    model.save_pretrained(tmp_path / "saved")  # refused for a model still marked as GGUF-quantised
    batch = tok(["The capital of France is Paris."], return_tensors="pt")
    loss = model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    assert model.lm_head.weight.grad is not None or model.model.embed_tokens.weight.grad is not None


def test_conversion_is_atomic_in_a_fresh_home(
    default_gguf_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A temp dir left by a killed conversion is ignored; the finished dir appears whole, by rename."""
    from alignlab.models.hf import converted_dir

    monkeypatch.setenv("ALIGNLAB_HOME", str(tmp_path))
    digest = file_sha256(default_gguf_path)[:16]
    half = tmp_path / "models" / f".tmp-{digest}-killed"
    half.mkdir(parents=True)
    (half / "config.json").write_text("{}")  # a half-written model must never be picked up
    out = converted_dir(default_gguf_path)
    assert out == tmp_path / "models" / digest
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "alignlab-conversion.json"}
    leftovers = [p.name for p in (tmp_path / "models").iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == [half.name]  # only the recent one from the "killed" run; ours is gone
    start = time.perf_counter()
    assert converted_dir(default_gguf_path) == out
    assert time.perf_counter() - start < 0.5
