"""Automatic chatbot arena on MT-Bench's two-turn questions, judged by an LLM (``alignlab eval --judge SPEC``).

- ``instructions/mt-bench``: single-answer grading. The model answers turn 1, then turn 2 with the conversation so
  far; the judge rates each turn 1–10, reference-guided for the categories with reference answers (maths,
  reasoning, coding, as MT-Bench does). Metrics: mean score overall and per turn with CIs, per category.
- ``instructions/arena-vs-reference``: pairwise against a reference answer set (MT-Bench's reference-answer
  format). Each turn is judged twice, the model first as A then as B; disagreement counts as a tie. Metric: win
  rate against the reference, ties as 0.5, with a CI.

Neither file is shipped (they are FastChat's data): pass ``questions=PATH`` and, where needed, ``references=PATH``.
Generation is greedy for every category (MT-Bench samples writing and roleplay at temperature 0.7); that keeps
runs reproducible and cached. Judge outputs that do not parse give no score but are counted
(``judge_parse_failures``) and kept in the record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.data import json_lines
from alignlab.errors import AlignlabError, DataError
from alignlab.evaluate._registry import register_suite
from alignlab.evaluate._suite import Output, Sample, Suite, SuiteSkipped
from alignlab.evaluate.judges import (
    OUTCOME_SCORE,
    Judge,
    JudgePrompt,
    combine_orders,
    pairwise_prompt,
    parse_pairwise,
    parse_rating,
    single_prompt,
)
from alignlab.evaluate.metric_info import COUNT, MetricInfo, statistic
from alignlab.evaluate.stats import mean_ci
from alignlab.files import read_text
from alignlab.models import GenerateRequest, Message, Model

REFERENCE_CATEGORIES = "math,reasoning,coding"
"""MT-Bench's categories graded against a reference answer (FastChat's ``NEED_REF_CATS``)."""
NEEDS_JUDGE = "needs a judge: pass --judge SPEC"


@dataclass
class MTQuestion:
    """One MT-Bench question: its user turns and, where there is one, a reference answer per turn."""

    id: str
    category: str
    turns: list[str]
    reference: list[str] | None = None


def _jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = read_text(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    return json_lines(text, str(path))


def _strings(value: Any, where: str, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise DataError(f"{where}: field {name!r} must be a list of strings")
    return list(value)


def read_questions(path: str | Path) -> list[MTQuestion]:
    """MT-Bench's ``question.jsonl``: ``question_id``, ``category``, ``turns`` and an optional ``reference``."""
    out, seen = [], set()
    for n, row in _jsonl(path):
        where = f"{path}:{n}"
        for name in ("question_id", "turns"):
            if name not in row:
                raise DataError(f"{where}: missing field {name!r}")
        qid = str(row["question_id"])
        if qid in seen:
            raise DataError(f"{where}: duplicate question_id {qid}")
        seen.add(qid)
        ref = row.get("reference")
        out.append(MTQuestion(qid, str(row.get("category", "general")), _strings(row["turns"], where, "turns"),
                              _strings(ref, where, "reference") if ref else None))
    if not out:
        raise DataError(f"{path}: no questions")
    return out


def read_references(path: str | Path) -> dict[str, list[str]]:
    """MT-Bench's reference answers (``question_id``, ``choices[0].turns``); ``turns`` or ``answer`` also work."""
    out = {}
    for n, row in _jsonl(path):
        where = f"{path}:{n}"
        if "question_id" not in row:
            raise DataError(f"{where}: missing field 'question_id'")
        if isinstance(row.get("choices"), list) and row["choices"] and isinstance(row["choices"][0], dict):
            turns = row["choices"][0].get("turns")
            name = "choices[0].turns"
        else:
            name = "turns" if "turns" in row else "answer"
            turns = row.get(name)
        if turns is None:
            raise DataError(f"{where}: no answer: expected choices[0].turns, turns or answer")
        out[str(row["question_id"])] = _strings(turns, where, name)
    return out


