"""``value-profile-best-of-n``: DPO pairs that move a policy toward a target value profile.

    representation:
      kind: value-profile-best-of-n
      target: profile.yaml          # a target value profile (alignlab.targets.profiles)
      prompts: prompts.jsonl        # rows with `prompt` (and `id`); default: the built-in value prompts
      n: 4                          # samples per prompt; the best and worst by value-profile reward make a pair
      classifier: "hf:/models/judge"  # judge model spec (default: the goal's critic, else the policy)

For each training prompt the policy samples ``n`` answers (seeds ``seed .. seed+n-1``), a value classifier maps
each answer to a value vector, and the reward is the vector's closeness to the target (the ``value-profile``
reward). ``train.jsonl`` holds the best/worst pairs; ``samples.jsonl`` (the audit) every sample with its value
vector and reward. Held out for evaluation: a share of the prompts (``heldout.prompts``, never sampled for
training) and a copy of the target profile (``heldout.target``, e.g. ``values/schwartz:target={heldout.target}``).
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from alignlab.errors import AlignlabError, DataError
from alignlab.goals._builders import BuildContext, BuiltData, prompt_key, register_builder, split_groups

if TYPE_CHECKING:
    from alignlab.goals._goal import Goal


class ValueProfileOptions(BaseModel):
    """The representation's fields for ``value-profile-best-of-n``."""

    model_config = ConfigDict(extra="forbid")
    target: str
    """Target value profile YAML (relative paths resolve against the goal file's folder)."""
    prompts: str | None = None
    """JSONL of prompts (``prompt``: text or chat messages, optional ``id``); default: the built-in value prompts."""
    n: int = Field(default=4, ge=2)
    """Samples per prompt."""
    classifier: str | None = None
    """Judge model spec for the value classifier; default: the goal's critic, else the policy."""
    metric: str = "pearson"
    """Closeness to the target: ``pearson``, ``spearman``, ``cosine`` or ``neg_distance``."""
    temperature: float = Field(default=0.9, gt=0)
    max_tokens: int = Field(default=256, ge=1)
    """Longest sampled answer, in tokens."""
    limit: int | None = Field(default=None, ge=1)
    """Use only the first N prompts."""
    heldout_fraction: float = Field(default=0.2, ge=0, lt=1)
    """Share of prompts kept out of training for evaluation."""
    seed: int | None = None
    """Seed of the split and the samples (default: the goal's seed)."""


def builtin_prompts_path() -> Path:
    """alignlab's open value-laden prompts (datasheet suites/data/value_prompts.md)."""
    return Path(str(resources.files("alignlab.suites").joinpath("data/value_prompts.jsonl")))


def read_prompt_rows(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows with a ``prompt`` (text or chat messages) and an ``id`` (the line number when absent)."""
    from alignlab.data import json_lines

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: prompts file not found") from None
    rows = []
    for n, row in json_lines(text, str(path)):
        prompt = row.get("prompt")
        ok = (isinstance(prompt, str) and prompt.strip()) or (
            isinstance(prompt, list) and prompt and all(isinstance(m, dict) and "content" in m for m in prompt))
        if not ok:
            raise DataError(f"{path}:{n}: field 'prompt' must be a non-empty string or a list of chat messages")
        rows.append({"id": str(row.get("id", n)), "prompt": prompt})
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise DataError(f"{path} holds no prompts")
    return rows


def _resolve(value: str, goal: Goal) -> Path:
    p = Path(value).expanduser()
    base = goal.source.parent if goal.source is not None else Path.cwd()
    return p if p.is_absolute() else (base / p).resolve()


@register_builder("value-profile-best-of-n", options=ValueProfileOptions)
def build_value_profile_best_of_n(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """Best-of-n DPO pairs scored by closeness to the target value profile (see the module docs)."""
    from alignlab.align.best_of_n import sample_and_score, summarize
    from alignlab.align.rewards import build_reward
    from alignlab.atomic import write_jsonl_atomic
    from alignlab.models import load_model
    from alignlab.targets.profiles import load_profile

    opts = ValueProfileOptions.model_validate(goal.representation.fields())
    seed = context.seed if opts.seed is None else opts.seed
    target_path = _resolve(opts.target, goal)
    profile = load_profile(target_path)  # fails on a bad profile before any model loads
    prompts_path = _resolve(opts.prompts, goal) if opts.prompts else builtin_prompts_path()
    rows = read_prompt_rows(prompts_path, opts.limit)
    keys = [prompt_key(r["prompt"]) for r in rows]
    held = split_groups(keys, fraction=opts.heldout_fraction, seed=seed)
    train_rows = [r for r, k in zip(rows, keys, strict=True) if k not in held]
    test_rows = [r for r, k in zip(rows, keys, strict=True) if k in held]
    if not train_rows:
        raise DataError(f"{prompts_path}: the held-out split leaves no training prompts", hint="lower heldout_fraction")

    judge = load_model(opts.classifier or context.critic or context.policy)
    reward = build_reward({"name": "value-profile", "args": {"target": profile, "classifier": judge,
                                                             "metric": opts.metric}})
    policy = load_model(context.policy)
    items = sample_and_score(policy, train_rows, reward, n=opts.n, temperature=opts.temperature, seed=seed,
                             max_tokens=opts.max_tokens)
    pairs = [p for it in items if (p := it.pair()) is not None]
    stats: dict[str, Any] = {"source": str(prompts_path), "target": str(target_path), "seed": seed, "n": opts.n,
                             "metric": opts.metric, "heldout_prompts": len(test_rows), **summarize(items),
                             "classifier_parse_failures": reward.counts["parse_failures"],  # type: ignore[attr-defined]
                             "classifier_errors": reward.counts["errors"]}  # type: ignore[attr-defined]
    if not pairs:
        raise AlignlabError(f"best-of-{opts.n} gave no preference pairs from {len(items)} prompts "
                            f"({stats['skipped_tie']} ties, {stats['skipped_unscored']} unscored)",
                            hint="raise temperature or n, or check the classifier's outputs in the audit")

    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out_dir / "train.jsonl", [{k: p[k] for k in ("prompt", "chosen", "rejected")}
                                                 for p in pairs])
    # The reward scored every generated sample in one call, in this order; its vectors go into the audit.
    vectors = iter(reward.last_vectors)  # type: ignore[attr-defined]
    audit = []
    for it in items:
        row = it.audit()
        for sample in row["samples"]:
            sample["values"] = next(vectors, None) if sample["text"] is not None else None
        audit.append(row)
    write_jsonl_atomic(out_dir / "samples.jsonl", audit)
    files = {"target": out_dir / "target_profile.yaml"}
    shutil.copyfile(target_path, files["target"])
    if test_rows:
        write_jsonl_atomic(out_dir / "heldout_prompts.jsonl", test_rows)
        files["prompts"] = out_dir / "heldout_prompts.jsonl"
    return BuiltData(out_dir / "train.jsonl", files, out_dir / "samples.jsonl", stats)
