"""Data builders: a goal's ``representation`` → training data (TRL schema) and held-out evaluation data.

A builder is registered per ``representation.kind``::

    @register_builder("preference-pairs", options=PairsOptions)
    def build(goal, out_dir, context) -> BuiltData: ...

``options`` (a pydantic model) validates the representation's kind-specific fields when the goal is loaded, so a
typo fails with ``file:line`` before any model loads. Builders of other packages register lazily: their module is
imported the first time their kind is asked for (like the suite registry's built-in modules).

Built-in kinds here: ``preference-pairs`` (split a pairs file into train and held-out) and ``instructions`` (SFT
records from any alignlab data file, with an optional held-out split). Held-out items never share a prompt with
training items: the split is made over prompt groups (normalised prompt text), not over rows or ids.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alignlab.errors import AlignlabError, DataError
from alignlab.goals.openings import opening_overlap
from alignlab.registry import Registry

if TYPE_CHECKING:
    from alignlab.goals._goal import Goal


@dataclass
class BuildContext:
    """What a builder may use besides the goal: the model specs it opens (``alignlab.models.load_model``)."""

    policy: str
    """The goal's model spec (the model being aligned)."""
    critic: str | None = None
    """A stronger model spec for critique or judging; None means the policy itself."""
    seed: int = 0
    progress: bool = True


@dataclass
class BuiltData:
    """A builder's output, all under the ``data/`` folder of the goal run."""

    train_path: Path
    """Training data, JSONL in TRL's schema (prompt/chosen/rejected, prompt/completion, messages, ...)."""
    heldout: dict[str, Path] = field(default_factory=dict)
    """Held-out files by name; a goal's suite arguments refer to them as ``{heldout.NAME}``."""
    audit_path: Path | None = None
    """What was built and why (split assignments, critiques, rejected candidates...), for a human to check."""
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"train_path": str(self.train_path), "heldout": {k: str(v) for k, v in self.heldout.items()},
                "audit_path": None if self.audit_path is None else str(self.audit_path), "stats": self.stats}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> BuiltData:
        return cls(Path(d["train_path"]), {k: Path(v) for k, v in d.get("heldout", {}).items()},
                   Path(d["audit_path"]) if d.get("audit_path") else None, d.get("stats") or {})


Builder = Callable[["Goal", Path, BuildContext], BuiltData]


@dataclass
class _Entry:
    fn: Builder
    options: type[BaseModel] | None


# Kinds registered by the builder modules, imported on first lookup.
BUILDERS: Registry[_Entry] = Registry("representation kind", ["alignlab.goals._builder_constitution",
                                                              "alignlab.goals._builder_value_profile",
                                                              "alignlab.goals._builder_prompts"])


def register_builder(kind: str, *, options: type[BaseModel] | None = None) -> Callable[[Builder], Builder]:
    """Register ``fn(goal, out_dir, context) -> BuiltData`` for ``representation.kind == kind``; ``options``
    validates the representation's other fields at load time."""

    def deco(fn: Builder) -> Builder:
        BUILDERS.add(kind, _Entry(fn, options))
        fn.builder_kind = kind  # type: ignore[attr-defined]
        return fn

    return deco


def _entry(kind: str) -> _Entry:
    entry = BUILDERS.find(kind)
    if entry is None:
        raise AlignlabError(f"unknown representation kind {kind!r}; known kinds: {', '.join(builder_kinds())}")
    return entry


def builder_kinds() -> list[str]:
    return BUILDERS.names()


def get_builder(kind: str) -> Builder:
    return _entry(kind).fn


def builder_options(kind: str) -> type[BaseModel] | None:
    return _entry(kind).options


# -- splitting ---------------------------------------------------------------------------------------------------


def prompt_key(prompt: Any) -> str:
    """A prompt's identity for leakage checks: whitespace-normalised, case-folded text of every message."""
    if isinstance(prompt, str):
        return " ".join(prompt.split()).casefold()
    parts = []
    for m in prompt or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", "")
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", "")
        text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
        parts.append(f"{role}: {' '.join(text.split()).casefold()}")
    return "\n".join(parts)


