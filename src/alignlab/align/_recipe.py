"""Recipes: one YAML file = method + model + data + LoRA + TRL trainer fields, parsed before any heavy import.

    # alignlab align dpo --config examples/recipes/dpo.yaml
    method: dpo
    model: default                      # default | hf:PATH | gguf:PATH | a local HF dir
    data: {path: pairs.jsonl}           # any format alignlab.data reads (format: hh-rlhf, ...)
    lora: {r: 8, alpha: 16, target_modules: [q_proj, v_proj]}
    trainer: {beta: 0.1, loss_type: [sigmoid], max_steps: 100}   # fields of trl.DPOConfig
    output_dir: out/dpo

The ``trainer`` mapping is checked against the TRL config class of the method by ``check_recipe`` (it imports TRL,
so it runs at the start of ``train``, before a model loads); an unknown field names ``file:line``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator

from alignlab.align.constraints import ConstraintSpec
from alignlab.align.rewards import RewardSpec
from alignlab.errors import AlignlabError
from alignlab.files import read_text
from alignlab.located_yaml import line_of, load_yaml, located_error

Method = Literal["sft", "reward", "cost", "dpo", "kto", "orpo", "rloo", "grpo"]
METHODS: tuple[str, ...] = ("sft", "reward", "cost", "dpo", "kto", "orpo", "rloo", "grpo")
SCORE_METHODS = ("reward", "cost")  # train a sequence classifier (one score), not a policy
RL_METHODS = ("rloo", "grpo")
HINT = "see docs/align.md and examples/recipes/"


class DataSpec(BaseModel):
    """Where the training data is and how to read it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    path: str
    """A file, directory or ``hf://NAME[:CONFIG][@SPLIT]`` that ``alignlab.data`` reads."""
    format: str = "auto"
    """An ``alignlab.data`` adapter name (``hh-rlhf``, ``ultrafeedback``, ...); ``auto`` tells TRL-style kinds apart."""
    eval_path: str | None = None
    """Held-out data in the same format, evaluated during training (TRL's ``eval_dataset``)."""
    limit: int | None = Field(default=None, ge=1)
    """Use only the first ``limit`` training examples."""


class LoraSpec(BaseModel):
    """A LoRA adapter (peft ``LoraConfig``); the merged model is saved as well as the adapter."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    r: int = Field(default=8, ge=1)
    """Rank of the update matrices."""
    alpha: float = 16.0
    """Scale: the update is multiplied by ``alpha / r``."""
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    """Dropout on the adapter's input."""
    target_modules: list[str] | str = "all-linear"
    """Module names to adapt (``[q_proj, v_proj]``), or ``all-linear``."""


