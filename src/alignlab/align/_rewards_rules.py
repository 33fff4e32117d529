"""Rule-based rewards: ``regex`` (format rules) and ``ifeval`` (IFEval's verifiable instructions)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alignlab.align.rewards import RewardError, RewardFunc, RewardFunction, register_reward
from alignlab.errors import DataError


class RegexReward(RewardFunction):
    """``reward_match`` when ``pattern`` is found in the completion (``re.search``), else ``reward_miss``."""

    def __init__(self, pattern: re.Pattern[str], reward_match: float, reward_miss: float, full: bool) -> None:
        super().__init__("regex")
        self.pattern, self.reward_match, self.reward_miss, self.full = pattern, reward_match, reward_miss, full

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        find = self.pattern.fullmatch if self.full else self.pattern.search
        return [self.reward_match if find(t) else self.reward_miss for t in texts]


@register_reward("regex")
def regex_reward(*, pattern: str, reward_match: float = 1.0, reward_miss: float = 0.0,
                 ignore_case: bool = False, dotall: bool = True, full_match: bool = False) -> RewardFunc:
    """A format rule: ``pattern`` searched (or ``full_match``-ed) in the completion's text."""
    flags = (re.I if ignore_case else 0) | (re.S if dotall else 0)
    try:
        compiled = re.compile(str(pattern), flags)
    except re.error as exc:
        raise RewardError(f"reward 'regex': invalid pattern {pattern!r}: {exc}") from None
    return RegexReward(compiled, float(reward_match), float(reward_miss), bool(full_match))


class IFEvalReward(RewardFunction):
    """The share of a row's verifiable instructions the completion follows (IFEval's checkers).

    Rows carry IFEval's columns ``instruction_id_list`` and ``kwargs`` (one argument dict per instruction; the
    nulls Hugging Face's copy fills in are dropped). ``loose`` also accepts IFEval's loose variants of the response
    (first/last line dropped, ``*`` removed). A row without instructions gets None.
    """

    def __init__(self, loose: bool) -> None:
        super().__init__("ifeval")
        self.loose = loose

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        from alignlab.evaluate.instructions.ifeval import score_response

        ids_col, kw_col = columns.get("instruction_id_list"), columns.get("kwargs")
        if ids_col is None:
            raise DataError("reward 'ifeval': the dataset has no column 'instruction_id_list'",
                            hint="rows need IFEval's instruction_id_list and kwargs columns")
        out: list[float | None] = []
        for row, text in enumerate(texts):
            ids = list(ids_col[row] or [])
            kwargs = list(kw_col[row] or []) if kw_col is not None else [{} for _ in ids]
            if not ids:
                out.append(None)
                continue
            if len(kwargs) != len(ids):
                raise DataError(f"reward 'ifeval': row {row} has {len(ids)} instructions but {len(kwargs)} kwargs")
            kwargs = [dict(k) if isinstance(k, Mapping) else k for k in kwargs]
            try:
                result = score_response(ids, kwargs, text)
            except ValueError as exc:  # unknown instruction or bad argument: a data error, not a low reward
                raise DataError(f"reward 'ifeval': row {row}: {exc}") from None
            followed = result.loose if self.loose else result.strict
            out.append(sum(followed) / len(followed))
        return out


@register_reward("ifeval")
def ifeval_reward(*, mode: str = "strict") -> RewardFunc:
    """IFEval instruction following, ``strict`` (default) or ``loose``, as a fraction in [0, 1]."""
    if mode not in ("strict", "loose"):
        raise RewardError(f"reward 'ifeval': mode must be 'strict' or 'loose', not {mode!r}")
    return IFEvalReward(mode == "loose")
