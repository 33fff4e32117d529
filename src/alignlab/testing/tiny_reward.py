"""A tiny random ``LlamaForSequenceClassification`` reward model (one label) with the tiny model's tokenizer."""

from __future__ import annotations

from pathlib import Path


def build_tiny_reward_model(path: str | Path, *, tokenizer_dir: str | Path | None = None, seed: int = 0,
                            hidden: int = 64, layers: int = 2) -> Path:
    """Write a random one-label Llama classifier and a ChatML BPE tokenizer to ``path``; nothing is downloaded.

    ``tokenizer_dir`` reuses the tokenizer of a tiny model built already (saves building a second one).
    """
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    from alignlab.testing.tiny_model import build_tiny_model

    path = Path(path)
    if tokenizer_dir is None:
        tokenizer_dir = build_tiny_model(path.parent / f"{path.name}-tokenizer-src", seed=seed, hidden=hidden,
                                         layers=layers)
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, num_labels=1,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None,
    )
    model = LlamaForSequenceClassification(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
