"""Rewards that ask a model: ``reward-model`` (a sequence classifier's score) and ``judge`` (an LLM's rating)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from alignlab.evaluate.judges import JudgePrompt
    from alignlab.models import Model
    from alignlab.models.reward import RewardModel


class RewardModelReward(RewardFunction):
    """The raw score of a one-label sequence-classification model (``alignlab.models.reward``).

    Chat prompts are rendered with the reward model's own chat template, as TRL's reward trainer saw them.
    """

    def __init__(self, rm: RewardModel) -> None:
        super().__init__("reward_model")
        self.rm = rm

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        return list(self.rm.score(prompts, texts))


@register_reward("reward-model")
def reward_model_reward(*, path: str | None = None, model: Any = None, batch_size: int = 8,
                        max_length: int | None = None, device: str | None = None,
                        base_dir: Path | None = None) -> RewardFunc:
    """Score with a reward model dir (``path``, or ``model``: ``hf:PATH`` or a loaded ``RewardModel``)."""
    from alignlab.models.reward import RewardModel, load_reward_model

    if (path is None) == (model is None):
        raise RewardError("reward 'reward-model': give exactly one of 'path' and 'model'",
                          hint="args: {path: out/reward/model} (a dir written by the reward recipe)")
    if isinstance(model, RewardModel):
        return RewardModelReward(model)
    spec = str(path if path is not None else model)
    spec = resolve_spec(spec, base_dir) if spec.startswith("hf:") else str(resolve_path(spec, base_dir))
    return RewardModelReward(load_reward_model(spec, batch_size=batch_size, max_length=max_length, device=device))


# ---------------------------------------------------------------- judge

_JUDGE_INTRO = ("Please act as an impartial judge and evaluate the response provided by an AI assistant to the user "
                "question displayed below")
_RATE = ('Begin your evaluation by providing a short explanation. Be as objective as possible. After providing your '
         'explanation, you must rate the response on a scale of {lo} to {hi} by strictly following this format: '
         '"[[rating]]", for example: "Rating: [[{mid}]]".')
# The format example echoed back is not a verdict; the last [[n]] is (judges explain first, decide at the end).
_ECHO = re.compile(r'for example:?\s*"?rating:?\s*\[\[[^\]]*\]\]"?', re.I)
_RATING = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*\d+(?:\.\d+)?)?\s*\]\]")


def principle_prompt(question: str, answer: str, *, principle: str | None = None, rubric: str | None = None,
                     context: str | None = None, scale: tuple[int, int] = (1, 10)) -> JudgePrompt:
    """Ask for a rating of one answer against a principle (or a rubric), in MT-Bench's single-grading format."""
    from alignlab.evaluate.judges import JudgePrompt

    lo, hi = scale
    if rubric is not None:
        what = f" according to the following rubric.\n\n[Rubric]\n{rubric.strip()}\n[End of Rubric]\n\n"
    else:
        what = (f", judging only how well it follows this principle: {str(principle).strip()} "
                "Higher ratings mean the response follows the principle more closely. ")
    parts = [f"[Instruction]\n{_JUDGE_INTRO}{what}{_RATE.format(lo=lo, hi=hi, mid=(lo + hi) // 2)}"]
    if context:
        parts.append(f"[Conversation so far]\n{context}\n[End of Conversation so far]")
    parts += [f"[Question]\n{question}",
              f"[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]"]
    return JudgePrompt("principle" if rubric is None else "rubric", "You are a helpful assistant.", "\n\n".join(parts))


def parse_scaled_rating(text: str | None, scale: tuple[int, int]) -> float | None:
    """The last ``[[n]]`` in ``text`` when it lies on ``scale``, else None (never a guess)."""
    lo, hi = scale
    if (lo, hi) == (1, 10):
        from alignlab.evaluate.judges import parse_rating

        return parse_rating(text)  # MT-Bench's parser, which also reads "Rating: 7" and "7/10"
    if not text:
        return None
    found = _RATING.findall(_ECHO.sub(" ", text))
    if not found:
        return None
    value = float(found[-1])
    return value if lo <= value <= hi else None


