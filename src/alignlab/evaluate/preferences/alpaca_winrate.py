"""AlpacaEval-style judged win rate against reference outputs, with AlpacaEval 2's length control.

For each instruction the model answers; a judge compares the answer with a reference output in both orders
(MT-Bench's pairwise prompt, ``alignlab.evaluate.judges``); the preference is 1 (model wins both), 0 (reference
wins both) or 0.5 (tie, or the two orders disagree: position bias cancels). From the preferences and the output
lengths ``alignlab.evaluate.preferences.winrate.win_rate`` gives the raw win rate, the discrete win rate and the
length-controlled (LC) win rate of AlpacaEval 2's GLM (Dubois et al., 2024). The LC win rate is the win rate
predicted at equal length: a judge that rewards length alone moves the raw figure but not the LC one.

The judge is checked in the same run (``judge_check``, on by default): for each instruction it also compares the
reference answer with the next instruction's, both orders. The share it decides for the answer to the question
asked is ``judge_check`` (chance ½); below ``JUDGE_CHECK_MIN`` the win rates are gated as not interpretable (a
135M judge sits at chance: BENCHMARKS.md, ``judge-validity``). ``verdicts=logprob`` takes the verdict from the
log-probabilities of ``[[A]]`` and ``[[B]]`` (AlpacaEval 2's weighted protocol) instead of parsing a written one.

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
from alignlab.evaluate.judges import (
    OUTCOME_SCORE,
    Judge,
    JudgePrompt,
    JudgeReply,
    JudgeWeight,
    combine_orders,
    combine_weights,
    pairwise_prompt,
    pairwise_verdict_prompt,
    parse_pairwise,
)
from alignlab.evaluate.metric_info import COUNT, MetricInfo, ReliabilityGate, statistic
from alignlab.evaluate.preferences.winrate import win_rate
from alignlab.evaluate.stats import mean_ci
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


VERDICTS = ("generate", "logprob")
"""How the judge gives its verdict: it writes one (MT-Bench's prompt, parsed), or the log-probabilities of the two
verdicts make a soft one (AlpacaEval 2's weighted protocol; needs a backend that scores continuations)."""

JUDGE_CHECK_MIN = 0.8
"""Share of known-groups pairs the judge must decide right before its win rates read as a finding. The pairs are
not close calls (an answer to the question asked against an answer to another question): a competent judge gets
nearly all of them, and one at 0.8 or below is guessing on a fifth or more of the easiest comparisons it can meet."""


def off_topic_answers(samples: Sequence[Sample]) -> dict[str, str]:
    """Each sample's check partner: the next instruction's reference answer (in the suite's order, wrapping), so
    the check does not depend on how the runner batches samples."""
    if len(samples) < 2:
        return {}
    return {s.id: other for i, s in enumerate(samples)
            if s.target and (other := samples[(i + 1) % len(samples)].target) and other != s.target}


def winrate_solver(judge: Judge, max_tokens: int, reference_model: Model | None = None,
                   verdicts: str = "generate", off_topic: dict[str, str] | None = None):  # noqa: ANN201
    """Answer, (optionally) let the reference model answer, then judge every pair in both orders.

    With ``off_topic`` (sample id → another instruction's reference answer) the judge also compares each
    instruction's reference answer with that one (both orders, same protocol): a known-groups check of the judge
    itself, whose share decided right gates the win rates (``JUDGE_CHECK_MIN``)."""
    make_prompt = pairwise_verdict_prompt if verdicts == "logprob" else pairwise_prompt

    def both_orders(question: str, first: str, second: str) -> list[JudgePrompt]:
        return [make_prompt([question], [first], [second]), make_prompt([question], [second], [first])]

    def preference(first: JudgeReply | JudgeWeight, second: JudgeReply | JudgeWeight) -> dict[str, Any]:
        """The first-named answer's preference from the two orders (it was shown first, then second)."""
        if isinstance(first, JudgeWeight) and isinstance(second, JudgeWeight):
            pref, disagreed = combine_weights(first.p_a, second.p_a)  # type: ignore[arg-type]
            return {"preference": pref, "disagreed": disagreed, "p_first_position": [first.p_a, second.p_a],
                    "as_a": {"p": first.p_a}, "as_b": {"p": 1.0 - second.p_a}}  # type: ignore[operator]
        v1, v2 = parse_pairwise(first.output), parse_pairwise(second.output)  # type: ignore[union-attr]
        outcome, disagreed = combine_orders(v1, v2)
        return {"preference": OUTCOME_SCORE[outcome] if outcome else None, "outcome": outcome,
                "disagreed": disagreed, "as_a": {"output": first.output, "verdict": v1},  # type: ignore[union-attr]
                "as_b": {"output": second.output, "verdict": v2}}  # type: ignore[union-attr]

    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        reqs = [GenerateRequest(s.input, max_tokens=max_tokens) for s in samples]
        answers = model.generate(reqs)
        refs = ([r.text if r.error is None else None for r in reference_model.generate(reqs)] if reference_model
                else [s.target for s in samples])
        prompts = []
        for s, a, ref in zip(samples, answers, refs, strict=True):
            prompts += both_orders(s.metadata["instruction"], a.text, ref or "")
        checks: dict[int, int] = {}  # sample index → position of its two check prompts
        for i, s in enumerate(samples):
            if (other := (off_topic or {}).get(s.id)) is not None:
                checks[i] = len(prompts)
                prompts += both_orders(s.metadata["instruction"], str(s.target), other)
        replies: Sequence[JudgeReply | JudgeWeight] = (judge.weigh(prompts) if verdicts == "logprob"
                                                       else judge.ask(prompts))
        outs = []
        for i, (a, ref) in enumerate(zip(answers, refs, strict=True)):
            first, second = replies[2 * i], replies[2 * i + 1]
            err = (a.error or (None if ref is not None else "the reference model failed")
                   or first.error or second.error)
            if err:
                outs.append(Output(text=a.text, error=err))
                continue
            got = preference(first, second)
            verdict = {k: got[k] for k in ("outcome", "disagreed", "p_first_position") if k in got}
            verdict |= {"model_as_a": got["as_a"], "model_as_b": got["as_b"]}
            if i in checks:
                c1, c2 = replies[checks[i]], replies[checks[i] + 1]
                on_topic = None if c1.error or c2.error else preference(c1, c2)["preference"]
                verdict["known_groups"] = {"on_topic_preference": on_topic, "error": c1.error or c2.error}
            outs.append(Output(
                text=a.text,
                answer={"preference": got["preference"], "model_length": len(a.text), "reference_length": len(ref)},
                judge=verdict, extra={"reference": ref}))
        return outs

    return solve


def _score(sample: Sample, output: Output) -> dict[str, float | None]:
    a, j = output.answer or {}, output.judge or {}
    scores: dict[str, float | None] = {"preference": a.get("preference"),
                                       "position_disagreement": float(bool(j.get("disagreed")))}
    on_topic = (j.get("known_groups") or {}).get("on_topic_preference")
    if on_topic is not None:  # decided right (1), a tie (½) or wrong (0)
        scores["judge_check"] = 1.0 if on_topic > 0.5 else 0.5 if on_topic == 0.5 else 0.0
    if "p_first_position" in j:  # soft verdicts always exist; the position preference is what can go wrong
        scores["first_position_preference"] = sum(j["p_first_position"]) / 2
        scores["judge_parse_failures"] = 0.0
    else:
        scores["judge_parse_failures"] = float((j.get("model_as_a", {}).get("verdict") is None)
                                               + (j.get("model_as_b", {}).get("verdict") is None))
    return scores


def winrate_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ok = [r for r in records if r.get("error") is None and (r.get("answer") or {}).get("preference") is not None]
    n = len(records)
    out: dict[str, dict[str, Any]] = {
        "judge_parse_failures": {"value": sum(r["scores"]["judge_parse_failures"] for r in records
                                              if r.get("scores")), "n": 2 * n},
        "position_disagreements": {"value": sum(r["scores"]["position_disagreement"] for r in ok), "n": len(ok)},
        "errors": {"value": sum(r.get("error") is not None for r in records), "n": n},
    }
    check = [r["scores"]["judge_check"] for r in records if (r.get("scores") or {}).get("judge_check") is not None]
    if check:
        out["judge_check"] = mean_ci(check)
    first = [r["scores"]["first_position_preference"] for r in ok if "first_position_preference" in r["scores"]]
    if first:
        out["first_position_preference"] = {"value": sum(first) / len(first), "n": len(first)}
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
    "first_position_preference": MetricInfo(
        "reliability", "target", (0.0, 1.0), target=0.5,
        description="log-probability verdicts only: the judge's mean probability that the first-shown answer is "
                    "better (0.5 = no position bias; both orders are averaged, so the win rate cancels it)"),
    "judge_check": MetricInfo(
        "reliability", "higher", (0.0, 1.0), chance=0.5,
        description="known-groups check of the judge: share of instructions where it prefers the reference answer "
                    "to the question asked over the next instruction's reference answer (both orders; tie = ½)"),
    "errors": COUNT,
}

WINRATE_GATES = [ReliabilityGate(
    "judge_check", covers=("win_rate", "discrete_win_rate", "length_controlled_win_rate"),
    at_least=JUDGE_CHECK_MIN,
    reason="the judge cannot reliably tell an answer to the question asked from an answer to another question, so "
           "its verdicts between two answers to the same question are not evidence of which is better")]


@register_suite("preferences/alpaca-winrate", sources=("mt-bench/questions", "mt-bench/references"))
def alpaca_winrate(reference: str = "mt-bench", judge: Model | None = None, reference_model: Model | None = None,
                   limit: int | None = None, max_tokens: int = 512, judge_max_tokens: int = 512,
                   verdicts: str = "generate", judge_check: bool = True) -> Suite:
    """AlpacaEval-style win rate vs reference outputs, judged in both orders, with the length-controlled figure.
    ``verdicts=logprob`` weighs the judge's two possible verdicts instead of parsing a written one;
    ``judge_check`` (on by default) checks the judge on pairs whose right verdict is known and gates the win rates
    on it."""
    if judge is None:
        raise SuiteSkipped("needs a judge: pass --judge SPEC")
    if verdicts not in VERDICTS:
        raise AlignlabError(f"verdicts must be one of {', '.join(VERDICTS)} (got {verdicts!r})")
    if limit is not None and limit < 1:
        raise AlignlabError(f"limit must be at least 1 (got {limit})")
    samples = read_references(reference, limit)
    against = f"the reference model {reference_model.spec}" if reference_model else f"{reference}'s reference outputs"
    return Suite(name="", level="preferences", samples=samples,
                 solver=winrate_solver(Judge(judge, max_tokens=judge_max_tokens), max_tokens, reference_model,
                                       verdicts, off_topic_answers(samples) if judge_check else None),
                 scorer=_score, metrics=[winrate_metrics], primary_metric="length_controlled_win_rate",
                 description=f"AlpacaEval-style win rate against {against} ({len(samples)} instructions), judged "
                             f"by {judge.spec} in both orders"
                             + (" from the log-probabilities of its two verdicts" if verdicts == "logprob" else "")
                             + "; raw and length-controlled (AlpacaEval 2 GLM).",
                 metric_info=WINRATE_METRICS, gates=WINRATE_GATES if judge_check else [])
