"""Critique and revise: the supervised phase of Constitutional AI (Bai et al., 2022).

The policy answers each prompt; then, for ``rounds`` rounds, a critic (the policy itself by default, as in the
paper) is shown the conversation, asked a principle's critique request, and then its revision request. The revision
becomes the answer the next round critiques. Every step is kept for audit. Outputs:

- SFT rows (``sft_rows``): prompt → final revision, in TRL's conversational prompt/completion form;
- preference rows (``preference_rows``): chosen = final revision, rejected = initial answer.

Small models often fail at the critic's job — empty text, the request parroted back, a ``Revision:`` label. Those
revisions are not accepted: the previous answer is kept and the problem is counted (``critique_stats``), so a run
shows how often the critic worked. All model calls are batched ``GenerateRequest``s, so the response cache applies
and a rerun with the same seed costs nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alignlab.align._cai_common import PromptItem, echoes, prompt_items, similarity, strip_label
from alignlab.evaluate.stats import mean_ci
from alignlab.models import GenerateRequest, Message, Model
from alignlab.targets.constitution import Constitution, Principle, load_constitution

PROBLEMS = ("error", "empty", "echo")
"""Why a revision is not accepted: the call failed, no text after cleaning, or it repeats a request (or, nearly
word for word, the critique)."""


@dataclass
class CritiqueStep:
    """One critique → revision step of one prompt."""

    round: int
    """1-based round number."""
    principle: str
    """Id of the principle applied."""
    critique_request: str
    critique: str
    """The critic's raw critique (empty when the call failed)."""
    revision_request: str
    revision: str
    """The critic's raw revision text, before cleaning."""
    answer: str
    """The answer after this step: the cleaned revision when accepted, else the previous answer."""
    accepted: bool
    problem: str | None = None
    """Why the revision was not accepted (one of ``PROBLEMS``), or None."""
    critique_problem: str | None = None
    """``error``/``empty``/``echo`` when the critique itself was unusable — failed, empty, or repeating the request
    or the answer (the revision is still asked for, and judged on its own)."""


@dataclass
class CritiqueRecord:
    """Everything that happened to one prompt."""

    id: str
    prompt: list[Message]
    tags: tuple[str, ...]
    initial: str
    """The policy's first answer."""
    steps: list[CritiqueStep] = field(default_factory=list)
    error: str | None = None
    """Why the initial answer failed (such records produce no rows)."""

    @property
    def final(self) -> str:
        return self.steps[-1].answer if self.steps else self.initial

    @property
    def revised(self) -> bool:
        """True when at least one revision was accepted and the final answer differs from the first."""
        return self.error is None and self.final.strip() != self.initial.strip()

    def sft_row(self) -> dict[str, Any]:
        """TRL conversational prompt/completion: the prompt → the final revision."""
        return {"prompt": self.prompt, "completion": [{"role": "assistant", "content": self.final}],
                "id": self.id}

    def preference_row(self) -> dict[str, Any]:
        """TRL conversational preference: chosen = final revision, rejected = initial answer."""
        return {"prompt": self.prompt, "chosen": [{"role": "assistant", "content": self.final}],
                "rejected": [{"role": "assistant", "content": self.initial}], "id": self.id}

    def to_dict(self) -> dict[str, Any]:
        """The audit record (one JSON line per prompt)."""
        out = asdict(self)
        out["tags"] = list(self.tags)
        out["final"] = self.final
        out["revised"] = self.revised
        return out


def critique_revise(policy: Model, prompts: Sequence[Any], constitution: Constitution | str, *,
                    critic: Model | None = None, rounds: int = 1, principles_per_round: int = 1, seed: int = 0,
                    max_tokens: int = 256, critique_max_tokens: int | None = None,
                    temperature: float = 0.0, log: Callable[[str], None] | None = None) -> list[CritiqueRecord]:
    """Answer, then critique and revise ``rounds`` times against principles drawn (seeded) from ``constitution``.

    ``prompts``: strings, message lists, or mappings with ``prompt`` and optional ``id``/``tags``/``label``/
    ``category`` (tags pick the principles whose ``applies_to`` matches). Each round applies
    ``principles_per_round`` distinct principles, one critique→revision step each. The principle draw depends only on
    ``seed`` and the prompt's id, so it does not change when other prompts are added or removed. ``log`` receives
    a line as each phase (answers, then each round's critiques and revisions) starts.
    """
    if rounds < 0 or principles_per_round < 1:
        raise ValueError("rounds must be >= 0 and principles_per_round >= 1")
    constitution = load_constitution(constitution)
    critic = critic or policy
    items = prompt_items(prompts)
    say = log or (lambda _msg: None)
    say(f"answering {len(items)} prompts")
    records = _initial(policy, items, max_tokens=max_tokens, temperature=temperature, seed=seed)
    plan = {r.id: _draw(constitution, item, rounds, principles_per_round, seed) for r, item in zip(records, items,
                                                                                                   strict=True)}
    active = [r for r in records if r.error is None]
    for rnd in range(1, rounds + 1):
        for k in range(principles_per_round):
            todo = [(r, plan[r.id][rnd - 1][k]) for r in active if k < len(plan[r.id][rnd - 1])]
            if todo:
                say(f"round {rnd}/{rounds}: critiquing and revising {len(todo)} answers")
                _step(critic, todo, rnd, max_tokens=max_tokens, critique_max_tokens=critique_max_tokens or max_tokens,
                      temperature=temperature, seed=seed)
    return records


