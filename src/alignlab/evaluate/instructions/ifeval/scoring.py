"""Strict and loose IFEval scoring, and the four accuracies plus per-type accuracy, each with a 95% CI.

Strict: the response as it is. Loose: the instruction counts as followed if any of eight variants of the response
follows it — the response, without its first line, without its last line, without both, and each of those four
with every ``*`` removed (markdown emphasis that trips literal checks). An empty response follows nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignlab.evaluate.instructions.ifeval._registry import follows
from alignlab.evaluate.metric_info import MetricInfo, accuracy, statistic
from alignlab.evaluate.stats import mean_ci

_POOLED = statistic("score", "higher", (0.0, 1.0), description="share of instructions followed, pooled over prompts")
IFEVAL_METRICS: dict[str, MetricInfo] = {
    "prompt_level_strict": accuracy(description="share of prompts whose instructions are all followed"),
    "prompt_level_loose": accuracy(description="as prompt_level_strict, forgiving markup and first/last lines"),
    "inst_level_strict": _POOLED,
    "inst_level_loose": _POOLED,
    "strict/{type}": _POOLED,
    "loose/{type}": _POOLED,
}

HEADLINE = ("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose")


def loose_variants(response: str) -> list[str]:
    """The eight responses the loose criterion tries, in the reference's order."""
    lines = response.split("\n")
    no_first = "\n".join(lines[1:]).strip()
    no_last = "\n".join(lines[:-1]).strip()
    no_both = "\n".join(lines[1:-1]).strip()
    return [response, response.replace("*", ""), no_first, no_last, no_both,
            no_first.replace("*", ""), no_last.replace("*", ""), no_both.replace("*", "")]


@dataclass
class PromptResult:
    """Per-instruction results for one prompt's response."""

    instruction_ids: list[str]
    strict: list[bool | None]
    loose: list[bool | None]
    """``None``: the instruction has no checker (a suite that declares unsupported ids, like IFBench)."""

    def scores(self) -> dict[str, float | None]:
        """The record's ``scores``: prompt-level 0/1 plus ``strict_<i>``/``loose_<i>`` per instruction."""
        out: dict[str, float | None] = {
            "prompt_level_strict": _all(self.strict),
            "prompt_level_loose": _all(self.loose),
        }
        for i, (s, lo) in enumerate(zip(self.strict, self.loose, strict=True)):
            out[f"strict_{i}"] = None if s is None else float(s)
            out[f"loose_{i}"] = None if lo is None else float(lo)
        return out

    def details(self, kwargs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{"instruction": i, "kwargs": dict(k), "strict": s, "loose": lo}
                for i, k, s, lo in zip(self.instruction_ids, kwargs, self.strict, self.loose, strict=True)]


def _all(results: Sequence[bool | None]) -> float | None:
    """Prompt-level: 0 if any instruction failed, else unknown (None) if any has no checker, else 1."""
    if any(r is False for r in results):
        return 0.0
    return None if any(r is None for r in results) else 1.0


Checker = Callable[[str, str, "Mapping[str, Any] | None"], "bool | None"]
"""``follows(instruction_id, response, kwargs)``: True/False, or None where the id has no checker."""


def score_response(instruction_ids: Sequence[str], kwargs: Sequence[Mapping[str, Any] | None],
                   response: str, check: Checker = follows) -> PromptResult:
    """Check every instruction of one prompt against ``response``, strictly and loosely (``check``: IFEval's
    checkers by default; another benchmark passes its own)."""
    variants = loose_variants(response)
    strict: list[bool | None] = []
    loose: list[bool | None] = []
    for inst_id, kw in zip(instruction_ids, kwargs, strict=True):
        s = check(inst_id, response, kw)
        strict.append(s)
        # The first variant is the response itself, so strict implies loose.
        loose.append(s if s is None or s else any(check(inst_id, v, kw) for v in variants[1:]))
    return PromptResult(list(instruction_ids), strict, loose)


def ifeval_metrics(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A suite Metric: the four IFEval accuracies and ``strict/<type>``, ``loose/<type>`` per instruction type.

    Prompt-level accuracy is the share of prompts whose instructions are all followed; instruction-level accuracy
    pools every instruction of every prompt. CIs are Wilson intervals over prompts, resp. over instructions (the
    latter treats a prompt's instructions as independent, so it is slightly too narrow). Records with an error
    (no response) are left out and counted by the runner.
    """
    ok = [r for r in records if r.get("error") is None and r.get("scores")]
    inst: dict[str, list[float]] = {"strict": [], "loose": []}
    per_type: dict[tuple[str, str], list[float]] = {}
    for r in ok:
        ids = r["metadata"]["instruction_id_list"]
        for mode in ("strict", "loose"):
            for i, inst_id in enumerate(ids):
                v = r["scores"][f"{mode}_{i}"]
                inst[mode].append(v)
                per_type.setdefault((mode, inst_id), []).append(v)
    out = {
        "prompt_level_strict": mean_ci([r["scores"]["prompt_level_strict"] for r in ok]),
        "inst_level_strict": mean_ci(inst["strict"]),
        "prompt_level_loose": mean_ci([r["scores"]["prompt_level_loose"] for r in ok]),
        "inst_level_loose": mean_ci(inst["loose"]),
    }
    for (mode, inst_id), vals in sorted(per_type.items(), key=lambda kv: (kv[0][1], kv[0][0] != "strict")):
        out[f"{mode}/{inst_id}"] = mean_ci(vals)
    return out
