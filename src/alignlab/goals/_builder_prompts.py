"""``prompts``: training prompts for online RL (``rloo``/``grpo``), with their labels as reward columns.

    representation: {kind: prompts, prompts: redteam}     # or a JSONL file of {prompt, label?, category?, id?}

The rows keep ``label`` (``safe``/``unsafe``) and ``category``, which TRL passes to reward functions (the
``safety-cost`` reads ``label``). Nothing is held out: the goal evaluates on its suites (``values/safety``'s
prompts are disjoint from the red-team training prompts; see ``suites/data/redteam_prompts.md``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from alignlab.goals._builder_constitution import REDTEAM, _prompts, _write
from alignlab.goals._builders import BuildContext, BuiltData, register_builder

if TYPE_CHECKING:
    from alignlab.goals._goal import Goal


class PromptsOptions(BaseModel):
    """The representation's fields for ``prompts``."""

    model_config = ConfigDict(extra="forbid")
    prompts: str = REDTEAM
    """``redteam`` (alignlab's 90 red-team training prompts: 60 unsafe, 30 safe-but-risky) or a JSONL file."""
    limit: int | None = Field(default=None, ge=1)
    """Use only the first N prompts."""


@register_builder("prompts", options=PromptsOptions)
def build_prompts(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    opts = PromptsOptions.model_validate(goal.representation.fields())
    source, rows = _prompts(opts.prompts, goal, opts.limit)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = [{"prompt": r["prompt"], **{k: r[k] for k in ("id", "label", "category") if k in r}} for r in rows]
    _write(out_dir / "train.jsonl", train)
    labels = Counter(r.get("label", "unlabelled") for r in train)
    return BuiltData(out_dir / "train.jsonl", stats={"n_train": len(train), "source": str(source),
                                                     "labels": dict(sorted(labels.items()))})