def split_groups(keys: Sequence[str], strata: Sequence[str | None] | None = None, *,
                 fraction: float | None = None, every: int | None = None, seed: int = 0) -> set[str]:
    """The held-out prompt keys among ``keys`` (one per row; equal keys form one group and stay together).

    ``every=k``: every k-th group in file order (the 1st, (k+1)-th, ...). ``fraction``: round(fraction × groups)
    groups, chosen per stratum (e.g. a pair's subset) in proportion to its size (largest remainders), and within a
    stratum by a seeded hash of the key — so the choice does not depend on row order, and the same seed always
    holds out the same prompts.
    """
    first: dict[str, str | None] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, strata[i] if strata else None)
    groups = list(first)
    if every is not None:
        return {k for i, k in enumerate(groups) if i % every == 0}
    if not fraction:
        return set()
    by_stratum: dict[str | None, list[str]] = {}
    for k in groups:
        by_stratum.setdefault(first[k], []).append(k)
    total = round(fraction * len(groups))
    quotas = {s: fraction * len(ks) for s, ks in by_stratum.items()}
    take = {s: math.floor(q) for s, q in quotas.items()}
    order = sorted(quotas, key=lambda s: (-(quotas[s] - take[s]), str(s)))
    for s in order[: max(0, total - sum(take.values()))]:
        take[s] += 1

    def rank(k: str) -> str:
        return hashlib.sha256(f"{seed}\0{k}".encode()).hexdigest()

    return {k for s, ks in by_stratum.items() for k in sorted(ks, key=rank)[: take[s]]}