def _names(value: Any) -> list[str]:
    """A category list from Python (a list) or the command line (``math+reasoning``; commas split suite args)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [v for v in re.split(r"[+|;,\s]+", str(value)) if v]


def _load(questions: str | None, references: str | None, suite: str, categories: Any,
          need_references: bool) -> list[MTQuestion]:
    if not questions:  # the public source in the data directory (the error says where it looked)
        from alignlab.data import local_file, locate

        questions = locate("mt-bench/questions")
        if not references and not need_references:  # FastChat grades with the GPT-4 references beside them
            found = local_file("mt-bench/references")
            references = str(found) if found else None
    if need_references and not references:
        raise AlignlabError(f"{suite} needs a reference answer set",
                            hint=f"pass {suite}:questions=PATH,references=PATH/reference_answer/gpt-4.jsonl")
    qs = read_questions(questions)
    if references:
        refs = read_references(references)
        for q in qs:
            q.reference = refs.get(q.id, q.reference)
    if wanted := _names(categories):
        unknown = set(wanted) - {q.category for q in qs}
        if unknown:
            raise AlignlabError(f"{suite}: no questions in categories {sorted(unknown)}",
                                hint="categories: " + ", ".join(sorted({q.category for q in qs})))
        qs = [q for q in qs if q.category in wanted]
    return qs


def _samples(qs: Sequence[MTQuestion], turns: int) -> list[Sample]:
    return [Sample(id=q.id, input=q.turns[0], target=q.reference,
                   metadata={"category": q.category, "turns": q.turns[:turns]}) for q in qs]


def _answer_turns(model: Model, samples: Sequence[Sample], max_tokens: int) -> tuple[list[list[str]], list[str | None]]:
    """The model's answers, turn by turn (turn k sees the conversation so far); one batched call per turn."""
    answers: list[list[str]] = [[] for _ in samples]
    errors: list[str | None] = [None] * len(samples)
    n_turns = max(len(s.metadata["turns"]) for s in samples)
    for t in range(n_turns):
        todo = [i for i, s in enumerate(samples) if errors[i] is None and t < len(s.metadata["turns"])]
        reqs = []
        for i in todo:
            msgs: list[Message] = []
            for q, a in zip(samples[i].metadata["turns"][:t], answers[i], strict=True):
                msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            msgs.append({"role": "user", "content": samples[i].metadata["turns"][t]})
            reqs.append(GenerateRequest(msgs, max_tokens=max_tokens, temperature=0.0))
        for i, res in zip(todo, model.generate(reqs) if reqs else [], strict=True):
            if res.error is not None:
                errors[i] = f"model failed on turn {t + 1}: {res.error}"
            else:
                answers[i].append(res.text.strip())
    return answers, errors


def _transcript(answers: Sequence[str]) -> str:
    """The answers as one readable text (the record's ``output``); ``extra['answers']`` keeps them apart."""
    return "\n\n".join(f"### Turn {k} answer\n{a}" for k, a in enumerate(answers, 1))


def _judge_all(judge: Judge, prompts: list[list[JudgePrompt]]) -> list[list[Any]]:
    """Ask every sample's prompts in one batch; returns the replies grouped back per sample."""
    flat = [p for ps in prompts for p in ps]
    replies = iter(judge.ask(flat))
    return [[next(replies) for _ in ps] for ps in prompts]


def _failures(records: list[dict[str, Any]], calls_per_judgement: int = 1) -> dict[str, Any]:
    """Judge outputs that did not parse: count, out of how many judge calls, and the rate."""
    ok = [r for r in records if r.get("error") is None]
    n = calls_per_judgement * sum(len(r.get("judge") or []) for r in ok)
    count = sum(int((r.get("scores") or {}).get("judge_parse_failures") or 0) for r in ok)
    return {"value": count, "n": n, "rate": count / n if n else None}


# ---------------------------------------------------------------- single-answer grading


def _mt_bench_solver(judge: Judge, max_tokens: int, ref_cats: set[str]):  # noqa: ANN202 - a Solver
    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        answers, errors = _answer_turns(model, samples, max_tokens)
        prompts: list[list[JudgePrompt]] = []
        for s, ans, err in zip(samples, answers, errors, strict=True):
            turns, ref = s.metadata["turns"], s.target
            guided = s.metadata["category"] in ref_cats and ref is not None and len(ref) >= len(turns)
            prompts.append([] if err else [
                single_prompt(turns[: t + 1], ans[: t + 1], ref[: t + 1] if guided and ref[t].strip() else None)
                for t in range(len(turns))])
        outs = []
        for ans, err, replies in zip(answers, errors, _judge_all(judge, prompts), strict=True):
            text = _transcript(ans)
            judge_err = next((r.error for r in replies if r.error), None)
            if err or judge_err:
                outs.append(Output(text=text, error=err or f"judge failed: {judge_err}", extra={"answers": ans}))
                continue
            ratings = [parse_rating(r.output) for r in replies]
            outs.append(Output(text=text, answer=ratings, extra={"answers": ans},
                               judge=[{"turn": t, "template": r.template, "output": r.output, "rating": v}
                                      for t, (r, v) in enumerate(zip(replies, ratings, strict=True), 1)]))
        return outs

    return solve


def _mt_bench_score(sample: Sample, output: Output) -> dict[str, float | None]:
    ratings: list[float | None] = list(output.answer or [])
    got = [r for r in ratings if r is not None]
    scores: dict[str, float | None] = {f"score_turn{t}": r for t, r in enumerate(ratings, 1)}
    scores["score"] = sum(got) / len(got) if got else None
    scores["judge_parse_failures"] = float(len(ratings) - len(got))
    return scores


