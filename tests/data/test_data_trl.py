"""What alignlab writes loads into TRL unchanged: `datasets.load_dataset("json")` and TRL's own checks and trainers."""

from __future__ import annotations

import pytest

from alignlab.data import convert

datasets = pytest.importorskip("datasets")
trl_data = pytest.importorskip("trl.data_utils")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def load(path, tmp_path):
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))


def test_hh_rlhf_standard_output_is_trl_preference(fixtures, tmp_path):
    out = tmp_path / "hh.jsonl"
    convert(fixtures / "hh-rlhf.jsonl", out, "hh-rlhf")
    ds = load(out, tmp_path)
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    example = ds[0]
    assert not trl_data.is_conversational(example)
    assert trl_data.maybe_extract_prompt(example) is example  # explicit prompt: TRL leaves it alone


def test_conversational_output_is_trl_conversational(fixtures, tmp_path):
    out = tmp_path / "chat.jsonl"
    convert(fixtures / "hh-rlhf.jsonl", out, "hh-rlhf-chat")
    ds = load(out, tmp_path)
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    example = ds[0]
    assert trl_data.is_conversational(example)
    assert trl_data.maybe_extract_prompt(example) is example
    unpaired = trl_data.unpair_preference_dataset(ds)
    assert set(unpaired.column_names) == {"prompt", "completion", "label"}


def test_implicit_prompt_agrees_with_trl_extract_prompt(tmp_path):
    # For conversations, alignlab's maybe_extract_prompt and TRL's split at the same message.
    from alignlab.data import Preference, maybe_extract_prompt

    user = {"role": "user", "content": "Hi"}
    row = {"chosen": [user, {"role": "assistant", "content": "Hello."}],
           "rejected": [user, {"role": "assistant", "content": "Go away."}]}
    ours = maybe_extract_prompt(Preference.model_validate(row)).to_row()
    assert ours == trl_data.extract_prompt(row)


def test_unpaired_and_rating_outputs_have_trl_columns(fixtures, tmp_path):
    out = tmp_path / "kto.jsonl"
    convert(fixtures / "hh-rlhf.jsonl", out, "hh-rlhf", to="unpaired_preference")
    assert load(out, tmp_path).column_names == ["prompt", "completion", "label"]
    out = tmp_path / "rm.jsonl"
    convert(fixtures / "ultrafeedback.jsonl", out, "ultrafeedback")
    ds = load(out, tmp_path)
    assert ds.column_names[:4] == ["prompt", "chosen", "rejected", "margin"]  # margin: TRL's reward trainer reads it


def test_dpo_trainer_takes_converted_file(fixtures, tmp_path, tiny_model_dir):
    """One DPO step on a tiny random model, straight from `alignlab data convert` output (meta column included)."""
    pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    out = tmp_path / "pku.jsonl"
    convert(fixtures / "pku-saferlhf.jsonl", out, "pku-saferlhf", chat=True)
    ds = load(out, tmp_path)
    assert "meta" in ds.column_names  # extra columns are tolerated: TRL drops what the model does not take
    path = tiny_model_dir  # tests/conftest.py: a tiny random Llama built once per session
    config = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=1, per_device_train_batch_size=2, report_to=[],
                       save_strategy="no", max_length=64, use_cpu=True, disable_tqdm=True)
    trainer = DPOTrainer(model=AutoModelForCausalLM.from_pretrained(path), args=config, train_dataset=ds,
                         processing_class=AutoTokenizer.from_pretrained(path))
    assert trainer.train().training_loss == pytest.approx(0.6931, abs=1e-3)  # log 2 at the first step