class SplitOptions(BaseModel):
    """How to hold out part of the data (none by default for SFT data)."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    """The data file (relative paths resolve against the goal file's folder)."""
    format: str = "auto"
    """An alignlab data adapter name (``hh-rlhf``, ``alpaca``, ...), or ``auto`` for alignlab/TRL records."""
    heldout_fraction: float | None = Field(default=None, ge=0, lt=1)
    """Share of prompts held out for evaluation (stratified by ``subset`` when the rows have one)."""
    heldout_every: int | None = Field(default=None, ge=2)
    """Hold out every k-th prompt in file order instead of a seeded fraction."""
    seed: int | None = None
    """Seed of the split (default: the goal's seed)."""
    limit: int | None = Field(default=None, ge=1)
    """Read only the first N rows."""

    @model_validator(mode="after")
    def _one_way(self) -> SplitOptions:
        if self.heldout_fraction and self.heldout_every is not None:
            raise ValueError("give heldout_fraction or heldout_every, not both")
        return self


class PairsOptions(SplitOptions):
    """Preference pairs are evaluated on held-out prompts: a fifth of them unless told otherwise."""

    @model_validator(mode="after")
    def _default_split(self) -> PairsOptions:
        if self.heldout_fraction is None and self.heldout_every is None:
            self.heldout_fraction = 0.2
        return self


HHH_PAIRS = "data/hhh_pairs.jsonl"


def builtin_pairs_path() -> Path:
    """The built-in helpful/honest/harmless pairs (180; datasheet suites/data/hhh_pairs.md)."""
    return Path(str(resources.files("alignlab.suites").joinpath(HHH_PAIRS)))


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    from alignlab.atomic import write_jsonl_atomic

    write_jsonl_atomic(path, rows)


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _split_stats(keys: list[str], held: set[str], train_idx: list[int], test_idx: list[int]) -> dict[str, Any]:
    train_keys = {keys[i] for i in train_idx}
    test_keys = {keys[i] for i in test_idx}
    leaked = train_keys & test_keys
    if leaked:  # by construction impossible; checked because a leak would silently inflate the held-out score
        raise AlignlabError(f"held-out split leaks {len(leaked)} prompts into training")
    return {"n_rows": len(keys), "n_train": len(train_idx), "n_heldout": len(test_idx),
            "n_prompts": len(set(keys)), "n_heldout_prompts": len(test_keys), "leak_check": "no shared prompts"}


def _opts(goal: Goal, model: type[SplitOptions]) -> SplitOptions:
    return model.model_validate(goal.representation.fields())


@register_builder("preference-pairs", options=PairsOptions)
def build_preference_pairs(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """Split preference pairs into ``train.jsonl`` (TRL conversational preference) and ``heldout.jsonl`` (the same
    pairs with ids and subsets, for ``preferences/agreement:path={heldout.pairs}``)."""
    from alignlab.evaluate.preferences.agreement import read_pairs

    opts = _opts(goal, PairsOptions)
    path = Path(opts.path) if opts.path else builtin_pairs_path()
    pairs = read_pairs(path, opts.format, limit=opts.limit)
    keys = [prompt_key(p.prompt) for p in pairs]
    seed = context.seed if opts.seed is None else opts.seed
    held = split_groups(keys, [p.subset for p in pairs], fraction=opts.heldout_fraction, every=opts.heldout_every,
                        seed=seed)
    train_idx = [i for i, k in enumerate(keys) if k not in held]
    test_idx = [i for i, k in enumerate(keys) if k in held]
    if not train_idx:
        raise DataError(f"{path}: the held-out split leaves no training pairs", hint="lower heldout_fraction")

    def prompt(p: Any) -> Any:
        return p if isinstance(p, str) else list(p)

    def completion(text: str, p: Any) -> Any:
        return text if isinstance(p, str) else _assistant(text)

    train = [{"prompt": prompt(pairs[i].prompt), "chosen": completion(pairs[i].chosen, pairs[i].prompt),
              "rejected": completion(pairs[i].rejected, pairs[i].prompt)} for i in train_idx]
    heldout = [{"id": pairs[i].id, **({"subset": pairs[i].subset} if pairs[i].subset else {}),
                "prompt": prompt(pairs[i].prompt), "chosen": completion(pairs[i].chosen, pairs[i].prompt),
                "rejected": completion(pairs[i].rejected, pairs[i].prompt)} for i in test_idx]
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out_dir / "train.jsonl", train)
    files: dict[str, Path] = {}
    if heldout:
        _write_jsonl(out_dir / "heldout.jsonl", heldout)
        files["pairs"] = out_dir / "heldout.jsonl"
    audit = [{"id": p.id, "subset": p.subset, "split": "heldout" if keys[i] in held else "train",
              "prompt_sha256": hashlib.sha256(keys[i].encode()).hexdigest()[:16]} for i, p in enumerate(pairs)]
    _write_jsonl(out_dir / "split.jsonl", audit)
    stats = {"source": str(path), "seed": seed, "heldout_fraction": opts.heldout_fraction,
             "heldout_every": opts.heldout_every, **_split_stats(keys, held, train_idx, test_idx),
             "opening_overlap": opening_overlap([(pairs[i].chosen, pairs[i].rejected) for i in train_idx],
                                                [(pairs[i].chosen, pairs[i].rejected) for i in test_idx])}
    return BuiltData(out_dir / "train.jsonl", files, out_dir / "split.jsonl", stats)


def _sft_rows(path: str | Path, fmt: str, limit: int | None) -> list[tuple[Any, dict[str, Any], str | None]]:
    """(prompt for the leakage key, TRL SFT row, id) per record; preference data trains on the chosen side."""
    from alignlab.data import LanguageModeling, Preference, PromptCompletion, iter_records, maybe_conversational

    out = []
    for rec in iter_records(path, fmt):
        rec = maybe_conversational(rec)
        if isinstance(rec, PromptCompletion):
            row = {"prompt": _dump(rec.prompt), "completion": _dump(rec.completion)}
            out.append((row["prompt"], row, rec.id))
        elif isinstance(rec, LanguageModeling) and rec.messages:
            msgs = _dump(rec.messages)
            last = max((i for i, m in enumerate(msgs) if m["role"] != "assistant"), default=-1) + 1
            out.append((msgs[:last] or msgs, {"messages": msgs}, rec.id))
        elif isinstance(rec, LanguageModeling):
            out.append((rec.text, {"text": rec.text}, rec.id))
        elif isinstance(rec, Preference):
            row = {"prompt": _dump(rec.prompt), "completion": _dump(rec.chosen)}
            out.append((row["prompt"], row, rec.id))
        else:
            raise DataError(f"{path}: {rec.kind} records are not SFT data",
                            hint="use prompt/completion, messages or text records (or a preference file: its "
                                 "chosen responses)")
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise DataError(f"{path} holds no records")
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    return [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else dict(m) for m in value]


def _single_turn(prompt: Any, row: dict[str, Any]) -> tuple[str, str] | None:
    """(user text, reference answer) when the row is one user turn and one assistant answer."""
    completion = row.get("completion")
    if isinstance(prompt, str) and isinstance(completion, str):
        return prompt, completion
    if isinstance(prompt, list) and len(prompt) == 1 and prompt[0].get("role") == "user" and \
            isinstance(completion, list) and len(completion) == 1 and isinstance(completion[0].get("content"), str):
        return str(prompt[0]["content"]), completion[0]["content"]
    return None


@register_builder("instructions", options=SplitOptions)
def build_instructions(goal: Goal, out_dir: Path, context: BuildContext) -> BuiltData:
    """SFT data (prompt/completion, messages or text rows) from any alignlab data file; held-out rows (when asked
    for) go to ``heldout.jsonl`` and, when single-turn, to MT-Bench-format ``questions.jsonl`` and
    ``references.jsonl`` for ``instructions/arena-vs-reference``."""
    opts = _opts(goal, SplitOptions)
    if not opts.path:
        raise AlignlabError("representation kind 'instructions' needs a path", hint="add `path: FILE` to it")
    rows = _sft_rows(opts.path, opts.format, opts.limit)
    keys = [prompt_key(p) for p, _, _ in rows]
    seed = context.seed if opts.seed is None else opts.seed
    held = split_groups(keys, None, fraction=opts.heldout_fraction, every=opts.heldout_every, seed=seed)
    train_idx = [i for i, k in enumerate(keys) if k not in held]
    test_idx = [i for i, k in enumerate(keys) if k in held]
    if not train_idx:
        raise DataError(f"{opts.path}: the held-out split leaves no training rows", hint="lower heldout_fraction")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out_dir / "train.jsonl", [rows[i][1] for i in train_idx])
    files: dict[str, Path] = {}
    if test_idx:
        _write_jsonl(out_dir / "heldout.jsonl", [{"id": rows[i][2] or str(i), **rows[i][1]} for i in test_idx])
        files["records"] = out_dir / "heldout.jsonl"
        turns = [(i, _single_turn(rows[i][0], rows[i][1])) for i in test_idx]
        if all(t is not None for _, t in turns):
            _write_jsonl(out_dir / "questions.jsonl", [{"question_id": rows[i][2] or str(i), "category": "heldout",
                                                         "turns": [t[0]]} for i, t in turns if t])
            _write_jsonl(out_dir / "references.jsonl", [{"question_id": rows[i][2] or str(i), "turns": [t[1]]}
                                                          for i, t in turns if t])
            files["questions"], files["references"] = out_dir / "questions.jsonl", out_dir / "references.jsonl"
    audit = [{"id": rows[i][2] or str(i), "split": "heldout" if k in held else "train",
              "prompt_sha256": hashlib.sha256(k.encode()).hexdigest()[:16]} for i, k in enumerate(keys)]
    _write_jsonl(out_dir / "split.jsonl", audit)
    stats = {"source": str(opts.path), "seed": seed, "heldout_fraction": opts.heldout_fraction,
             "heldout_every": opts.heldout_every, **_split_stats(keys, held, train_idx, test_idx)}
    return BuiltData(out_dir / "train.jsonl", files, out_dir / "split.jsonl", stats)
