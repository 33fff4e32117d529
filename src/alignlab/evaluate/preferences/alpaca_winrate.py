"""AlpacaEval-style judged win rate against reference outputs, with AlpacaEval 2's length control.

For each instruction the model answers; a judge compares the answer with a reference output in both orders
(MT-Bench's pairwise prompt, ``alignlab.evaluate.judges``); the preference is 1 (model wins both), 0 (reference
wins both) or 0.5 (tie, or the two orders disagree: position bias cancels). From the preferences and the output
lengths ``alignlab.evaluate.preferences.winrate.win_rate`` gives the raw win rate, the discrete win rate and the
length-controlled (LC) win rate of AlpacaEval 2's GLM (Dubois et al., 2024). The LC win rate is the win rate
predicted at equal length: a judge that rewards length alone moves the raw figure but not the LC one.

References (``reference=``):

- ``mt-bench`` (default): MT-Bench's questions (first turn) that have GPT-4 reference answers (30), from the data
  directory (public sources ``mt-bench/questions`` and ``mt-bench/references``);
- ``alpaca-eval``: AlpacaEval's 805 instructions with its text-davinci-003 outputs (source ``alpaca-eval``: a file
  in the data directory or the hub copy ``tatsu-lab/alpaca_eval``, unpinned);
- a file of ``{instruction, output}`` rows (JSON, JSONL, CSV, parquet or ``hf://``);
- the run's reference model (``--reference-model``) answering the same instructions, when one is given: then
  ``reference`` only supplies the instructions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alignlab.data import locate, open_source
from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Suite, SuiteSkipped
from alignlab.evaluate.judges import OUTCOME_SCORE, Judge, combine_orders, pairwise_prompt, parse_pairwise
from alignlab.evaluate.metric_info import COUNT, MetricInfo, statistic
from alignlab.evaluate.preferences.winrate import win_rate
from alignlab.models import GenerateRequest, Model


def read_references(reference: str, limit: int | None = None) -> list[Sample]:
    """Instructions with reference outputs (see the module docstring for ``reference``)."""
    if reference == "mt-bench":
        from alignlab.evaluate.instructions.arena import read_questions
        from alignlab.evaluate.instructions.arena import read_references as mt_references

        refs = mt_references(locate("mt-bench/references"))
        rows = [(q.id, q.turns[0], refs[q.id][0]) for q in read_questions(locate("mt-bench/questions"))
                if q.id in refs and refs[q.id]]
    else:
        where = locate("alpaca-eval") if reference == "alpaca-eval" else locate("reference", reference)
        rows = []
        for part in open_source(where):
            for n, row in part.rows():
                if not isinstance(row, dict):
                    raise DataError(f"{where}:{n}: {getattr(row, 'error', 'not a JSON object')}")
                if not isinstance(row.get("instruction"), str) or not isinstance(row.get("output"), str):
                    raise DataError(f"{where}:{n}: expected string fields 'instruction' and 'output'")
                rows.append((str(row.get("id", len(rows))), row["instruction"], row["output"]))
    if not rows:
        raise DataError(f"{reference}: no instructions with reference outputs")
    samples = [Sample(id=i, input=[{"role": "user", "content": q}], target=ref, metadata={"instruction": q})
               for i, q, ref in rows]
    return samples[:limit] if limit is not None else samples


def winrate_solver(judge: Judge, max_tokens: int, reference_model: Model | None = None):  # noqa: ANN201
    """Answer, (optionally) let the reference model answer, then judge every pair in both orders."""

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs = [GenerateRequest(s.input, max_tokens=max_tokens) for s in samples]
        answers = model.generate(reqs)
        refs = ([r.text if r.error is None else None for r in reference_model.generate(reqs)] if reference_model
                else [s.target for s in samples])
        prompts = []
        for s, a, ref in zip(samples, answers, refs, strict=True):
            q = [s.metadata["instruction"]]
            prompts += [pairwise_prompt(q, [a.text], [ref]), pairwise_prompt(q, [ref], [a.text])]
        replies = judge.ask(prompts)
        outs = []
        for i, (a, ref) in enumerate(zip(answers, refs, strict=True)):
            first, second = replies[2 * i], replies[2 * i + 1]
            err = (a.error or (None if ref is not None else "the reference model failed")
                   or first.error or second.error)
            if err:
                outs.append(Output(text=a.text, error=err))
                continue
            v1, v2 = parse_pairwise(first.output), parse_pairwise(second.output)
            outcome, disagreed = combine_orders(v1, v2)
            outs.append(Output(
                text=a.text,
                answer={"preference": OUTCOME_SCORE[outcome] if outcome else None, "model_length": len(a.text),
                        "reference_length": len(ref)},
                judge={"outcome": outcome, "disagreed": disagreed,
                       "model_as_a": {"output": first.output, "verdict": v1},
                       "model_as_b": {"output": second.output, "verdict": v2}},
                extra={"reference": ref}))
        return outs

    return solve


def _score(sample: Sample, output: Output) -> dict[str, float | None]:
    a, j = output.answer or {}, output.judge or {}
    return {"preference": a.get("preference"),
            "judge_parse_failures": float((j.get("model_as_a", {}).get("verdict") is None)
                                          + (j.get("model_as_b", {}).get("verdict") is None)),
            "position_disagreement": float(bool(j.get("disagreed")))}


def winrate_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ok = [r for r in records if r.get("error") is None and (r.get("answer") or {}).get("preference") is not None]
    n = len(records)
    out: dict[str, dict[str, Any]] = {
        "judge_parse_failures": {"value": sum(r["scores"]["judge_parse_failures"] for r in records
                                              if r.get("scores")), "n": 2 * n},
        "position_disagreements": {"value": sum(r["scores"]["position_disagreement"] for r in ok), "n": len(ok)},
        "errors": {"value": sum(r.get("error") is not None for r in records), "n": n},
    }
    if not ok:
        return out
    wr = win_rate([r["answer"]["preference"] for r in ok],
                  model_lengths=[r["answer"]["model_length"] for r in ok],
                  baseline_lengths=[r["answer"]["reference_length"] for r in ok])

    def fig(value: float | None, se: float | None) -> dict[str, Any]:
        ci = [max(0.0, value - 1.96 * se), min(1.0, value + 1.96 * se)] if value is not None and se else None
        return {"value": value, "stderr": se, "ci": ci, "n": len(ok)}

    out |= {"win_rate": fig(wr.win_rate, wr.standard_error),
            "discrete_win_rate": fig(wr.discrete_win_rate, wr.discrete_standard_error),
            "length_controlled_win_rate": fig(wr.length_controlled_win_rate, wr.lc_standard_error),
            "mean_length_difference": {"value": sum(r["answer"]["model_length"] - r["answer"]["reference_length"]
                                                    for r in ok) / len(ok), "n": len(ok)}}
    return out


WINRATE_METRICS: dict[str, MetricInfo] = {
    "win_rate": statistic("score", "higher", (0.0, 1.0), chance=0.5,
                          description="mean preference for the model's output over the reference (tie = ½)"),
    "discrete_win_rate": statistic("score", "higher", (0.0, 1.0), chance=0.5,
                                   description="wins + ties / 2 over instructions"),
    "length_controlled_win_rate": statistic(
        "score", "higher", (0.0, 1.0), chance=0.5,
        description="AlpacaEval 2's GLM win rate predicted at equal output length (bootstrap standard error)"),
    "mean_length_difference": statistic("descriptive", "none", description="model − reference length, characters"),
    "judge_parse_failures": MetricInfo("reliability", "lower", (0.0, None), aggregation="count",
                                       description="judge outputs with no verdict (two per instruction)"),
    "position_disagreements": MetricInfo("reliability", "lower", (0.0, None), aggregation="count",
                                         description="instructions whose two orders disagreed (scored as a tie)"),
    "errors": COUNT,
}


@register_suite("preferences/alpaca-winrate", sources=("mt-bench/questions", "mt-bench/references"))
def alpaca_winrate(reference: str = "mt-bench", judge: Model | None = None, reference_model: Model | None = None,
                   limit: int | None = None, max_tokens: int = 512, judge_max_tokens: int = 512) -> Suite:
    """AlpacaEval-style win rate vs reference outputs, judged in both orders, with the length-controlled figure."""
    if judge is None:
        raise SuiteSkipped("needs a judge: pass --judge SPEC")
    if limit is not None and limit < 1:
        raise AlignlabError(f"limit must be at least 1 (got {limit})")
    samples = read_references(reference, limit)
    against = f"the reference model {reference_model.spec}" if reference_model else f"{reference}'s reference outputs"
    return Suite(name="", level="preferences", samples=samples,
                 solver=winrate_solver(Judge(judge, max_tokens=judge_max_tokens), max_tokens, reference_model),
                 scorer=_score, metrics=[winrate_metrics], primary_metric="length_controlled_win_rate",
                 description=f"AlpacaEval-style win rate against {against} ({len(samples)} instructions), judged "
                             f"by {judge.spec} in both orders; raw and length-controlled (AlpacaEval 2 GLM).",
                 metric_info=WINRATE_METRICS)
