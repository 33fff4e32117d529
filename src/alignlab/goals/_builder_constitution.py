"""Data builders of the values level's constitutional methods: ``critique-revise``, ``ai-feedback``, ``self-align``.

    representation:
      kind: critique-revise
      constitution: hhh            # a built-in name (see builtin_constitutions()) or a YAML file
      prompts: redteam             # built-in red-team prompts, or JSONL (prompt, id, label, category, tags)
      output: sft                  # sft: prompt → final revision; dpo: chosen = revision, rejected = 1st answer
      rounds: 1

    representation:
      kind: ai-feedback
      path: pairs.jsonl            # preference pairs (any alignlab/TRL preference file; `format:` an adapter name)
      constitution: hhh
      judge: "hf:/models/judge"    # default: the goal's critic, else the policy

    representation:
      kind: self-align
      constitution: hhh
      prompts: redteam
      exemplars: my_exemplars.yaml # default: alignlab's own five

Every builder writes ``train.jsonl`` (TRL conversational rows) and an audit file holding each step (critiques and
revisions, the judge's outputs per order, the in-context prompts), and reports in ``stats`` how often the critic or
judge worked — a weak critic shows up there, not as silently bad training data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alignlab.errors import AlignlabError, DataError
from alignlab.files import read_text
from alignlab.goals._builders import BuildContext, BuiltData, prompt_key, register_builder, split_groups

if TYPE_CHECKING:
    from alignlab.goals._goal import Goal
    from alignlab.models import Model

REDTEAM = "redteam"


def redteam_prompts_path() -> Path:
    """alignlab's red-team training prompts (60 unsafe, 30 safe; datasheet suites/data/redteam_prompts.md)."""
    return Path(str(resources.files("alignlab.suites").joinpath("data/redteam_prompts.jsonl")))


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")
    constitution: str = "hhh"
    """A built-in constitution's name or a YAML file (relative to the goal file)."""
    max_tokens: int = Field(default=192, ge=1)
    """Longest generated answer (and revision), in tokens."""
    limit: int | None = Field(default=None, ge=1)
    """Use only the first N prompts (pairs)."""
    seed: int | None = None
    """Seed of principle draws and sampling (default: the goal's seed)."""


class CritiqueReviseOptions(_Common):
    """The representation's fields for ``critique-revise``."""

    prompts: str = REDTEAM
    """``redteam`` (built in) or a JSONL file of prompts (``prompt``, optional ``id``, ``label``, ``category``,
    ``tags``)."""
    output: Literal["sft", "dpo"] = "sft"
    """``sft``: prompt → final revision; ``dpo``: chosen = final revision, rejected = first answer."""
    rounds: int = Field(default=1, ge=1)
    principles_per_round: int = Field(default=1, ge=1)
    critique_max_tokens: int | None = Field(default=None, ge=1)
    """Longest critique (default: max_tokens)."""
    only_revised: bool = False
    """For ``sft``: drop prompts whose answer no revision changed."""
    temperature: float = Field(default=0.0, ge=0)


class AIFeedbackOptions(_Common):
    """The representation's fields for ``ai-feedback``."""

    path: str
    """Preference pairs to label (the file's chosen/rejected are treated as human labels for agreement)."""
    format: str = "auto"
    """An alignlab data adapter (``hh-rlhf``, ``ultrafeedback``, ...) or ``auto``."""
    principles: list[str] | None = None
    """Ids of the constitution's principles to judge by (default: all)."""
    judge: str | None = None
    """Judge model spec (default: the goal's critic, else the policy)."""
    mode: Literal["auto", "logprob", "generate"] = "auto"
    min_confidence: float = Field(default=0.0, ge=0, le=0.5)
    """Drop pairs whose soft label is within this of 0.5."""
    heldout_fraction: float = Field(default=0.2, ge=0, lt=1)
    """Share of prompts kept (with their original labels) for ``preferences/agreement:path={heldout.pairs}``."""


class SelfAlignOptions(_Common):
    """The representation's fields for ``self-align``."""

    prompts: str = REDTEAM
    """``redteam`` (built in) or a JSONL file of prompts."""
    exemplars: str | None = None
    """YAML file of in-context exemplars (default: alignlab's own five)."""
    n_exemplars: int | None = Field(default=None, ge=0)


def _resolve(value: str, goal: Goal) -> Path:
    p = Path(value).expanduser()
    base = goal.source.parent if goal.source is not None else Path.cwd()
    return p if p.is_absolute() else (base / p).resolve()


