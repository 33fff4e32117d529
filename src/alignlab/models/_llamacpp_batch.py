"""Greedy decoding of many prompts at once in llama.cpp: several sequences share one ``llama_batch`` per step.

One-stream decoding feeds one token per ``llama_decode`` call, which leaves most of a CPU's arithmetic idle for a
small model: the weights are read from memory once per call whatever the number of tokens. Here up to
``n_seq`` requests decode side by side in a second llama.cpp context of the same model (``n_seq_max`` sequences,
one unified KV cache); each step feeds every live sequence's last token, plus pending prompt tokens of newly
admitted requests, in one batch (continuous batching, as llama.cpp's server does). A finished sequence leaves
the cache (``llama_memory_seq_rm``) and the next request takes its slot. Requests are admitted while the tokens
they may need (prompt + ``max_tokens``) fit in the cache, so any request that fits the model's context alone
always fits here.

The scheduler is written by hand: llama-cpp-python exposes llama.cpp's batch and memory calls but no batched
``create_completion``. Stopping follows ``Llama.create_completion`` step for step (end-of-generation token, the
held-back tail of a multi-byte character, stop strings on the detokenized bytes, then ``max_tokens``), so a
request's text is what the one-stream path returns whenever the greedy tokens agree (with one sequence they are
identical, tested). With several, llama.cpp computes each step's tokens together with other kernels than a single
token, and on the Q4_1 default model that changes logits by about 0.1 nats: where two candidates are that close the
pick differs, and a text follows the other branch from there. Measured (bench/generation.py, 8 prompts, 32 tokens):
1 of 8 texts identical to one-stream decoding; at the first differing token the two candidates were 0.06 and 0.14
nats apart in the two cases checked, and re-evaluating the same prefix as one multi-token batch in the same build
picks the batched path's token. Hence ``n_parallel`` is opt-in.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class GreedyRow:
    """One greedy request, tokenized: ``max_new`` already cut to what the model's context leaves."""

    prompt: list[int]
    max_new: int
    stop: tuple[str, ...] = ()


@dataclass
class GreedyOut:
    text: str
    n_tokens: int
    finish_reason: str


@dataclass
class _Slot:
    row: int
    seq: int
    pending: list[int]
    n_past: int = 0
    tokens: list[int] = field(default_factory=list)
    multibyte_hold: int = 0
    out_index: int = -1


class BatchDecoder:
    """A llama.cpp context with ``n_seq`` sequences over ``llm``'s model (a ``llama_cpp.Llama``)."""

    def __init__(self, llm: Any, n_seq: int) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self._lib = llama_cpp
        self.llm = llm
        self.n_seq = max(1, min(int(n_seq), int(llama_cpp.llama_max_parallel_sequences())))
        params = type(llm.context_params).from_buffer_copy(llm.context_params)
        params.n_seq_max = self.n_seq
        params.kv_unified = True  # one pool of cells: a long request may use what short ones leave
        self.n_ctx = int(params.n_ctx)
        self.n_batch = int(params.n_batch)
        self.ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self.batch = _internals.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=1, verbose=False)
        self.n_vocab = int(llm.n_vocab())
        self._vocab = llm._model.vocab

    def close(self) -> None:
        self.batch.close()
        self.ctx.close()

    def generate(self, rows: Sequence[GreedyRow]) -> list[GreedyOut]:
        """Greedy text for every row, in row order."""
        outs: list[GreedyOut | None] = [None] * len(rows)
        queue = list(range(len(rows)))[::-1]  # pop() takes them in order
        free = list(range(self.n_seq))[::-1]
        live: list[_Slot] = []
        budget = 0  # cells the live requests may still need
        self.ctx.kv_cache_clear()
        while queue or live:
            while queue and free:
                need = len(rows[queue[-1]].prompt) + rows[queue[-1]].max_new
                if live and budget + need > self.n_ctx:
                    break
                i = queue.pop()
                live.append(_Slot(row=i, seq=free.pop(), pending=list(rows[i].prompt)))
                budget += need
            self._step(live)
            still: list[_Slot] = []
            for slot in live:
                if slot.out_index < 0:  # prompt not fully fed yet
                    still.append(slot)
                    continue
                token = self._argmax(slot.out_index)
                done = self._advance(slot, rows[slot.row], token)
                if done is None:
                    still.append(slot)
                    continue
                outs[slot.row] = done
                self.ctx.kv_cache_seq_rm(slot.seq, -1, -1)
                free.append(slot.seq)
                budget -= len(rows[slot.row].prompt) + rows[slot.row].max_new
            live = still
        return [o for o in outs if o is not None]

    def _step(self, live: list[_Slot]) -> None:
        """Feed pending tokens of live slots (decoding ones first: one token each) in one ``llama_decode``."""
        b = self.batch.batch
        n = 0
        for slot in sorted(live, key=lambda s: len(s.pending)):
            slot.out_index = -1
            take = min(len(slot.pending), self.n_batch - n)
            if take <= 0:
                continue
            for k in range(take):
                b.token[n] = slot.pending[k]
                b.pos[n] = slot.n_past + k
                b.n_seq_id[n] = 1
                b.seq_id[n][0] = slot.seq
                b.logits[n] = False
                n += 1
            slot.n_past += take
            del slot.pending[:take]
            if not slot.pending:  # its last pending token: its logits pick the next token
                b.logits[n - 1] = True
                slot.out_index = n - 1
        b.n_tokens = n
        self.ctx.decode(self.batch)

    def _argmax(self, index: int) -> int:
        ptr = self._lib.llama_get_logits_ith(self.ctx.ctx, index)
        logits = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))
        return int(logits.argmax())  # first maximum, as llama.cpp's greedy sampler

    def _advance(self, slot: _Slot, row: GreedyRow, token: int) -> GreedyOut | None:
        """Take ``token``; a result when the request is finished, as ``Llama.create_completion`` decides it."""
        llm = self.llm
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            return self._out(slot, row, "stop")
        slot.tokens.append(token)
        text = llm.detokenize(slot.tokens, prev_tokens=row.prompt)
        # create_completion holds back a token that ends inside a multi-byte character and checks neither stop
        # strings nor max_tokens on it; the same here keeps the two paths' texts and lengths equal
        for k, char in enumerate(text[-3:]):
            k = 3 - k
            for num, pattern in ((2, 192), (3, 224), (4, 240)):
                if num > k and pattern & char == pattern:
                    slot.multibyte_hold = num - k
        if slot.multibyte_hold > 0:
            slot.multibyte_hold -= 1
            slot.pending = [token]
            return None
        stops = [s.encode("utf-8") for s in row.stop if s.encode("utf-8") in text]
        if stops:
            cut = text[: text.index(stops[0])]
            return GreedyOut(cut.decode("utf-8", errors="ignore"), len(slot.tokens), "stop")
        if len(slot.tokens) >= row.max_new:
            return self._out(slot, row, "length")
        slot.pending = [token]
        return None

    def _out(self, slot: _Slot, row: GreedyRow, reason: str) -> GreedyOut:
        text = self.llm.detokenize(slot.tokens, prev_tokens=row.prompt)
        return GreedyOut(text.decode("utf-8", errors="ignore"), len(slot.tokens), reason)
