"""KV-cache plumbing for transformers causal LMs: one forward call for transformers 4.5x and 5.x, and row
selection on a cache without copying the tensors we keep.

Scoring many continuations of one context reuses the context's cache: rows are gathered (a row may repeat)
into a fresh cache object, and the continuation forward appends to that copy while the original stays intact
for the next chunk of continuations.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import torch


class Forward:
    """Calls ``model`` alike whether it names its KV cache ``cache`` (5.x) or ``past_key_values`` (4.x)."""

    def __init__(self, model: Any) -> None:
        params = inspect.signature(model.forward).parameters
        self.model = model
        self.device: torch.device = model.device
        self.dtype: torch.dtype = model.dtype
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        # logits_to_keep spares the (B, T, V) logits when only the last positions are needed
        self._can_keep = "logits_to_keep" in params

    def __call__(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        pos: torch.Tensor,
        *,
        cache: Any = None,
        keep: int | None = None,
        use_cache: bool = True,
    ) -> tuple[torch.Tensor, Any]:
        """Logits (B, keep or T, V) and the updated cache (None without ``use_cache``)."""
        kwargs: dict[str, Any] = {}
        if cache is not None:
            kwargs[self._cache_arg] = cache
        if keep is not None and self._can_keep:
            kwargs["logits_to_keep"] = keep
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=use_cache, **kwargs)
        logits = out.logits if keep is None else out.logits[:, -keep:, :]
        return logits, getattr(out, self._cache_arg, None)


def select_rows(cache: Any, index: torch.Tensor, *, inplace: bool = False) -> Any:
    """Return a cache holding rows ``index`` (B',) of ``cache``; rows may repeat.

    ``inplace=False`` leaves ``cache`` usable: transformers' dynamic cache layers (4.56+) replace their
    tensors on ``batch_select_indices`` and ``update`` rather than writing into them, so a shallow copy of the
    cache and of its layer objects is enough; other cache types are deep-copied.
    """
    if inplace:
        cache.batch_select_indices(index)
        return cache
    layers = getattr(cache, "layers", None)
    if isinstance(layers, list) and all(type(layer).__name__.startswith("Dynamic") for layer in layers):
        new = copy.copy(cache)
        new.layers = [copy.copy(layer) for layer in layers]
    else:
        new = copy.deepcopy(cache)
    new.batch_select_indices(index)
    return new