def _history(prompt: Any) -> str | None:
    """Earlier turns of a conversational prompt (everything before its last user message), as text."""
    if isinstance(prompt, str):
        return None
    last_user = max((i for i, m in enumerate(prompt) if m.get("role") == "user"), default=0)
    earlier = [m for m in prompt[:last_user] if m.get("role") in ("user", "assistant")]
    return "\n\n".join(f"### {m['role'].capitalize()}:\n{m.get('content') or ''}" for m in earlier) or None


class JudgeReward(RewardFunction):
    """An LLM judge's rating, mapped from its scale onto [0, 1]; an answer with no rating is None.

    ``counts`` adds ``parse_failures`` (the judge answered but gave no rating on the scale) and ``errors`` (the
    judge call failed); ``last_outputs`` keeps the raw judge outputs of the latest batch for inspection.
    """

    def __init__(self, judge: Model, *, principle: str | None, rubric: str | None, scale: tuple[int, int],
                 max_tokens: int, name: str) -> None:
        from alignlab.evaluate.judges import Judge

        super().__init__(name)
        self.judge = Judge(judge, max_tokens=max_tokens)
        self.principle, self.rubric, self.scale = principle, rubric, scale
        self.last_outputs: list[str | None] = []

    def prompt(self, prompt: Any, answer: str) -> JudgePrompt:
        from alignlab.evaluate.judges import single_prompt

        question = prompt_text(prompt)
        if self.principle is None and self.rubric is None:
            return single_prompt([question], [answer])  # MT-Bench's general helpfulness grading
        return principle_prompt(question, answer, principle=self.principle, rubric=self.rubric,
                                context=_history(prompt), scale=self.scale)

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        replies = self.judge.ask([self.prompt(p, t) for p, t in zip(prompts, texts, strict=True)])
        self.last_outputs = [r.output for r in replies]
        lo, hi = self.scale
        out: list[float | None] = []
        for reply in replies:
            if reply.error is not None:
                self.counts["errors"] += 1
                out.append(None)
                continue
            rating = parse_scaled_rating(reply.output, self.scale)
            if rating is None:
                self.counts["parse_failures"] += 1
            out.append(None if rating is None else (rating - lo) / (hi - lo))
        return out


def _scale(value: Any) -> tuple[int, int]:
    """``10`` → (1, 10); ``[0, 5]`` or ``"0-5"`` → (0, 5)."""
    m = re.fullmatch(r"\s*(-?\d+)\s*(?:-|–|\.\.)\s*(-?\d+)\s*", value) if isinstance(value, str) else None
    if m:
        value = [int(m.group(1)), int(m.group(2))]
    if isinstance(value, int) and not isinstance(value, bool):
        value = [1, value]
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise RewardError(f"reward 'judge': scale must be a top rating or [low, high] integers, not {value!r}",
                          hint="e.g. scale: 10, or scale: [1, 10]")
    lo, hi = int(value[0]), int(value[1])
    if hi <= lo:
        raise RewardError(f"reward 'judge': scale [{lo}, {hi}] is empty")
    return lo, hi


@register_reward("judge")
def judge_reward(*, model: Any, principle: str | None = None, rubric: str | None = None, scale: Any = (1, 10),
                 max_tokens: int = 512, name: str = "judge", base_dir: Path | None = None) -> RewardFunc:
    """An LLM judge (``model``: a model spec or a ``Model``) rates each completion against ``principle`` or
    ``rubric`` (or, with neither, MT-Bench's general quality) on ``scale``; the reward is the rating in [0, 1]."""
    from alignlab.models import Model, load_model

    if principle is not None and rubric is not None:
        raise RewardError("reward 'judge': give 'principle' or 'rubric', not both")
    lo_hi = _scale(scale)
    if principle is None and rubric is None and lo_hi != (1, 10):
        raise RewardError("reward 'judge': MT-Bench's general grading (no principle or rubric) rates 1-10",
                          hint="drop scale, or add a principle or rubric")
    judge = model if isinstance(model, Model) else load_model(resolve_spec(str(model), base_dir))
    return JudgeReward(judge, principle=principle, rubric=rubric, scale=lo_hi, max_tokens=int(max_tokens),
                       name=str(name))
