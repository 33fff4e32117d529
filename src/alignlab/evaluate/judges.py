"""LLM-as-judge on any backend: prompt templates, verdict parsing and position swap.

Two protocols, both from MT-Bench (Zheng et al., 2023); the prompt wording follows FastChat's
``fastchat/llm_judge/data/judge_prompts.jsonl`` (Apache-2.0) so scores stay comparable with published ones:

- pairwise: the judge sees a question and two answers and ends with ``[[A]]``, ``[[B]]`` or ``[[C]]`` (tie). Every
  pair is judged in both orders; if the two verdicts disagree once mapped back, the game is a tie (position bias
  cancels out instead of deciding the game).
- pairwise by log-probability (AlpacaEval 2's weighted protocol): the judge is asked for the verdict alone and never
  generates; the log-probabilities of the two verdicts ``[[A]]`` and ``[[B]]`` as its reply give a soft verdict
  P(A) = p(A) / (p(A) + p(B)). It needs a backend that scores continuations, and a small model that never writes a
  parsable verdict still gives one; whether that verdict means anything is a property of the judge, measured by
  ``bench/judge_validity.py``.
- single-answer grading: the judge rates one answer 1–10 as ``[[rating]]``. For maths and reasoning a reference
  answer is shown and the judge is told to check against it (``*-ref`` templates).

Parsing never guesses: an output with no recognisable verdict parses to None, and callers count those as parse
failures next to the figures (the raw output stays in the record).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from alignlab.models import GenerateRequest, LoglikelihoodRequest, Message, Model

Verdict = Literal["A", "B", "C"]
Outcome = Literal["win", "tie", "loss"]
OUTCOME_SCORE: dict[str, float] = {"win": 1.0, "tie": 0.5, "loss": 0.0}

_RATING_RULE = (
    'After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this '
    'format: "[[rating]]", for example: "Rating: [[5]]".'
)
_GENERAL = ("Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, "
            "creativity, and level of detail of the response.")
_CORRECTNESS = ("Your evaluation should consider correctness and helpfulness. You will be given a reference answer "
                "and the assistant's answer.")
_COMPARE_REF = ("Begin your evaluation by comparing the assistant's answer with the reference answer. Identify and "
                "correct any mistakes. Be as objective as possible.")
_JUDGE_ONE = "Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant"
_SECOND = "Your evaluation should focus on the assistant's answer to the second user question."
_PAIR_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to "
    "the user question{s} displayed below. You should choose the assistant that follows the user's instructions and "
    "answers the user's question{s} better. Your evaluation should consider factors such as the helpfulness, "
    "relevance, accuracy, depth, creativity, and level of detail of their responses.{focus} Begin your evaluation by "
    "comparing the two responses and provide a short explanation. Avoid any position biases and ensure that the "
    "order in which the responses were presented does not influence your decision. Do not allow the length of the "
    "responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective as "
    'possible. After providing your explanation, output your final verdict by strictly following this format: '
    '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)


_PAIR_VERDICT_ONLY = _PAIR_SYSTEM.replace(
    "Begin your evaluation by comparing the two responses and provide a short explanation. ", "").replace(
    'After providing your explanation, output your final verdict by strictly following this format: "[[A]]" if '
    'assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.',
    'Output only your verdict, in this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better.')
VERDICT_CONTINUATIONS = ("[[A]]", "[[B]]")
"""The two replies whose log-probabilities make a soft pairwise verdict (no tie: AlpacaEval 2 has none either)."""


@dataclass(frozen=True)
class JudgePrompt:
    """One request to the judge; ``template`` names the protocol variant (recorded with the verdict)."""

    template: str
    system: str
    user: str

    def messages(self) -> list[Message]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def _conversation(who: str, questions: Sequence[str], answers: Sequence[str]) -> str:
    body = "".join(f"### User:\n{q}\n\n### {who}:\n{a}\n\n" for q, a in zip(questions, answers, strict=True))
    return body


def single_prompt(questions: Sequence[str], answers: Sequence[str],
                  references: Sequence[str] | None = None) -> JudgePrompt:
    """Grade the last answer of a conversation 1–10; ``references`` (one per turn) make it reference-guided."""
    ref = references is not None
    if len(questions) == 1:
        intro = f"[Instruction]\n{_JUDGE_ONE} to the user question displayed below. "
        intro += (f"{_CORRECTNESS} {_COMPARE_REF}" if ref else
                  f"{_GENERAL} Begin your evaluation by providing a short explanation. Be as objective as possible.")
        parts = [f"{intro} {_RATING_RULE}", f"[Question]\n{questions[0]}"]
        if ref:
            parts.append(f"[The Start of Reference Answer]\n{references[0]}\n[The End of Reference Answer]")
        parts.append(f"[The Start of Assistant's Answer]\n{answers[0]}\n[The End of Assistant's Answer]")
        return JudgePrompt("single-ref" if ref else "single", "You are a helpful assistant.", "\n\n".join(parts))
    system = f"{_JUDGE_ONE} to the user question{'' if ref else ' displayed below'}. "
    system += (f"{_CORRECTNESS} {_SECOND} {_COMPARE_REF}" if ref else
               f"{_GENERAL} {_SECOND} Begin your evaluation by providing a short explanation. Be as objective as "
               "possible.")
    user = ""
    if ref:
        user = ("<|The Start of Reference Answer|>\n\n" + _conversation("Reference answer", questions, references)
                + "<|The End of Reference Answer|>\n\n\n")
    user += ("<|The Start of Assistant A's Conversation with User|>\n\n"
             + _conversation("Assistant A", questions, answers)
             + "<|The End of Assistant A's Conversation with User|>")
    return JudgePrompt("single-multi-ref" if ref else "single-multi", f"{system} {_RATING_RULE}\n\n", user)


def pairwise_prompt(questions: Sequence[str], answers_a: Sequence[str], answers_b: Sequence[str]) -> JudgePrompt:
    """Compare two assistants on the last turn of a conversation (one or more turns)."""
    return _pairwise(questions, answers_a, answers_b, _PAIR_SYSTEM, "")


def pairwise_verdict_prompt(questions: Sequence[str], answers_a: Sequence[str],
                            answers_b: Sequence[str]) -> JudgePrompt:
    """``pairwise_prompt`` asking for the verdict alone, for judging by log-probability (``Judge.weigh``)."""
    return _pairwise(questions, answers_a, answers_b, _PAIR_VERDICT_ONLY, "-logprob")


def _pairwise(questions: Sequence[str], answers_a: Sequence[str], answers_b: Sequence[str], system: str,
              suffix: str) -> JudgePrompt:
    if len(questions) == 1:
        user = (f"[User Question]\n{questions[0]}\n\n"
                f"[The Start of Assistant A's Answer]\n{answers_a[0]}\n[The End of Assistant A's Answer]\n\n"
                f"[The Start of Assistant B's Answer]\n{answers_b[0]}\n[The End of Assistant B's Answer]")
        return JudgePrompt("pair" + suffix, system.format(s="", focus=""), user)
    user = "".join(
        f"<|The Start of Assistant {w}'s Conversation with User|>\n\n" + _conversation(f"Assistant {w}", questions, a)
        + f"<|The End of Assistant {w}'s Conversation with User|>\n\n\n"
        for w, a in (("A", answers_a), ("B", answers_b))
    ).rstrip("\n")
    focus = " You should focus on who provides a better answer to the second user question."
    return JudgePrompt("pair-multi" + suffix, system.format(s="s", focus=focus), user)


# ---------------------------------------------------------------- parsing

# A verdict token that is only the format being described back ('"[[A]]" if assistant A is better').
_ECHO = re.compile(r'"?\[\[([AB])\]\]"?\s*if assistant \1 is better|"?\[\[C\]\]"?\s*for a tie'
                   r'|for example:?\s*"?rating:?\s*\[\[\d+\]\]"?', re.I)
_PAIR_PATTERNS = [
    re.compile(r"\[\[\s*(?:assistant\s+)?([ABC]|tie)\s*\]\]", re.I),
    re.compile(r"(?<![\[\w])\[\s*(?:assistant\s+)?([ABC]|tie)\s*\](?![\]\w])"),
    re.compile(r"final\s+verdict\W{0,10}(?:is\W{0,5})?(?:assistant\s+)?([ABC]|tie)\b", re.I),
]
_NUM = r"(10(?:\.0+)?|\d(?:\.\d+)?)"
_RATING_PATTERNS = [
    re.compile(rf"\[\[\s*{_NUM}\s*(?:/\s*10)?\s*\]\]"),
    re.compile(rf"(?<![\[\w])\[\s*{_NUM}\s*(?:/\s*10)?\s*\](?![\]\w])"),
    re.compile(rf"\brating\W{{0,10}}{_NUM}\s*(?:/\s*10|out of 10)?(?![\d.])", re.I),
    re.compile(rf"(?<![\d.]){_NUM}\s*(?:/\s*10|out of 10)\b", re.I),
]


def parse_pairwise(text: str | None) -> Verdict | None:
    """``[[A]]``/``[[B]]``/``[[C]]`` (also ``[[Assistant A]]``, ``[[tie]]``, ``[A]``, "Final verdict: A").

    The last verdict wins: judges explain first and decide at the end. None when there is none.
    """
    if not text:
        return None
    text = _ECHO.sub(" ", text)
    for pattern in _PAIR_PATTERNS:
        found = pattern.findall(text)
        if found:
            v = found[-1].upper()
            return "C" if v == "TIE" else v  # type: ignore[return-value]
    return None


def parse_rating(text: str | None) -> float | None:
    """``[[7]]`` (also ``[[7.5]]``, ``[[7/10]]``, ``[7]``, "Rating: 7", "7/10") → 7.0; None outside 1–10."""
    if not text:
        return None
    text = _ECHO.sub(" ", text)
    for pattern in _RATING_PATTERNS:
        found = pattern.findall(text)
        if found:
            value = float(found[-1])
            return value if 1.0 <= value <= 10.0 else None
    return None


def combine_orders(model_first: Verdict | None, model_second: Verdict | None) -> tuple[Outcome | None, bool]:
    """The model's outcome from two games: first with the model as A, then with the model as B.

    Returns (outcome, disagreed). A verdict that did not parse makes the outcome None (a counted parse failure);
    two verdicts that disagree once mapped back to the model make a tie.
    """
    if model_first is None or model_second is None:
        return None, False
    first = {"A": "win", "B": "loss", "C": "tie"}[model_first]
    second = {"B": "win", "A": "loss", "C": "tie"}[model_second]
    if first == second:
        return first, False  # type: ignore[return-value]
    return "tie", True


def combine_weights(model_first: float, model_second: float) -> tuple[float, bool]:
    """The soft twin of ``combine_orders``: the judge's P(A) with the model's answer shown first, then shown second
    → (the model's preference, its probability of being better averaged over the two orders; whether the two orders
    disagree). A judge that favours a position adds the same to both orders, so it cancels in the average."""
    p1, p2 = model_first, 1.0 - model_second
    return (p1 + p2) / 2, (p1 > 0.5) != (p2 > 0.5)


# ---------------------------------------------------------------- asking


@dataclass
class JudgeReply:
    """What the judge said to one prompt (or why it said nothing)."""

    template: str
    output: str | None
    error: str | None = None


@dataclass
class JudgeWeight:
    """A soft pairwise verdict: the judge's probability that assistant A is better (or why there is none)."""

    template: str
    p_a: float | None
    error: str | None = None