_JUDGE_FAILURES = MetricInfo("reliability", "lower", (0.0, None), aggregation="count",
                             description="judge outputs that did not parse (count; ``rate`` beside it)")
_RATING = statistic("score", "higher", (1.0, 10.0), description="judge rating 1–10, pooled over turns")
MT_BENCH_METRICS: dict[str, MetricInfo] = {
    "score": _RATING,
    "score_scaled": statistic("score", "higher", (0.1, 1.0), description="the judge's rating / 10"),
    "score_turn{t}": MetricInfo("score", "higher", (1.0, 10.0), description="judge rating of one turn"),
    "score/{category}": _RATING,
    "judge_parse_failures": _JUDGE_FAILURES,
}
_WIN = statistic("score", "higher", (0.0, 1.0), description="games won against the reference (tie = ½)")
ARENA_METRICS: dict[str, MetricInfo] = {
    "win_rate": _WIN, "win_rate_turn{t}": _WIN, "win_rate/{category}": _WIN,
    "wins": COUNT, "ties": COUNT, "losses": COUNT,
    "position_disagreements": MetricInfo("reliability", "lower", (0.0, None), aggregation="count",
                                         description="games whose two judge orders disagreed"),
    "judge_parse_failures": _JUDGE_FAILURES,
}


def _mt_bench_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ok = [r for r in records if r.get("error") is None]
    ratings = [(r, k, v) for r in ok for k, v in (r.get("scores") or {}).items() if k.startswith("score_turn")]
    out = {"score": mean_ci([v for _, _, v in ratings])}
    # A 0–1 view for the level scorecard, which averages suites' primary metrics.
    out["score_scaled"] = {**out["score"], **{k: (None if out["score"][k] is None else out["score"][k] / 10)
                                            for k in ("value", "stderr")},
                           "ci": [None if c is None else c / 10 for c in out["score"]["ci"]]}
    for turn in sorted({k for _, k, _ in ratings}):
        out[turn] = mean_ci([v for _, k, v in ratings if k == turn])
    for cat in sorted({r["metadata"]["category"] for r in ok}):
        out[f"score/{cat}"] = mean_ci([v for r, _, v in ratings if r["metadata"]["category"] == cat])
    out["judge_parse_failures"] = _failures(records)
    return out


@register_suite("instructions/mt-bench", sources=("mt-bench/questions",))
def mt_bench(questions: str | None = None, references: str | None = None, judge: Model | None = None,
             turns: int = 2, categories: str | None = None, reference_categories: str = REFERENCE_CATEGORIES,
             max_tokens: int = 1024, judge_max_tokens: int = 1024) -> Suite:
    """MT-Bench single-answer grading (1–10 per turn) by an LLM judge; reference-guided for maths/reasoning/coding.

    ``questions`` defaults to the public source ``mt-bench/questions`` in the data directory, with the GPT-4
    reference answers beside it (``mt-bench/references``) when present. ``references`` (MT-Bench's
    reference-answer file) replaces the questions' own ``reference`` fields where both exist.
    ``categories``/``reference_categories``: names joined by ``+`` on the command line.
    """
    if judge is None:
        raise SuiteSkipped(NEEDS_JUDGE)
    if turns not in (1, 2):
        raise AlignlabError(f"instructions/mt-bench: turns must be 1 or 2, not {turns!r}")
    qs = _load(questions, references, "instructions/mt-bench", categories, need_references=False)
    return Suite(
        name="instructions/mt-bench", level="instructions", samples=_samples(qs, turns),
        solver=_mt_bench_solver(Judge(judge, max_tokens=judge_max_tokens), max_tokens,
                                set(_names(reference_categories))),
        scorer=_mt_bench_score, metrics=[_mt_bench_metrics],
        description=f"MT-Bench ({len(qs)} two-turn questions): LLM judge grades each turn 1–10 "
                    f"(reference-guided for {', '.join(_names(reference_categories))}); judge {judge.spec}.",
        primary_metric="score_scaled", metric_info=MT_BENCH_METRICS,
    )


# ---------------------------------------------------------------- pairwise against a reference answer set


