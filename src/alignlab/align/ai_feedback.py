"""AI feedback against principles (the RL-from-AI-feedback labels of Constitutional AI, Bai et al., 2022).

A judge model compares two responses to the same prompt against one principle (drawn per pair, seeded), in BOTH
orders so that position bias cancels:

- ``logprob`` mode (backends with ``loglikelihood``): the judge is asked which reply follows the principle better and
  the log-probabilities of the answers ``A`` and ``B`` are read; P(first better) is their two-way softmax. The soft
  label P(chosen ≻ rejected) is the mean over the two orders (chosen shown first, then second).
- ``generate`` mode (any backend): the judge writes a verdict ``[[A]]``/``[[B]]``/``[[C]]`` (tie), parsed with
  ``alignlab.evaluate.judges.parse_pairwise``; an output naming both A and B as the verdict counts as ambiguous,
  one with no verdict as a parse failure (never guessed). Each order's verdict scores 1/0.5/0 for chosen.
- ``auto``: ``logprob`` when the backend can score continuations, else ``generate``.

The hard label is ``chosen`` or ``rejected`` only when both orders agree; orders that disagree give ``tie`` with
``consistent=False``, and the share of consistent pairs (position consistency) is reported with its CI.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from alignlab.align._cai_common import user_text
from alignlab.errors import DataError, LoglikelihoodUnsupported
from alignlab.evaluate.judges import parse_pairwise
from alignlab.evaluate.stats import mean_ci
from alignlab.models import GenerateRequest, LoglikelihoodRequest, Message, Model
from alignlab.targets.constitution import Constitution, Principle, load_constitution

Mode = Literal["auto", "logprob", "generate"]
Label = Literal["chosen", "rejected", "tie"]

JUDGE_SYSTEM = ("You compare two replies of an AI assistant against a principle. You do not answer the user "
                "yourself; you only judge which reply follows the principle better.")
_BODY = """Here is a conversation between a user and an AI assistant, followed by two possible replies.

[CONVERSATION]
{conversation}
[END CONVERSATION]