class Judge:
    """A model used as a judge: greedy, one batched call per list of prompts."""

    def __init__(self, model: Model, *, max_tokens: int = 1024, seed: int = 0) -> None:
        self.model, self.max_tokens, self.seed = model, max_tokens, seed

    def ask(self, prompts: Sequence[JudgePrompt]) -> list[JudgeReply]:
        if not prompts:
            return []
        reqs = [GenerateRequest(p.messages(), max_tokens=self.max_tokens, temperature=0.0, seed=self.seed)
                for p in prompts]
        return [JudgeReply(p.template, None if r.error else r.text, r.error)
                for p, r in zip(prompts, self.model.generate(reqs), strict=True)]

    def weigh(self, prompts: Sequence[JudgePrompt]) -> list[JudgeWeight]:
        """Soft verdicts from the log-probabilities of ``[[A]]`` and ``[[B]]`` as the judge's reply (one batched
        log-likelihood call, two continuations per prompt)."""
        if not prompts:
            return []
        reqs = [LoglikelihoodRequest(p.messages(), c, chat=True) for p in prompts for c in VERDICT_CONTINUATIONS]
        res = self.model.loglikelihood(reqs)
        out = []
        for i, p in enumerate(prompts):
            a, b = res[2 * i], res[2 * i + 1]
            err = a.error or b.error
            if err is None and not (math.isfinite(a.logprob) and math.isfinite(b.logprob)):
                err = "the judge gave no finite log-probability for a verdict"
            # P(A | A or B) = sigmoid(logp A - logp B), written with tanh so no difference overflows.
            p_a = None if err else 0.5 * (1.0 + math.tanh((a.logprob - b.logprob) / 2))
            out.append(JudgeWeight(p.template, p_a, err))
        return out
