"""Suites ``instructions/ifeval`` (IFEval's prompts, from a file you pass) and ``instructions/following`` (built in)."""

from __future__ import annotations

from importlib import resources

from alignlab.evaluate import solvers
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Suite
from alignlab.evaluate.instructions.ifeval._data import IFEvalPrompt, parse_prompts, read_prompts
from alignlab.evaluate.instructions.ifeval.scoring import IFEVAL_METRICS, ifeval_metrics, score_response

FOLLOWING_DATA = "data/following.jsonl"


def to_samples(prompts: list[IFEvalPrompt]) -> list[Sample]:
    return [Sample(id=str(p.key), input=p.prompt,
                   metadata={"key": p.key, "instruction_id_list": p.instruction_id_list, "kwargs": p.kwargs})
            for p in prompts]


def score_sample(sample: Sample, output: Output) -> dict[str, float | None]:
    """Scorer: prompt-level strict/loose and per-instruction ``strict_<i>``/``loose_<i>``."""
    md = sample.metadata
    return score_response(md["instruction_id_list"], md["kwargs"], output.text or "").scores()


def make_suite(name: str, prompts: list[IFEvalPrompt], *, max_tokens: int, description: str) -> Suite:
    return Suite(
        name=name,
        level="instructions",
        samples=to_samples(prompts),
        solver=solvers.generate(max_tokens=max_tokens),
        scorer=score_sample,
        metrics=[ifeval_metrics],
        description=description,
        primary_metric="prompt_level_strict",
        metric_info=IFEVAL_METRICS,
        pass_scores=("prompt_level_strict", "prompt_level_loose"),
    )


@register_suite("instructions/ifeval", sources=("ifeval",))
def ifeval(prompts: str | None = None, max_tokens: int = 1024) -> Suite:
    """IFEval (Zhou et al., 2023): 541 prompts with 25 verifiable instruction types, from ``prompts`` (its
    input_data.jsonl or an ``hf://`` copy), else the public source ``ifeval``. The data is not shipped."""
    from alignlab.data import locate

    return make_suite("instructions/ifeval", read_prompts(locate("ifeval", prompts)), max_tokens=max_tokens,
                      description="IFEval: verifiable instructions (25 types), strict and loose accuracy.")


def following_prompts() -> list[IFEvalPrompt]:
    """The built-in prompts of ``instructions/following`` (datasheet: suites/data/following.md)."""
    text = resources.files("alignlab.suites").joinpath(FOLLOWING_DATA).read_text(encoding="utf-8")
    return parse_prompts(text, f"alignlab/suites/{FOLLOWING_DATA}")


@register_suite("instructions/following")
def following(max_tokens: int = 512) -> Suite:
    """Everyday tasks with IFEval's 25 verifiable instruction types, written for alignlab."""
    return make_suite("instructions/following", following_prompts(), max_tokens=max_tokens,
                      description="Everyday tasks with IFEval-style verifiable instructions (all 25 types).")
