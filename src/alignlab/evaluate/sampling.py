"""Sampling ``n`` completions per prompt and pass@k for generative suites.

Any generative suite that names its per-sample 0/1 correctness scores (``Suite.pass_scores``) takes the suite
arguments ``n``, ``temperature``, ``top_p`` and ``seed`` (``instructions/ifeval:prompts=P,n=4,temperature=0.8``).
Sample ``i`` of a prompt is generated with seed ``seed + i``: the seed is part of the response cache key, so the
``n`` samples are ``n`` cached answers, not one answer repeated. The suite's own metrics then describe sample 0,
and ``pass@{k}/{score}`` reports, for k = 1, 2, 4, ... and n, the unbiased estimator of Chen et al. (2021,
"Evaluating Large Language Models Trained on Code", eq. 1) averaged over prompts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.evaluate.metric_info import MetricInfo
from alignlab.evaluate.stats import mean_ci
from alignlab.models import GenerateRequest, GenerateResult, Model

SAMPLING_ARGS = ("n", "temperature", "top_p", "seed")
"""Suite arguments taken by the sampling wrapper when the suite's own factory does not take them."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """The probability that at least one of ``k`` samples drawn without replacement from ``n``, of which ``c``
    are correct, is correct: 1 - C(n-c, k) / C(n, k) (Chen et al., 2021).

    Written as the product 1 - prod_{i=n-c+1}^{n} (1 - k/i), which equals the ratio of binomials and stays exact
    in floating point where C(n, k) would overflow.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def ks_for(n: int) -> list[int]:
    """The k reported for ``n`` samples: 1, 2, 4, ... below n, and n."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return [*ks, n]


class _Sampling:
    """A ``Model`` stand-in that rewrites every generate request to sample ``index`` (temperature, top_p, seed)."""

    def __init__(self, model: Model, *, temperature: float, top_p: float, seed: int, index: int) -> None:
        self._model, self._index = model, index
        self._params = {"temperature": temperature, "top_p": top_p, "seed": seed + index}

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self._model.generate([replace(r, **self._params) for r in requests])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def sampled(suite: Suite, *, n: int = 1, temperature: float | None = None, top_p: float = 1.0,
            seed: int = 0) -> Suite:
    """``suite`` answering each prompt ``n`` times (sample i with seed ``seed + i``) and reporting pass@k.

    The record of a prompt keeps sample 0 as its output (so the suite's own metrics read sample 0), every
    sample's text in ``extra.samples``, the number correct per pass score (``<score>/correct``) and the per-prompt
    pass@k estimates the ``pass@{k}/<score>`` metrics average. A sample that fails makes the prompt an error
    (counted by the runner), never a silent miss.
    """
    if not suite.pass_scores:
        raise AlignlabError(f"suite {suite.name!r} has no per-sample correctness score, so it has no pass@k",
                            hint="n/temperature/top_p/seed work on suites that declare pass_scores "
                                 "(instructions/ifeval, instructions/following, instructions/basics)")
    if "generate" not in suite.requires or "loglikelihood" in suite.requires:
        raise AlignlabError(f"suite {suite.name!r} does not generate its answers; sampling n does not apply")
    if n < 1:
        raise AlignlabError(f"n must be at least 1, got {n}")
    temp = 0.0 if temperature is None else float(temperature)
    if n > 1 and temp <= 0:
        raise AlignlabError(f"n={n} samples need temperature > 0 (greedy decoding gives one answer {n} times)",
                            hint=f"add temperature=0.8 (say) to {suite.name}'s arguments")
    if not 0 < top_p <= 1:
        raise AlignlabError(f"top_p must be in (0, 1], got {top_p}")
    inner_solver, inner_scorer, scores = suite.solver, suite.scorer, suite.pass_scores
    ks = ks_for(n)

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        runs = [inner_solver(_Sampling(model, temperature=temp, top_p=top_p, seed=seed, index=i),  # type: ignore[arg-type]
                             samples) for i in range(n)]
        outs = []
        for j in range(len(samples)):
            per = [run[j] for run in runs]
            failed = next((o.error for o in per if o.error is not None), None)
            first = per[0]
            extra = {**first.extra, "samples": [{"text": o.text, "answer": o.answer, "error": o.error,
                                                 "extra": o.extra} for o in per]}
            outs.append(Output(text=first.text, answer=first.answer, logprobs=first.logprobs, judge=first.judge,
                               error=failed, extra=extra))
        return outs

    def score(sample: Sample, output: Output) -> dict[str, float | None]:
        per = [inner_scorer(sample, Output(text=s["text"], answer=s["answer"], extra=s["extra"]))
               for s in output.extra["samples"]]
        out = dict(per[0])
        for name in scores:
            values = [p.get(name) for p in per]
            if any(v is None for v in values):  # not scorable (an unsupported check): no pass@k for this prompt
                out[f"{name}/correct"] = None
                out.update({f"pass@{k}/{name}": None for k in ks})
                continue
            if any(v not in (0.0, 1.0) for v in values):
                raise ValueError(f"pass score {name!r} must be 0 or 1 per sample, got {values}")
            c = int(sum(values))  # type: ignore[arg-type]
            out[f"{name}/correct"] = float(c)
            out.update({f"pass@{k}/{name}": pass_at_k(n, c, k) for k in ks})
        return out

    def pass_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        ok = [r for r in records if r.get("error") is None and r.get("scores")]
        return {f"pass@{k}/{name}": mean_ci([r["scores"].get(f"pass@{k}/{name}") for r in ok])
                for name in scores for k in ks}

    info = dict(suite.metric_info)
    for name in scores:
        base = info.get(name)
        p = base.chance if base is not None else None
        for k in ks:
            info[f"pass@{k}/{name}"] = MetricInfo(
                "score", "higher", (0.0, 1.0), None if p is None else 1.0 - (1.0 - p) ** k, aggregation="mean",
                description=f"chance that at least one of {k} of the {n} samples (temperature {temp}, top_p "
                            f"{top_p}) passes {name}; unbiased estimator of Chen et al. (2021), mean over prompts")
    return replace(suite, solver=solve, scorer=score, metrics=[*suite.metrics, pass_metrics], metric_info=info,
                   description=f"{suite.description} [{n} samples, temperature {temp}, top_p {top_p}, seed {seed}]")