class Recipe(BaseModel):
    """A training recipe: which TRL method trains which model on which data, and where the result goes."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    method: Method
    """``sft``, ``reward``, ``cost``, ``dpo``, ``kto``, ``orpo``, ``rloo`` or ``grpo``."""
    model: str = "default"
    """Model spec: ``default`` | ``hf:PATH`` | ``gguf:PATH`` | a plain local HF dir."""
    data: DataSpec
    """Training data."""
    lora: LoraSpec | None = None
    """Train a LoRA adapter instead of all weights (omit for full fine-tuning)."""
    trainer: dict[str, Any] = Field(default_factory=dict)
    """Fields of the method's TRL config class (``SFTConfig``, ``DPOConfig``, ...), passed through."""
    rewards: list[RewardSpec] = Field(default_factory=list)
    """Reward functions for ``rloo``/``grpo`` (``alignlab.align.rewards``)."""
    reward_model: str | None = None
    """A sequence-classification model dir: for ``rloo``/``grpo`` a shorthand for a ``reward-model`` reward."""
    constraints: list[ConstraintSpec] = Field(default_factory=list)
    """Costs with budgets for ``rloo``/``grpo`` (``alignlab.align.constraints``): trains on R − λ·C with λ updated
    by dual ascent."""
    cost_loss: Literal["safe-rlhf", "pairwise", "classification"] = "safe-rlhf"
    """For ``cost`` (``alignlab.align.cost_model``): Safe RLHF's pairwise + sign loss, the pairwise loss alone, or
    the sign (is-unsafe) loss alone — a classification head on the answers' safety labels."""
    output_dir: str = "align-out"
    """Where checkpoints, ``metrics.jsonl``, ``model/`` (and ``adapter/``) go."""
    seed: int = 0
    """Seed for data order, initialisation and sampling."""

    _source: Path | None = PrivateAttr(default=None)
    _node: Any = PrivateAttr(default=None)

    @field_validator("trainer", mode="before")
    @classmethod
    def _trainer(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("rewards", "reward_model", "constraints")
    @classmethod
    def _only_for_rl(cls, value: Any, info: ValidationInfo) -> Any:
        method = info.data.get("method")
        if value and method not in RL_METHODS:
            raise ValueError(f"{info.field_name} applies to rloo and grpo, not {method}")
        return value

    @field_validator("cost_loss")
    @classmethod
    def _only_for_cost(cls, value: str, info: ValidationInfo) -> str:
        if value != "safe-rlhf" and info.data.get("method") != "cost":
            raise ValueError(f"cost_loss applies to cost, not {info.data.get('method')}")
        return value

    @property
    def source(self) -> Path | None:
        """The YAML file this recipe came from (None when built in Python)."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the recipe resolve against."""
        return self._source.parent if self._source else Path.cwd()

    def where(self, *loc: str | int) -> str:
        """``file:line`` of ``loc`` (e.g. ``("trainer", "beta")``) for error messages, or ``recipe``."""
        if self._source is None:
            return "recipe"
        line = line_of(self._node, loc) if self._node is not None else None
        return f"{self._source}:{line}" if line else str(self._source)

    def to_yaml(self) -> str:
        """The resolved recipe as YAML (written to ``output_dir/recipe.yaml``)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``overrides``; nested mappings merge, dotted keys (``trainer.beta``) reach inside."""
    out = dict(base)
    for key, value in overrides.items():
        head, dot, rest = str(key).partition(".")
        if dot:
            value = {rest: value}
        if isinstance(value, dict) and isinstance(out.get(head), dict):
            out[head] = _merge(out[head], value)
        else:
            out[head] = value
    return out


_HUB = "hf://"


def resolve_path(value: str | None, base: Path) -> str | None:
    if value is None or value.startswith(_HUB):
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def resolve_model_spec(spec: str, base: Path) -> str:
    """Relative paths in ``hf:``/``gguf:`` specs and plain dirs resolve against the recipe's folder."""
    name, sep, target = spec.partition(":")
    if sep and name in ("hf", "gguf"):
        return f"{name}:{resolve_path(target, base)}"
    if spec == "default" or sep and len(name) > 1:  # other backends (openai:...) are rejected later with a hint
        return spec
    return str(resolve_path(spec, base))


def load_recipe(path: str | Path, overrides: dict[str, Any] | None = None, *, method: str | None = None) -> Recipe:
    """Parse a recipe YAML file into a ``Recipe``; errors name ``file:line``. ``overrides`` (nested or dotted keys,
    e.g. ``{"trainer.max_steps": 10}``) replace values of the file. Relative paths resolve against its folder.
    ``method`` is the method the caller runs (``alignlab align dpo``): it fills a missing ``method:``, and a
    different one is an error."""
    src = Path(path)
    if not src.is_file():
        raise AlignlabError(f"no recipe file {str(path)!r}", hint=HINT)
    where = str(src)
    raw, node = load_yaml(read_text(src), where)
    if not isinstance(raw, dict):
        raise AlignlabError(f"{where}: expected a mapping with method, model, data, trainer, output_dir", hint=HINT)
    if method is not None:
        if raw.get("method", method) != method:
            line = line_of(node, ("method",))
            raise AlignlabError(f"{where}:{line}: method: the recipe trains {raw['method']!r}, not {method!r}",
                                hint=f"run `alignlab align {raw['method']} --config {where}`")
        raw.setdefault("method", method)
    if overrides:
        raw = _merge(raw, overrides)
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as exc:
        raise located_error(exc, where, node, hint=HINT) from None
    base = src.resolve().parent
    recipe.model = resolve_model_spec(recipe.model, base)
    recipe.data.path = str(resolve_path(recipe.data.path, base))
    recipe.data.eval_path = resolve_path(recipe.data.eval_path, base)
    recipe.output_dir = str(resolve_path(recipe.output_dir, base))
    if recipe.reward_model:
        recipe.reward_model = resolve_model_spec(recipe.reward_model, base)
    recipe._source, recipe._node = src, node
    return recipe
