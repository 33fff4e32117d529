"""Reusable solvers: one batched model call per chunk of samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from alignlab.evaluate._suite import Output, Sample, Solver
from alignlab.models import GenerateRequest, LoglikelihoodRequest, Model


def generate(
    *,
    max_tokens: int = 256,
    temperature: float = 0.0,
    seed: int = 0,
    stop: Sequence[str] = (),
    parse: Callable[[str], Any] | None = None,
) -> Solver:
    """Generate one answer per sample; ``parse`` extracts the answer from the text."""

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs = [GenerateRequest(s.input, max_tokens=max_tokens, temperature=temperature, seed=seed,
                                stop=tuple(stop)) for s in samples]
        outs = []
        for res in model.generate(reqs):
            if res.error is not None:
                outs.append(Output(error=res.error))
            else:
                outs.append(Output(text=res.text, answer=parse(res.text) if parse else None,
                                   extra={"finish_reason": res.finish_reason, "n_tokens": res.n_tokens}))
        return outs

    return solve


def multiple_choice(*, prefix: str = " ") -> Solver:
    """Score every choice by log-likelihood after the sample's input; the answer is the argmax.

    ``Output.extra['logprobs_norm']`` holds per-character normalised scores for length-normalised accuracy.
    """

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs, owners = [], []
        for i, s in enumerate(samples):
            for choice in s.choices or []:
                reqs.append(LoglikelihoodRequest(s.input, prefix + choice))
                owners.append(i)
        results = model.loglikelihood(reqs)
        per: list[list] = [[] for _ in samples]
        for i, res in zip(owners, results, strict=True):
            per[i].append(res)
        outs = []
        for s, res in zip(samples, per, strict=True):
            bad = next((r.error for r in res if r.error), None)
            if bad or not res:
                outs.append(Output(error=bad or "sample has no choices"))
                continue
            lps = [r.logprob for r in res]
            norm = [r.logprob / max(len(prefix + c), 1) for r, c in zip(res, s.choices or [], strict=True)]
            outs.append(Output(answer=max(range(len(lps)), key=lps.__getitem__), logprobs=lps,
                               extra={"logprobs_norm": norm, "answer_norm": max(range(len(norm)),
                                                                                key=norm.__getitem__)}))
        return outs

    return solve
