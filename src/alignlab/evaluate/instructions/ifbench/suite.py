"""Suite ``instructions/ifbench``: IFBench's 300 test prompts, found by name (``alignlab.data.locate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alignlab.data import InstructionFollowing, iter_records, locate
from alignlab.errors import DataError
from alignlab.evaluate import solvers
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.evaluate.instructions.ifbench._registry import UNSUPPORTED, follows, validate
from alignlab.evaluate.instructions.ifeval import IFEVAL_METRICS, ifeval_metrics, score_response
from alignlab.evaluate.metric_info import MetricInfo

IFBENCH_METRICS: dict[str, MetricInfo] = {
    **IFEVAL_METRICS,
    "unsupported_instructions": MetricInfo(
        "descriptive", "none", (0.0, None), aggregation="count",
        description="instructions whose constraint alignlab cannot verify (left out of every accuracy)"),
    "unscored_prompts": MetricInfo(
        "descriptive", "none", (0.0, None), aggregation="count",
        description="prompts left out of prompt-level accuracy: every checked instruction passed, but one is "
                    "unsupported"),
}


def read_ifbench(path: str | None = None) -> list[InstructionFollowing]:
    """IFBench's prompts (from ``path``, the data directory or the hub), every constraint id known."""
    where = locate("ifbench", path)
    records = [r for r in iter_records(where, "ifbench") if isinstance(r, InstructionFollowing)]
    if not records:
        raise DataError(f"{where}: no IFBench prompts")
    for n, rec in enumerate(records, 1):
        for i, (cid, kw) in enumerate(zip(rec.instruction_id_list, rec.kwargs, strict=True)):
            try:
                rec.kwargs[i] = validate(cid, kw)
            except ValueError as exc:
                raise DataError(f"{where}: prompt {n} (key {rec.key}): instruction {i}: {exc}") from None
    return records


def score_sample(sample: Sample, output: Output) -> dict[str, float | None]:
    md = sample.metadata
    return score_response(md["instruction_id_list"], md["kwargs"], output.text or "", check=follows).scores()


def ifbench_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """IFEval's four accuracies over the verified instructions, per-constraint accuracy, and what was not scored."""
    out = {k: v for k, v in ifeval_metrics(records).items() if v.get("n")}
    ok = [r for r in records if r.get("error") is None and r.get("scores")]
    n_inst = sum(len(r["metadata"]["instruction_id_list"]) for r in ok)
    unsupported = sum(1 for r in ok for cid in r["metadata"]["instruction_id_list"] if cid in UNSUPPORTED)
    unscored = sum(1 for r in ok if r["scores"].get("prompt_level_strict") is None)
    out["unsupported_instructions"] = {"value": unsupported, "n": n_inst}
    out["unscored_prompts"] = {"value": unscored, "n": len(ok)}
    return out


def _samples(records: list[InstructionFollowing]) -> list[Sample]:
    return [Sample(id=str(r.key), input=r.prompt,
                   metadata={"key": r.key, "instruction_id_list": list(r.instruction_id_list),
                             "kwargs": [dict(k) for k in r.kwargs]})
            for r in records]


@register_suite("instructions/ifbench", sources=("ifbench",))
def ifbench(path: str | None = None, max_tokens: int = 1024) -> Suite:
    """IFBench (Pyatkin et al., 2025): 300 prompts with 58 new verifiable constraints (5 declared unsupported)."""
    return Suite(
        name="instructions/ifbench",
        level="instructions",
        samples=_samples(read_ifbench(path)),
        solver=solvers.generate(max_tokens=max_tokens),
        scorer=score_sample,
        metrics=[ifbench_metrics],
        description="IFBench: out-of-distribution verifiable constraints, strict and loose accuracy.",
        primary_metric="prompt_level_loose",
        metric_info=IFBENCH_METRICS,
        pass_scores=("prompt_level_strict", "prompt_level_loose"),  # None (unsupported) prompts get no pass@k
    )


def unsupported_ids() -> Mapping[str, str]:
    """The constraint ids alignlab declares it cannot verify, with the reason."""
    return dict(UNSUPPORTED)