def _constitution(value: str, goal: Goal) -> Any:
    from alignlab.targets.constitution import builtin_constitutions, load_constitution

    return load_constitution(value if value in builtin_constitutions() else _resolve(value, goal))


def read_prompts(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Prompt rows (``prompt`` text or messages; ``id``, ``label``, ``category``, ``tags`` kept); ``file:line``
    errors."""
    from alignlab.data import json_lines

    try:
        text = read_text(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot read prompts: {exc.strerror}") from None
    rows: list[dict[str, Any]] = []
    for n, row in json_lines(text, str(path)):
        prompt = row.get("prompt")
        if not ((isinstance(prompt, str) and prompt.strip()) or (isinstance(prompt, list) and prompt and all(
                isinstance(m, dict) and "content" in m for m in prompt))):
            raise DataError(f"{path}:{n}: field 'prompt' must be a non-empty string or a list of chat messages")
        tags = row.get("tags") or []
        if not isinstance(tags, list):
            raise DataError(f"{path}:{n}: field 'tags' must be a list of strings")
        rows.append({"id": str(row.get("id", n)), "prompt": prompt, "tags": [str(t) for t in tags],
                     **{k: str(row[k]) for k in ("label", "category") if row.get(k)}})
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise DataError(f"{path} holds no prompts")
    return rows


def _prompts(value: str, goal: Goal, limit: int | None) -> tuple[Path, list[dict[str, Any]]]:
    path = redteam_prompts_path() if value == REDTEAM else _resolve(value, goal)
    return path, read_prompts(path, limit)


class _Models:
    """Opens the policy and (if different) the critic once, and closes what it opened."""

    def __init__(self, context: BuildContext) -> None:
        from alignlab.models import load_model

        self.open = lambda spec: load_model(spec, cache=True)
        self.opened: dict[str, Model] = {}

    def get(self, spec: str) -> Model:
        if spec not in self.opened:
            self.opened[spec] = self.open(spec)
        return self.opened[spec]

    def __enter__(self) -> _Models:
        return self

    def __exit__(self, *exc: object) -> None:
        for m in self.opened.values():
            m.close()


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    from alignlab.atomic import write_jsonl_atomic

    write_jsonl_atomic(path, rows)


def _progress(context: BuildContext, name: str) -> Callable[[str], None] | None:
    """Phase lines on stderr while a builder's model calls run (they take minutes on CPU)."""
    if not context.progress:
        return None
    return lambda msg: print(f"  {name}: {msg}", file=sys.stderr, flush=True)


@register_builder("critique-revise", options=CritiqueReviseOptions)
def build_critique_revise(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """Critique-and-revise data: ``train.jsonl`` (SFT or preference rows) and ``critiques.jsonl`` (every step)."""
    from alignlab.align.constitutional import critique_revise, critique_stats, preference_rows, sft_rows

    opts = CritiqueReviseOptions.model_validate(goal.representation.fields())
    seed = context.seed if opts.seed is None else opts.seed
    constitution = _constitution(opts.constitution, goal)
    source, rows = _prompts(opts.prompts, goal, opts.limit)
    with _Models(context) as models:
        policy = models.get(context.policy)
        critic = models.get(context.critic) if context.critic else policy
        records = critique_revise(policy, rows, constitution, critic=critic, rounds=opts.rounds,
                                  principles_per_round=opts.principles_per_round, seed=seed,
                                  max_tokens=opts.max_tokens, critique_max_tokens=opts.critique_max_tokens,
                                  temperature=opts.temperature, log=_progress(context, "critique-revise"))
    train = sft_rows(records, only_revised=opts.only_revised) if opts.output == "sft" else preference_rows(records)
    stats: dict[str, Any] = {"source": str(source), "constitution": constitution.name, "output": opts.output,
                             "seed": seed, "critic": context.critic or context.policy, "n_train": len(train),
                             **critique_stats(records)}
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "critiques.jsonl", [r.to_dict() for r in records])
    if not train:
        raise AlignlabError(f"critique-revise produced no {opts.output} rows from {len(records)} prompts "
                            f"({stats['accepted']} of {stats['steps']} revisions accepted; problems: "
                            f"{stats['problems']})", hint=f"read {out_dir / 'critiques.jsonl'}; a stronger critic "
                            "(goal `critic:`) or output: sft may help")
    _write(out_dir / "train.jsonl", [{k: v for k, v in r.items() if k != "id"} for r in train])
    return BuiltData(out_dir / "train.jsonl", {}, out_dir / "critiques.jsonl", stats)


@register_builder("ai-feedback", options=AIFeedbackOptions)
def build_ai_feedback(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """Pairs relabelled by a judge against principles: ``train.jsonl`` (oriented by the judge), ``labels.jsonl``
    (every judgement), ``heldout.jsonl`` (untouched pairs for evaluation)."""
    from alignlab.align.ai_feedback import agreement_with_human, ai_preferences, labelled_pairs
    from alignlab.evaluate.preferences.agreement import read_pairs
    from alignlab.targets.constitution import Constitution

    opts = AIFeedbackOptions.model_validate(goal.representation.fields())
    seed = context.seed if opts.seed is None else opts.seed
    constitution = _constitution(opts.constitution, goal)
    if opts.principles:
        constitution = Constitution(name=constitution.name, principles=tuple(constitution[p] for p in
                                                                            opts.principles))
    path = _resolve(opts.path, goal)
    pairs = read_pairs(path, opts.format, limit=opts.limit)
    keys = [prompt_key(p.prompt) for p in pairs]
    held = split_groups(keys, [p.subset for p in pairs], fraction=opts.heldout_fraction, seed=seed)
    rows = [{"id": p.id, "prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected}
            for p, k in zip(pairs, keys, strict=True) if k not in held]
    test = [{"id": p.id, **({"subset": p.subset} if p.subset else {}), "prompt": p.prompt, "chosen": p.chosen,
             "rejected": p.rejected} for p, k in zip(pairs, keys, strict=True) if k in held]
    if not rows:
        raise DataError(f"{path}: the held-out split leaves no pairs to label", hint="lower heldout_fraction")
    judge_spec = opts.judge or context.critic or context.policy
    with _Models(context) as models:
        feedback = ai_preferences(models.get(judge_spec), rows, constitution, mode=opts.mode, seed=seed,
                                  max_tokens=opts.max_tokens)
    train = labelled_pairs(rows, feedback, min_confidence=opts.min_confidence)
    for row in train:
        if isinstance(row["prompt"], list):  # conversational completions for conversational prompts (TRL)
            row["chosen"] = [{"role": "assistant", "content": row["chosen"]}]
            row["rejected"] = [{"role": "assistant", "content": row["rejected"]}]
    stats: dict[str, Any] = {"source": str(path), "constitution": constitution.name, "judge": judge_spec,
                             "seed": seed, "n_train": len(train), "n_heldout": len(test), **feedback.summary(),
                             "agreement_with_data_labels": agreement_with_human(feedback)}
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "labels.jsonl", [lab.to_dict() for lab in feedback.labels])
    if not train:
        raise AlignlabError(f"the judge decided none of {len(rows)} pairs (labels: {stats['labels']}; problems: "
                            f"{stats['problems']})", hint=f"read {out_dir / 'labels.jsonl'}; try a stronger judge")
    _write(out_dir / "train.jsonl", [{k: v for k, v in r.items() if k != "id"} for r in train])
    files: dict[str, Path] = {}
    if test:
        _write(out_dir / "heldout.jsonl", test)
        files["pairs"] = out_dir / "heldout.jsonl"
    return BuiltData(out_dir / "train.jsonl", files, out_dir / "labels.jsonl", stats)


@register_builder("self-align", options=SelfAlignOptions)
def build_self_align(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """SELF-ALIGN SFT data: answers made with principles and exemplars in context, written without them."""
    from alignlab.align.self_align import load_exemplars, self_align, self_align_sft_rows, self_align_stats

    opts = SelfAlignOptions.model_validate(goal.representation.fields())
    seed = context.seed if opts.seed is None else opts.seed
    constitution = _constitution(opts.constitution, goal)
    exemplars = load_exemplars(_resolve(opts.exemplars, goal) if opts.exemplars else None)
    source, rows = _prompts(opts.prompts, goal, opts.limit)
    with _Models(context) as models:
        records = self_align(models.get(context.policy), rows, constitution, exemplars=exemplars,
                             n_exemplars=opts.n_exemplars, max_tokens=opts.max_tokens, seed=seed)
    train = self_align_sft_rows(records)
    stats = {"source": str(source), "constitution": constitution.name, "seed": seed, "n_train": len(train),
             **self_align_stats(records)}
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "self_align.jsonl", [r.to_dict() for r in records])
    if not train:
        raise AlignlabError(f"self-align kept none of {len(records)} answers ({stats['problems']})",
                            hint=f"read {out_dir / 'self_align.jsonl'}")
    _write(out_dir / "train.jsonl", [{k: v for k, v in r.items() if k != "id"} for r in train])
    return BuiltData(out_dir / "train.jsonl", {}, out_dir / "self_align.jsonl", stats)