def _initial(policy: Model, items: list[PromptItem], *, max_tokens: int, temperature: float,
             seed: int) -> list[CritiqueRecord]:
    reqs = [GenerateRequest(it.messages, max_tokens=max_tokens, temperature=temperature, seed=seed) for it in items]
    out = []
    for it, res in zip(items, policy.generate(reqs) if reqs else [], strict=True):
        error = res.error if res.error is not None else (None if res.text.strip() else "empty initial answer")
        out.append(CritiqueRecord(it.id, it.messages, it.tags, res.text.strip() if res.error is None else "",
                                  error=error))
    return out


def _draw(constitution: Constitution, item: PromptItem, rounds: int, k: int, seed: int) -> list[list[Principle]]:
    # A string seed hashes deterministically (sha512), unlike hash() of a tuple across processes.
    rng = random.Random(f"{seed}:{item.id}")
    return [constitution.sample(rng, k, item.tags) for _ in range(rounds)]


def _step(critic: Model, todo: list[tuple[CritiqueRecord, Principle]], rnd: int, *, max_tokens: int,
          critique_max_tokens: int, temperature: float, seed: int) -> None:
    base = [[*r.prompt, {"role": "assistant", "content": r.final}] for r, _ in todo]
    crit_msgs = [[*b, {"role": "user", "content": p.critique_request}] for b, (_, p) in zip(base, todo, strict=True)]
    crit = critic.generate([GenerateRequest(m, max_tokens=critique_max_tokens, temperature=temperature, seed=seed)
                            for m in crit_msgs])
    critiques = [("" if c.error else c.text.strip()) for c in crit]
    rev_msgs = [[*m, {"role": "assistant", "content": c or "(no critique)"},
                 {"role": "user", "content": p.revision_request}]
                for m, c, (_, p) in zip(crit_msgs, critiques, todo, strict=True)]
    revs = critic.generate([GenerateRequest(m, max_tokens=max_tokens, temperature=temperature, seed=seed)
                            for m in rev_msgs])
    for (rec, p), c_res, critique, r_res in zip(todo, crit, critiques, revs, strict=True):
        # A critique that repeats the request, or the answer it was meant to criticise, criticised nothing.
        c_problem = "error" if c_res.error else ("empty" if not critique else (
            "echo" if echoes(critique, [p.critique_request]) or similarity(critique, rec.final) >= 0.8 else None))
        raw = "" if r_res.error else r_res.text
        cleaned = strip_label(raw)
        if r_res.error:
            problem: str | None = "error"
        elif not cleaned:
            problem = "empty"
        elif echoes(cleaned, [p.critique_request, p.revision_request]) or (
                critique and similarity(cleaned, critique) >= 0.9):
            problem = "echo"
        else:
            problem = None
        rec.steps.append(CritiqueStep(
            round=rnd, principle=p.id, critique_request=p.critique_request, critique=critique,
            revision_request=p.revision_request, revision=raw, answer=cleaned if problem is None else rec.final,
            accepted=problem is None, problem=problem, critique_problem=c_problem))


# ---------------------------------------------------------------- outputs


def sft_rows(records: Sequence[CritiqueRecord], *, only_revised: bool = False) -> list[dict[str, Any]]:
    """SFT rows (prompt → final revision); ``only_revised`` drops prompts whose answer never changed."""
    return [r.sft_row() for r in records if r.error is None and (r.revised or not only_revised)]


def preference_rows(records: Sequence[CritiqueRecord]) -> list[dict[str, Any]]:
    """Preference rows (chosen = final revision, rejected = initial) for prompts whose answer changed; an
    unchanged answer gives no signal."""
    return [r.preference_row() for r in records if r.revised]


def critique_stats(records: Sequence[CritiqueRecord]) -> dict[str, Any]:
    """How well the critic worked: accepted steps, problems by kind, the share of prompts revised, and (with the
    offline refusal rules) how often the final answer is a refusal compared with the first."""
    from alignlab.evaluate.values.refusal import is_refusal

    ok = [r for r in records if r.error is None]
    steps = [s for r in ok for s in r.steps]
    problems = Counter(s.problem for s in steps if s.problem)
    c_problems = Counter(s.critique_problem for s in steps if s.critique_problem)
    return {
        "prompts": len(records),
        "errors": len(records) - len(ok),
        "steps": len(steps),
        "accepted": sum(s.accepted for s in steps),
        "problems": {k: problems.get(k, 0) for k in PROBLEMS},
        "critique_problems": {k: c_problems.get(k, 0) for k in PROBLEMS},
        "revised": mean_ci([float(r.revised) for r in ok]),
        "refusal_initial": mean_ci([float(is_refusal(r.initial)) for r in ok]),
        "refusal_final": mean_ci([float(is_refusal(r.final)) for r in ok]),
        "principles": dict(Counter(s.principle for s in steps)),
    }
