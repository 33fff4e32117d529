"""Greedy decoding of many prompts at once in llama.cpp: several sequences share one ``llama_batch`` per step.

One-stream decoding feeds one token per ``llama_decode`` call, which pays llama.cpp's per-call costs (a graph of
~500 operations, a thread barrier after each, the weights streamed from memory) for one token. Here up to ``n_seq``
requests decode side by side in a second llama.cpp context of the same model; each step feeds every live
sequence's last token, plus the pending prompt tokens of newly admitted requests, in one batch (continuous
batching, as llama.cpp's server does): a finished request's slot takes the next request at once, so slots do not
idle while others finish. A slot keeps its cells after a request ends, and the next request in that slot reuses
the longest prefix it shares with them (the chat template's start and system prompt), as llama.cpp's server
does with ``cache_prompt``.

Each sequence has its own KV stream (``kv_unified=False``), sized for the call's longest request, so its cells
hold its positions 0..n in order as in the one-stream context. With one unified KV pool (this module's first
version) the same prompts' cells sat at other offsets among other sequences' cells and 3 of 6 texts branched off
one-stream decoding within 24 tokens; with streams, most texts equal one-stream decoding's (bench/generation.py
counts them). Not all: how a step's tokens are split into llama.cpp micro-batches (equal tokens per sequence,
consecutive sequence ids) depends on what else is live, and where the two likeliest tokens are near-tied that
rounding can flip the pick (seen on "What is 2 + 2?" in tests/test_backend_llamacpp.py). With one sequence the
texts are exactly create_completion's, prefix reuse included (tested).

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
        self._cached: list[list[int]] = [[] for _ in range(self.n_seq)]  # tokens in each sequence's cells

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
        self._cached = [[] for _ in range(self.n_seq)]

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
        free = list(range(self.n_seq))[::-1]  # pop() takes the lowest sequence id: live ids stay consecutive
        live: list[_Slot] = []
        try:
            while queue or live:
                while queue and free:
                    live.append(self._admit(queue.pop(), rows, free.pop()))
                self._step(live)
                still: list[_Slot] = []
                for slot in live:
                    if slot.out_index < 0:  # prompt not fully fed yet
                        still.append(slot)
                        continue
                    done = self._advance(slot, rows[slot.row], self._argmax(slot.out_index))
                    if done is None:
                        still.append(slot)
                        continue
                    outs[slot.row] = done
                    free.append(slot.seq)
                    free.sort(reverse=True)
                live = still
        except BaseException:
            self.ctx.kv_cache_clear()  # a failed or interrupted step leaves cells nobody tracks
            self._cached = [[] for _ in range(self.n_seq)]
            raise
        return [o for o in outs if o is not None]

    def _admit(self, i: int, rows: Sequence[GreedyRow], seq: int) -> _Slot:
        """Start row ``i`` in sequence ``seq``, keeping the cells of the longest prefix it shares with what that
        sequence holds (the chat template's start, a shared system prompt): those tokens are not decoded again."""
        prompt = rows[i].prompt
        cached = self._cached[seq]
        keep = 0
        for a, b in zip(cached, prompt[:-1], strict=False):  # decode at least one token: its logits are needed
            if a != b:
                break
            keep += 1
        self.ctx.kv_cache_seq_rm(seq, keep, -1)
        del cached[keep:]
        return _Slot(row=i, seq=seq, pending=list(prompt[keep:]), n_past=keep)

    def _step(self, live: list[_Slot]) -> None:
        """Feed live slots' pending tokens in one ``llama_decode``, in sequence order: llama.cpp splits a batch
        over separate KV streams into micro-batches of consecutive sequence ids with equal token counts, so all
        decoding slots (one token each) go in one micro-batch and a new prompt's remaining tokens in the next."""
        b = self.batch.batch
        n = 0
        for slot in sorted(live, key=lambda s: s.seq):
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
            self._cached[slot.seq].extend(slot.pending[:take])
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
