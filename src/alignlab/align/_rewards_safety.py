"""Safety rewards and costs: ``compliance`` (a helpfulness proxy), ``safety-cost`` (harm of an answer to a harmful
request) and ``cost-model`` (a trained cost model's score).

Costs follow Safe RLHF's sign convention: a cost above 0 means unsafe. They are reward functions in TRL's form like
any other, so a recipe may use them in ``rewards`` (with a negative weight) or in ``constraints`` (a Lagrangian
multiplier weighs them, ``alignlab.align.constraints``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.align._rewards_models import RewardModelReward
from alignlab.align.rewards import (
    RewardError,
    RewardFunc,
    RewardFunction,
    prompt_text,
    register_reward,
    resolve_path,
    resolve_spec,
)

if TYPE_CHECKING:
    from alignlab.models import Model

UNSAFE = "unsafe"
_LABELS = ("safe", "unsafe")


class ComplianceReward(RewardFunction):
    """1 when the answer attempts the request, 0.5 for a partial refusal, 0 for a refusal (alignlab's rule-based
    refusal classifier). A crude helpfulness reward: it rewards answering whatever is asked, harmful or not — the
    tension a safety cost is there to resolve."""

    VALUE = {"full_compliance": 1.0, "partial_refusal": 0.5, "full_refusal": 0.0}

    def __init__(self) -> None:
        super().__init__("compliance")

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        from alignlab.evaluate.values.refusal import classify_refusal

        return [self.VALUE[classify_refusal(t).label] for t in texts]


@register_reward("compliance")
def compliance_reward() -> RewardFunc:
    """Reward answering (rule-based refusal classifier): 1 complied, 0.5 partial refusal, 0 refused."""
    return ComplianceReward()


class SafetyCost(RewardFunction):
    """The cost of an answer to a prompt labelled ``safe``/``unsafe`` (the dataset's ``label`` column).

    Answers to safe prompts cost 0 (over-refusal is a helpfulness failure, not a harm). An answer to an unsafe
    prompt costs 1 when the rule classifier finds no refusal (0.5 for a partial one) — or, with a ``judge``, the
    StrongREJECT-style harm score the ``values/safety`` suite uses (0 refused … 1 convincing and specific).
    """

    def __init__(self, judge: Model | None, max_tokens: int) -> None:
        super().__init__("safety_cost")
        self.judge, self.max_tokens = judge, max_tokens
        self.last_outputs: list[str | None] = []

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        labels = columns.get("label")
        if labels is None:
            raise RewardError("reward 'safety-cost': the training rows have no 'label' column (safe/unsafe)",
                              hint="give each prompt a label, e.g. the red-team prompts "
                                   "(representation: {kind: prompts, prompts: redteam})")
        bad = next((v for v in labels if v not in _LABELS), None)
        if bad is not None:
            raise RewardError(f"reward 'safety-cost': label {bad!r} is not 'safe' or 'unsafe'")
        if self.judge is None:
            from alignlab.evaluate.values.refusal import classify_refusal

            # The cost of an answer to an unsafe prompt is how far it complied: 1 answered, 0.5 partly, 0 refused.
            return [ComplianceReward.VALUE[classify_refusal(t).label] if lab == UNSAFE else 0.0
                    for t, lab in zip(texts, labels, strict=True)]
        return self._judged(prompts, texts, labels)

    def _judged(self, prompts: list[Any], texts: list[str], labels: list[str]) -> list[float | None]:
        from alignlab.evaluate.values.safety import JUDGE_SYSTEM, JUDGE_TEMPLATE, parse_judge, strongreject_score
        from alignlab.models import GenerateRequest

        out: list[float | None] = [0.0] * len(texts)
        todo = [i for i, lab in enumerate(labels) if lab == UNSAFE]
        reqs = [GenerateRequest([{"role": "system", "content": JUDGE_SYSTEM},
                                 {"role": "user", "content": JUDGE_TEMPLATE.format(prompt=prompt_text(prompts[i]),
                                                                                   response=texts[i])}],
                                max_tokens=self.max_tokens, temperature=0.0) for i in todo]
        replies = self.judge.generate(reqs) if reqs else []  # type: ignore[union-attr]
        self.last_outputs = [r.text for r in replies]
        for i, reply in zip(todo, replies, strict=True):
            parsed = parse_judge(reply.text) if reply.error is None else None
            if parsed is None:
                self.counts["errors" if reply.error is not None else "parse_failures"] += 1
                out[i] = None
            else:
                out[i] = strongreject_score(parsed["refused"], parsed["convincing"], parsed["specific"])
        return out


@register_reward("safety-cost")
def safety_cost(*, judge: Any = None, max_tokens: int = 64, base_dir: Path | None = None) -> RewardFunc:
    """Harm of answers to prompts labelled unsafe: rule-based (1 answered, 0.5 partly, 0 refused), or with
    ``judge`` (a model spec or ``Model``) the StrongREJECT-style score of ``values/safety``; 0 for safe prompts."""
    from alignlab.models import Model, load_model

    model = None
    if judge is not None:
        model = judge if isinstance(judge, Model) else load_model(resolve_spec(str(judge), base_dir))
    return SafetyCost(model, int(max_tokens))


@register_reward("cost-model")
def cost_model(*, path: str, batch_size: int = 8, max_length: int | None = None, device: str | None = None,
               base_dir: Path | None = None) -> RewardFunc:
    """A cost model's score (a dir written by ``method: cost``): above 0 means unsafe, as in Safe RLHF."""
    from alignlab.models.reward import load_reward_model

    spec = resolve_spec(path, base_dir) if path.startswith("hf:") else str(resolve_path(path, base_dir))
    if not spec.startswith("hf:") and not (Path(spec) / "config.json").is_file():
        raise RewardError(f"reward 'cost-model': no model dir at {spec}",
                          hint="train one with `alignlab align cost --config RECIPE.yaml` (output_dir/model)")
    reward = RewardModelReward(load_reward_model(spec, batch_size=batch_size, max_length=max_length, device=device))
    reward.__name__ = "cost_model"
    return reward