def _arena_solver(judge: Judge, max_tokens: int):  # noqa: ANN202 - a Solver
    def solve(model: Model, samples: Sequence[Sample]) -> list[Output]:
        answers, errors = _answer_turns(model, samples, max_tokens)
        prompts: list[list[JudgePrompt]] = []
        for s, ans, err in zip(samples, answers, errors, strict=True):
            turns, ref = s.metadata["turns"], s.target
            prompts.append([] if err else [
                p for t in range(len(turns))
                for p in (pairwise_prompt(turns[: t + 1], ans[: t + 1], ref[: t + 1]),   # model is A
                          pairwise_prompt(turns[: t + 1], ref[: t + 1], ans[: t + 1]))   # model is B
            ])
        outs = []
        for ans, err, replies in zip(answers, errors, _judge_all(judge, prompts), strict=True):
            text = _transcript(ans)
            judge_err = next((r.error for r in replies if r.error), None)
            if err or judge_err:
                outs.append(Output(text=text, error=err or f"judge failed: {judge_err}", extra={"answers": ans}))
                continue
            games, outcomes = [], []
            for t in range(len(replies) // 2):
                first, second = replies[2 * t], replies[2 * t + 1]
                v1, v2 = parse_pairwise(first.output), parse_pairwise(second.output)
                outcome, disagreed = combine_orders(v1, v2)
                outcomes.append(outcome)
                games.append({"turn": t + 1, "template": first.template, "outcome": outcome,
                              "disagreed": disagreed, "model_as_a": {"output": first.output, "verdict": v1},
                              "model_as_b": {"output": second.output, "verdict": v2}})
            outs.append(Output(text=text, answer=outcomes, judge=games, extra={"answers": ans}))
        return outs

    return solve


def _arena_score(sample: Sample, output: Output) -> dict[str, float | None]:
    games = output.judge or []
    scores: dict[str, float | None] = {
        f"win_turn{g['turn']}": OUTCOME_SCORE.get(g["outcome"]) if g["outcome"] else None for g in games}
    got = [v for v in scores.values() if v is not None]
    scores["win"] = sum(got) / len(got) if got else None
    failures = sum((g["model_as_a"]["verdict"] is None) + (g["model_as_b"]["verdict"] is None) for g in games)
    scores["judge_parse_failures"] = float(failures)
    scores["position_disagreements"] = float(sum(g["disagreed"] for g in games))
    return scores


def _arena_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ok = [r for r in records if r.get("error") is None]
    games = [(r, g) for r in ok for g in (r.get("judge") or [])]
    out = {"win_rate": mean_ci([OUTCOME_SCORE.get(g["outcome"] or "") for _, g in games])}
    for turn in sorted({g["turn"] for _, g in games}):
        out[f"win_rate_turn{turn}"] = mean_ci([OUTCOME_SCORE.get(g["outcome"] or "") for _, g in games
                                               if g["turn"] == turn])
    for cat in sorted({r["metadata"]["category"] for r in ok}):
        out[f"win_rate/{cat}"] = mean_ci([OUTCOME_SCORE.get(g["outcome"] or "") for r, g in games
                                          if r["metadata"]["category"] == cat])
    n = len(games)
    for outcome, name in (("win", "wins"), ("tie", "ties"), ("loss", "losses")):
        out[name] = {"value": sum(g["outcome"] == outcome for _, g in games), "n": n}
    out["position_disagreements"] = {"value": sum(g["disagreed"] for _, g in games), "n": n}
    out["judge_parse_failures"] = _failures(records, calls_per_judgement=2)  # each game asks the judge twice
    return out


@register_suite("instructions/arena-vs-reference")
def arena_vs_reference(questions: str | None = None, references: str | None = None, judge: Model | None = None,
                       turns: int = 2, categories: str | None = None, max_tokens: int = 1024,
                       judge_max_tokens: int = 1024) -> Suite:
    """Pairwise LLM-judge battles against a reference answer set, both orders; win rate with ties as 0.5."""
    if judge is None:
        raise SuiteSkipped(NEEDS_JUDGE)
    if turns not in (1, 2):
        raise AlignlabError(f"instructions/arena-vs-reference: turns must be 1 or 2, not {turns!r}")
    qs = _load(questions, references, "instructions/arena-vs-reference", categories, need_references=True)
    refs = read_references(str(references))
    qs = [q for q in qs if q.id in refs and len(refs[q.id]) >= min(turns, len(q.turns))]
    if not qs:
        raise AlignlabError("instructions/arena-vs-reference: no question has a reference answer",
                            hint="the references file's question_id values must match the questions'")
    for q in qs:
        q.reference = refs[q.id]
    return Suite(
        name="instructions/arena-vs-reference", level="instructions", samples=_samples(qs, turns),
        solver=_arena_solver(Judge(judge, max_tokens=judge_max_tokens), max_tokens),
        scorer=_arena_score, metrics=[_arena_metrics],
        description=f"Pairwise vs a reference answer set ({len(qs)} questions, {turns} turn(s)), judged in both "
                    f"orders (disagreement = tie); win rate with ties as 0.5; judge {judge.spec}.",
        primary_metric="win_rate", metric_info=ARENA_METRICS,
    )
