"""Greedy decoding of many prompts at once in llama.cpp: several sequences share one ``llama_batch`` per step.

One-stream decoding feeds one token per ``llama_decode`` call, which pays llama.cpp's per-call costs (a graph of
~500 operations, a thread barrier after each, the weights streamed from memory) for one token. Here up to ``n_seq``
requests decode side by side in a second llama.cpp context of the same model, each in its own KV stream
(``kv_unified=False``) whose cells hold its positions 0..n in order, as in the one-stream context. A finished
request's slot takes the next request at once (continuous batching, as llama.cpp's server does).

A request's text does not depend on which others share its steps: a new request's prompt is decoded alone (in
``n_batch`` chunks, as ``create_completion`` does), and a decoding step feeds exactly one token per sequence, from
sequence 0 up to the highest live one (an idle sequence below it gets a placeholder whose output is not read, so
the ids stay consecutive and llama.cpp keeps the step in one micro-batch). This module's earlier scheduler fed new
prompts in the same batch as other sequences' decoding tokens; llama.cpp then split the batch into micro-batches
that depended on what else was live, and 3 of 32 texts branched off one-stream decoding at near-ties
(bench/generation.py, 2026-12-06). Now every text equals one-stream decoding's (bench/generation.py counts them
on the whole suite; the test compares three compositions of the same requests). A request starts in an emptied
sequence, so its cells hold positions 0..n at the same offsets as in a fresh one-stream context: keeping the cells
of a prefix shared with the slot's previous request (the chat template's start) put the new tokens at other cell
offsets, and that alone flipped a near-tie ("Why is the sky blue?", in the test); the prefix costs one prefill
chunk to recompute.

The scheduler is written by hand: llama-cpp-python exposes llama.cpp's batch and memory calls but no batched
``create_completion``. Stopping follows ``Llama.create_completion`` step for step (end-of-generation token, the
held-back tail of a multi-byte character, stop strings on the detokenized bytes, then ``max_tokens``).
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
    """A llama.cpp context with ``n_seq`` sequences over ``llm``'s model (a ``llama_cpp.Llama``), each in its own
    KV stream of ``n_ctx_seq`` cells; the context grows when a call's longest request needs more cells."""

    def __init__(self, llm: Any, n_seq: int) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.llm = llm
        self.n_requested = n_seq
        self.n_seq = max(1, min(int(n_seq), int(llama_cpp.llama_max_parallel_sequences())))
        self.n_batch = int(llm.context_params.n_batch)
        self.n_vocab = int(llm.n_vocab())
        self._vocab = llm._model.vocab
        self.n_ctx_seq = 0  # cells per sequence in the current context (none made yet)
        self.ctx: Any = None
        self.batch: Any = None

    def _ensure_context(self, need: int) -> None:
        """A context whose every sequence holds ``need`` cells (rounded up to llama.cpp's 256-cell padding)."""
        need = min(-(-need // 256) * 256, int(self.llm.n_ctx()))
        if self.ctx is not None and need <= self.n_ctx_seq:
            return
        from llama_cpp import _internals

        self.close()
        params = type(self.llm.context_params).from_buffer_copy(self.llm.context_params)
        params.n_seq_max = self.n_seq
        # one KV stream per sequence: a sequence's cells hold its positions 0..n in order, as in one-stream
        # decoding, so attention sums the same numbers in the same order whatever else shares the batch
        params.kv_unified = False
        params.n_ctx = need * self.n_seq
        self.ctx = _internals.LlamaContext(model=self.llm._model, params=params, verbose=False)
        self.batch = _internals.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=1, verbose=False)
        self.n_ctx_seq = need

    def close(self) -> None:
        if self.ctx is not None:
            self.batch.close()
            self.ctx.close()
            self.ctx = self.batch = None

    def generate(self, rows: Sequence[GreedyRow]) -> list[GreedyOut]:
        """Greedy text for every row, in row order."""
        if not rows:
            return []
        self._ensure_context(max(len(r.prompt) + r.max_new for r in rows))
        outs: list[GreedyOut | None] = [None] * len(rows)
        queue = list(range(len(rows)))[::-1]  # pop() takes them in order
        slots: list[_Slot | None] = [None] * self.n_seq
        try:
            while True:
                for seq in range(self.n_seq):
                    while slots[seq] is None and queue:  # a request may end on its first token
                        slot = self._admit(queue.pop(), rows, seq)
                        done = self._advance(slot, rows[slot.row], self._argmax(slot.out_index))
                        if done is None:
                            slots[seq] = slot
                        else:
                            outs[slot.row] = done
                if all(slot is None for slot in slots):
                    break
                self._step(slots)
                for seq, slot in enumerate(slots):
                    if slot is None:
                        continue
                    done = self._advance(slot, rows[slot.row], self._argmax(seq))
                    if done is not None:
                        outs[slot.row] = done
                        slots[seq] = None
        except BaseException:
            self.ctx.kv_cache_clear()  # a failed or interrupted step leaves cells nobody tracks
            raise
        return [o for o in outs if o is not None]

    def _fill(self, n: int, token: int, pos: int, seq: int, logits: bool) -> None:
        b = self.batch.batch
        b.token[n] = token
        b.pos[n] = pos
        b.n_seq_id[n] = 1
        b.seq_id[n][0] = seq
        b.logits[n] = logits

    def _admit(self, i: int, rows: Sequence[GreedyRow], seq: int) -> _Slot:
        """Start row ``i`` in the emptied sequence ``seq`` and decode its prompt alone; ``out_index`` is then the
        batch row whose logits pick its first token."""
        prompt = rows[i].prompt
        self.ctx.kv_cache_seq_rm(seq, 0, -1)
        slot = _Slot(row=i, seq=seq, pending=[])
        for start in range(0, len(prompt), self.n_batch):
            chunk = prompt[start:start + self.n_batch]
            for k, token in enumerate(chunk):
                self._fill(k, token, slot.n_past + k, seq, logits=False)
            self.batch.batch.logits[len(chunk) - 1] = True
            self.batch.batch.n_tokens = len(chunk)
            self.ctx.decode(self.batch)
            slot.n_past += len(chunk)
            slot.out_index = len(chunk) - 1
        return slot

    def _step(self, slots: list[_Slot | None]) -> None:
        """One token per sequence up to the highest live one, in sequence order, in one ``llama_decode``; an idle
        sequence below it is emptied and gets a placeholder at position 0."""
        top = max(seq for seq, slot in enumerate(slots) if slot is not None) + 1
        for seq, slot in enumerate(slots[:top]):
            if slot is None:
                self.ctx.kv_cache_seq_rm(seq, 0, -1)
                self._fill(seq, 0, 0, seq, logits=False)
                continue
            self._fill(seq, slot.pending.pop(), slot.n_past, seq, logits=True)
            slot.n_past += 1
        self.batch.batch.n_tokens = top
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