[The Start of Assistant A's Answer]
{a}
[The End of Assistant A's Answer]

[The Start of Assistant B's Answer]
{b}
[The End of Assistant B's Answer]

Principle: {rule}
Which reply follows this principle better?"""
_ASK_LETTER = " Answer with one letter: A or B."
_ASK_VERDICT = (' Explain briefly, then give your final verdict in this format: "[[A]]" if assistant A is better, '
                '"[[B]]" if assistant B is better, and "[[C]]" for a tie.')
_DOUBLE = re.compile(r"\[\[\s*(?:assistant\s+)?([ABC]|tie)\s*\]\]", re.I)


@dataclass
class OrderResult:
    """The judge's view of one order."""

    chosen_first: bool
    """True when ``chosen`` was shown as A."""
    p_first: float | None = None
    """logprob mode: P(A better) from the softmax over the letters."""
    verdict: str | None = None
    """generate mode: the parsed verdict (A, B or C), None when it did not parse."""
    output: str | None = None
    """generate mode: the judge's raw text."""
    problem: str | None = None
    """``error``, ``empty``, ``no_verdict`` or ``ambiguous`` (both A and B given as verdicts)."""

    @property
    def p_chosen(self) -> float | None:
        """This order's probability (or verdict score) that ``chosen`` is better."""
        if self.p_first is not None:
            return self.p_first if self.chosen_first else 1.0 - self.p_first
        if self.verdict is None:
            return None
        first = {"A": 1.0, "B": 0.0, "C": 0.5}[self.verdict]
        return first if self.chosen_first else 1.0 - first


@dataclass
class AIPreference:
    """The judge's label for one pair (``chosen``/``rejected`` name the input's two responses)."""

    id: str
    principle: str
    mode: str
    p_chosen: float | None
    """Soft label: P(chosen ≻ rejected), averaged over both orders; None when an order failed."""
    label: Label | None
    """Hard label: ``chosen``/``rejected`` when both orders agree, ``tie`` otherwise; None when an order failed."""
    consistent: bool | None
    """Whether the two orders agreed (None when an order failed)."""
    orders: list[OrderResult] = field(default_factory=list)

    @property
    def problem(self) -> str | None:
        return next((o.problem for o in self.orders if o.problem), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AIFeedback:
    """Labels for every pair, plus how reliable the judge was."""

    labels: list[AIPreference]
    mode: str

    def summary(self) -> dict[str, Any]:
        """Counts of labels and problems, the mean soft label, and position consistency with its CI."""
        problems = Counter(o.problem for lab in self.labels for o in lab.orders if o.problem)
        return {
            "mode": self.mode,
            "pairs": len(self.labels),
            "labelled": sum(lab.label is not None for lab in self.labels),
            "labels": dict(Counter(lab.label or "none" for lab in self.labels)),
            "problems": dict(problems),
            "position_consistency": mean_ci([None if lab.consistent is None else float(lab.consistent)
                                             for lab in self.labels]),
            "p_chosen": mean_ci([lab.p_chosen for lab in self.labels]),
        }


def ai_preferences(judge: Model, rows: Sequence[Any], principles: Constitution | str | Principle | Sequence[Principle],
                   *, mode: Mode = "auto", seed: int = 0, max_tokens: int = 512, tie_margin: float = 0.0) -> AIFeedback:
    """Label pairs (``prompt``/``chosen``/``rejected`` rows or ``Preference`` records) against principles.

    One principle per pair is drawn (seeded by the pair's id) from those that apply to its ``tags``. In logprob mode
    an order whose P(chosen) is within ``tie_margin`` of 0.5 counts as a tie for that order.
    """
    if mode not in ("auto", "logprob", "generate"):
        raise ValueError(f"mode must be auto, logprob or generate, not {mode!r}")
    pool = _constitution(principles)
    pairs = [_pair(r, n) for n, r in enumerate(rows)]
    chosen_p = [random.Random(f"{seed}:{pid}").choice(pool.for_tags(tags)) for pid, *_, tags in pairs]
    contexts = [(_context(conv, a, b, p.rule), _context(conv, b, a, p.rule))
                for (_, conv, a, b, _), p in zip(pairs, chosen_p, strict=True)]
    used: str = mode
    orders: list[tuple[OrderResult, OrderResult]]
    if mode in ("auto", "logprob"):
        try:
            orders = _by_logprob(judge, contexts, tie_margin)
            used = "logprob"
        except LoglikelihoodUnsupported:
            if mode == "logprob":
                raise
            orders = _by_verdict(judge, contexts, max_tokens, seed)
            used = "generate"
    else:
        orders = _by_verdict(judge, contexts, max_tokens, seed)
    labels = [_combine(pid, p.id, used, o1, o2, tie_margin)
              for (pid, *_), p, (o1, o2) in zip(pairs, chosen_p, orders, strict=True)]
    return AIFeedback(labels, used)


def _constitution(principles: Any) -> Constitution:
    if isinstance(principles, Principle):
        return Constitution(name=principles.id, principles=(principles,))
    if isinstance(principles, list | tuple) and principles and all(isinstance(p, Principle) for p in principles):
        return Constitution(name="principles", principles=tuple(principles))
    return load_constitution(principles)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    msgs = [_plain(m) for m in value]
    return "\n\n".join(str(m["content"]) for m in msgs if m.get("role") == "assistant").strip() or \
        "\n\n".join(str(m["content"]) for m in msgs).strip()


def _explicit(row: Any, n: int) -> dict[str, Any]:
    """The row as a plain dict with an explicit ``prompt`` (an implicit one is split off the shared start of chosen
    and rejected, as TRL's ``maybe_extract_prompt`` does); chosen/rejected keep their form."""
    raw = row.model_dump(exclude_none=True) if hasattr(row, "model_dump") else dict(row)
    missing = [k for k in ("chosen", "rejected") if raw.get(k) in (None, "", [])]
    if missing:
        raise DataError(f"row {n}: not a preference pair: missing {missing[0]!r}")
    if raw.get("prompt") is None:
        from alignlab.data import Preference, maybe_extract_prompt

        try:
            rec = maybe_extract_prompt(Preference.model_validate(raw)).model_dump(exclude_none=True)
        except ValueError as exc:
            raise DataError(f"row {n}: not a preference pair: {exc}") from None
        raw.update(prompt=rec["prompt"], chosen=rec["chosen"], rejected=rec["rejected"])
    return raw


def _pair(row: Any, n: int) -> tuple[str, list[Message], str, str, tuple[str, ...]]:
    """(id, prompt messages, chosen text, rejected text, tags) of one row."""
    raw = _explicit(row, n)
    prompt = raw["prompt"]
    # A raw HH-RLHF transcript ("\n\nHuman: ...\n\nAssistant:") stays one text: the judge reads it as is.
    messages = [{"role": "user", "content": prompt.strip()}] if isinstance(prompt, str) else \
        [_plain(m) for m in prompt]
    tags = tuple([*(raw.get("tags") or ()), *(str(raw[k]) for k in ("label", "category") if raw.get(k))])
    return str(raw.get("id", n)), messages, _text(raw["chosen"]), _text(raw["rejected"]), tags


def _plain(m: Any) -> dict[str, Any]:
    return m if isinstance(m, dict) else m.model_dump(exclude_none=True)


def _context(conv: list[Message], a: str, b: str, rule: str) -> str:
    lines = [f"{'User' if m['role'] == 'user' else m['role'].capitalize()}: {m['content']}" for m in conv
             if m.get("role") != "system"]
    return _BODY.format(conversation="\n".join(lines) or user_text(conv), a=a, b=b, rule=rule)


def _messages(body: str, ask: str) -> list[Message]:
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": body + ask}]


def _by_logprob(judge: Model, contexts: list[tuple[str, str]], tie_margin: float) -> list[tuple[OrderResult, ...]]:
    reqs = [LoglikelihoodRequest(_messages(body, _ASK_LETTER), letter)
            for pair in contexts for body in pair for letter in ("A", "B")]
    res = judge.loglikelihood(reqs) if reqs else []
    out = []
    for i in range(len(contexts)):
        orders = []
        for j, chosen_first in ((0, True), (1, False)):
            ra, rb = res[4 * i + 2 * j], res[4 * i + 2 * j + 1]
            if ra.error or rb.error or math.isnan(ra.logprob) or math.isnan(rb.logprob):
                orders.append(OrderResult(chosen_first, problem="error"))
                continue
            # Two-way softmax over the letters' log-probabilities, computed stably.
            p_first = 1.0 / (1.0 + math.exp(rb.logprob - ra.logprob)) if rb.logprob - ra.logprob < 700 else 0.0
            orders.append(OrderResult(chosen_first, p_first=p_first))
        out.append(tuple(orders))
    return out  # type: ignore[return-value]


def parse_verdict(text: str | None) -> tuple[str | None, str | None]:
    """(verdict, problem): ``parse_pairwise`` plus a check that the output does not give both A and B as
    double-bracketed verdicts (then it is ``ambiguous``, not "the last one wins")."""
    if text is None or not text.strip():
        return None, "empty"
    from alignlab.evaluate import judges

    cleaned = judges._ECHO.sub(" ", text)  # the format described back is not a verdict
    given = {v.upper().replace("TIE", "C") for v in _DOUBLE.findall(cleaned)}
    if {"A", "B"} <= given:
        return None, "ambiguous"
    verdict = parse_pairwise(text)
    return (verdict, None) if verdict is not None else (None, "no_verdict")


def _by_verdict(judge: Model, contexts: list[tuple[str, str]], max_tokens: int,
                seed: int) -> list[tuple[OrderResult, ...]]:
    reqs = [GenerateRequest(_messages(body, _ASK_VERDICT), max_tokens=max_tokens, temperature=0.0, seed=seed)
            for pair in contexts for body in pair]
    res = judge.generate(reqs) if reqs else []
    out = []
    for i in range(len(contexts)):
        orders = []
        for j, chosen_first in ((0, True), (1, False)):
            r = res[2 * i + j]
            if r.error is not None:
                orders.append(OrderResult(chosen_first, problem="error"))
                continue
            verdict, problem = parse_verdict(r.text)
            orders.append(OrderResult(chosen_first, verdict=verdict, output=r.text, problem=problem))
        out.append(tuple(orders))
    return out  # type: ignore[return-value]


def _side(p: float, tie_margin: float) -> Label:
    if p > 0.5 + tie_margin:
        return "chosen"
    if p < 0.5 - tie_margin:
        return "rejected"
    return "tie"


def _combine(pid: str, principle: str, mode: str, o1: OrderResult, o2: OrderResult,
             tie_margin: float) -> AIPreference:
    p1, p2 = o1.p_chosen, o2.p_chosen
    if p1 is None or p2 is None:
        return AIPreference(pid, principle, mode, None, None, None, [o1, o2])
    margin = tie_margin if mode == "logprob" else 0.0
    s1, s2 = _side(p1, margin), _side(p2, margin)
    consistent = s1 == s2
    return AIPreference(pid, principle, mode, (p1 + p2) / 2, s1 if consistent else "tie", consistent, [o1, o2])


# ---------------------------------------------------------------- outputs and checks


def labelled_pairs(rows: Sequence[Any], feedback: AIFeedback, *, min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """Preference rows oriented by the judge: its preferred response becomes ``chosen``. Ties, failures and pairs
    whose soft label is within ``min_confidence`` of 0.5 are dropped."""
    out = []
    for n, (row, lab) in enumerate(zip(rows, feedback.labels, strict=True)):
        if lab.label not in ("chosen", "rejected") or lab.p_chosen is None or abs(lab.p_chosen - 0.5) < min_confidence:
            continue
        rec = _explicit(row, n)
        chosen, rejected = (rec["chosen"], rec["rejected"]) if lab.label == "chosen" else \
            (rec["rejected"], rec["chosen"])
        out.append({"prompt": rec["prompt"], "chosen": chosen, "rejected": rejected, "id": str(rec.get("id", n))})
    return out


def agreement_with_human(labels: AIFeedback | Sequence[AIPreference],
                         human: Sequence[str | bool] | None = None) -> dict[str, Any]:
    """How often the AI labels agree with human labels.

    ``human``: per pair, which response people preferred (``"chosen"``/``"rejected"``, or True for chosen); None
    means the data's ``chosen`` is the human choice (HH-RLHF, UltraFeedback). Reports ``accuracy`` on the pairs the
    judge decided (Wilson CI), ``accuracy_ties_half`` counting ties as 0.5, ``soft_accuracy`` (mean probability
    given to the human choice), and ``coverage`` (share decided).
    """
    labs = list(labels.labels if isinstance(labels, AIFeedback) else labels)
    if human is None:
        truth = ["chosen"] * len(labs)
    else:
        if len(human) != len(labs):
            raise ValueError(f"{len(human)} human labels for {len(labs)} AI labels")
        truth = [("chosen" if h else "rejected") if isinstance(h, bool) else str(h) for h in human]
        bad = [t for t in truth if t not in ("chosen", "rejected")]
        if bad:
            raise ValueError(f"human labels must be 'chosen' or 'rejected', got {bad[0]!r}")
    decided = [float(lab.label == t) for lab, t in zip(labs, truth, strict=True) if lab.label in ("chosen", "rejected")]
    halves = [None if lab.label is None else (0.5 if lab.label == "tie" else float(lab.label == t))
              for lab, t in zip(labs, truth, strict=True)]
    soft = [None if lab.p_chosen is None else (lab.p_chosen if t == "chosen" else 1 - lab.p_chosen)
            for lab, t in zip(labs, truth, strict=True)]
    return {
        "accuracy": mean_ci(decided),
        "accuracy_ties_half": mean_ci(halves),
        "soft_accuracy": mean_ci(soft),
        "coverage": mean_ci([float(lab.label in ("chosen", "rejected")) for lab in labs]),
        "n": len(labs),
    }
