"""A goal in YAML: what to align a model with, how, and how to measure it — parsed before any heavy import.

    name: hhh-dpo
    level: preferences
    model: default
    representation: {kind: preference-pairs, heldout_fraction: 0.33}
    align: {method: dpo, lora: {r: 8}, trainer: {num_train_epochs: 1}}
    evaluate:
      - {name: preferences/agreement, args: {path: "{heldout.pairs}"}}

``align`` is a recipe (``alignlab.align.Recipe``) without ``model``, ``data.path`` and ``output_dir``, which the
loop fills in; ``recipe: PATH`` reads one from a file instead (other keys beside it override the file's).
Validation errors name ``file:line`` of the offending key.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from alignlab.errors import AlignlabError
from alignlab.files import read_text
from alignlab.goals._builders import builder_options, get_builder
from alignlab.located_yaml import line_of, load_yaml, located_error, node_at
from alignlab.plans import PlanSuite

Level = Literal["instructions", "preferences", "values"]
# What the loop fills into the recipe; a goal that sets them would be silently overridden, so it is refused.
_FILLED = ("model", "output_dir")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.-]*)\}")
HINT = "see examples/goals/ and docs/goals.md for the format"


class Representation(BaseModel):
    """What the model is aligned with: ``kind`` picks a data builder; the other fields are that builder's."""

    model_config = ConfigDict(extra="allow")
    kind: str
    """A registered builder: ``preference-pairs``, ``instructions``, ``critique-revise``, ``ai-feedback``,
    ``self-align``, ``value-profile-best-of-n``."""

    @field_validator("kind")
    @classmethod
    def _known(cls, kind: str) -> str:
        get_builder(kind)  # raises with the list of known kinds
        return kind

    def fields(self) -> dict[str, Any]:
        """The kind-specific fields."""
        return dict(self.model_extra or {})

    def get(self, name: str, default: Any = None) -> Any:
        return (self.model_extra or {}).get(name, default)


class Goal(BaseModel):
    """Level + representation + alignment recipe + evaluation plan: one closed alignment loop."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    """Short name, used in the default run directory."""
    level: Level
    """The taxonomy level the goal belongs to."""
    description: str = ""
    model: str = "default"
    """Model spec of the policy to align (``default``, ``hf:PATH``, a local HF dir)."""
    representation: Representation
    align: dict[str, Any]
    """A recipe mapping (method, lora, trainer, ...) or ``recipe: PATH`` (+ overrides)."""
    evaluate: list[PlanSuite] = Field(min_length=1)
    """Suites run before and after; string arguments may use ``{heldout.NAME}``, ``{train}`` and ``{data}``."""
    critic: str | None = None
    """A stronger model for critique/judging in data builders (default: the policy)."""
    judge: str | None = None
    """Judge model for judge-scored suites (default: the critic, if any)."""
    reward_model: str | None = None
    """Reward model (``hf:PATH``) for reward-scored suites."""
    seed: int = 0
    _source: Path | None = PrivateAttr(default=None)
    _align_node: Any = PrivateAttr(default=None)

    @field_validator("evaluate", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        return [{"name": e} if isinstance(e, str) else e for e in value] if isinstance(value, list) else value

    @field_validator("align")
    @classmethod
    def _align(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "recipe" not in value and "method" not in value:
            raise ValueError("give a recipe mapping (method, lora, trainer, ...) or `recipe: PATH`")
        return value

    @property
    def source(self) -> Path | None:
        """The YAML file the goal came from (relative paths resolved against its folder)."""
        return self._source

    def where(self) -> str:
        return str(self._source) if self._source else f"goal {self.name!r}"

    def resolved(self) -> dict[str, Any]:
        """The goal as plain data (what ``goal.yaml`` in the run directory holds)."""
        return self.model_dump(mode="json")

    def digest(self, *extra: Any) -> str:
        return hashlib.sha256(json.dumps([self.resolved(), *extra], sort_keys=True).encode()).hexdigest()[:8]

    def recipe_data(self, *, data_path: str | Path, output_dir: str | Path, model: str | None = None,
                    limit: int | None = None) -> dict[str, Any]:
        """The align section with what the loop fills in: model, data.path, output_dir (and seed if unset)."""
        spec = {k: v for k, v in self.align.items() if k != "recipe"}
        data = dict(spec.get("data") or {})
        data["path"] = str(data_path)
        if limit is not None:
            data["limit"] = limit
        spec.update(model=model or self.model, data=data, output_dir=str(output_dir))
        if "recipe" not in self.align:  # a recipe file keeps its own seed unless the goal's align sets one
            spec.setdefault("seed", self.seed)
        return spec

    def recipe(self, *, data_path: str | Path, output_dir: str | Path, model: str | None = None,
               limit: int | None = None) -> Any:
        """The ``alignlab.align.Recipe`` the loop trains with."""
        from alignlab.align import Recipe, load_recipe, resolve_model_spec, resolve_path

        spec = self.recipe_data(data_path=data_path, output_dir=output_dir, model=model, limit=limit)
        if "recipe" in self.align:
            return load_recipe(self.align["recipe"], overrides=spec)

        try:
            recipe = Recipe.model_validate(spec)
        except ValidationError as exc:
            raise located_error(exc, self.where(), self._align_node, hint=HINT) from None
        base = self._source.resolve().parent if self._source else Path.cwd()
        recipe.data.eval_path = resolve_path(recipe.data.eval_path, base)
        if recipe.reward_model:
            recipe.reward_model = resolve_model_spec(recipe.reward_model, base)
        # Trainer-field errors found when training starts then name the goal file's lines.
        recipe._source, recipe._node = self._source, self._align_node
        return recipe


def _resolve(path: str, base: Path) -> str:
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else (base / p).resolve())


def _check_recipe(goal: Goal) -> None:
    """Validate the align section as a recipe now, so a typo fails before data is built or a model loads."""
    try:
        import alignlab.align  # noqa: F401 - only whether it is there
    except ImportError:  # a partial install without alignlab.align: the loop's train step reports it
        return
    goal.recipe(data_path="data/train.jsonl", output_dir="train")


def parse_goal(raw: Any, where: str, node: yaml.Node | None = None, base: Path | None = None) -> Goal:
    """A goal from plain data; errors name ``where:line``."""
    if not isinstance(raw, dict):
        raise AlignlabError(f"{where}: expected a mapping with name, level, representation, align, evaluate",
                            hint=HINT)
    try:
        goal = Goal.model_validate(raw)
    except ValidationError as exc:
        raise located_error(exc, where, node, hint=HINT) from None
    except AlignlabError as exc:  # an unknown representation kind, raised inside the validator
        line = line_of(node, ("representation", "kind"))
        raise AlignlabError(f"{where}{f':{line}' if line else ''}: representation.kind: {exc}", hint=exc.hint) \
            from None
    base = base or Path.cwd()
    filled = [(k,) for k in _FILLED if k in goal.align]
    if isinstance(goal.align.get("data"), dict) and "path" in goal.align["data"]:
        filled.append(("data", "path"))
    if filled:
        key = filled[0]
        line = line_of(node, ("align", *key))
        raise AlignlabError(f"{where}{f':{line}' if line else ''}: align.{'.'.join(key)}: set by the goal loop "
                            "(from the goal's model, the built data and the run directory); remove it", hint=HINT)
    options = builder_options(goal.representation.kind)
    if options is not None:
        try:
            opts = options.model_validate(goal.representation.fields())
        except ValidationError as exc:
            raise located_error(exc, where, node, ("representation",), hint=HINT) from None
        # Defaults filled in, so goal.yaml and `goal show` list every knob of the builder.
        goal.representation.model_extra.update(opts.model_dump(mode="json"))  # type: ignore[union-attr]
    extra = goal.representation.model_extra or {}
    if isinstance(extra.get("path"), str) and not _PLACEHOLDER.search(extra["path"]):
        extra["path"] = _resolve(extra["path"], base)
    if isinstance(goal.align.get("recipe"), str):
        goal.align["recipe"] = _resolve(goal.align["recipe"], base)
    for entry in goal.evaluate:
        p = entry.args.get("path")
        if isinstance(p, str) and not _PLACEHOLDER.search(p):
            entry.args["path"] = _resolve(p, base)
    goal._source = Path(where) if node is not None else None
    goal._align_node = node_at(node, ("align",))
    _check_recipe(goal)
    return goal


def load_goal(path: str | Path) -> Goal:
    """Read a goal YAML file; relative paths in it resolve against its folder."""
    path = Path(path)
    if not path.is_file():
        raise AlignlabError(f"no goal file {str(path)!r}", hint="pass a goal YAML file (see examples/goals/)")
    raw, node = load_yaml(read_text(path), str(path))
    return parse_goal(raw, str(path), node, path.resolve().parent)


def placeholders(value: str) -> list[str]:
    return _PLACEHOLDER.findall(value)


def fill(value: Any, names: dict[str, str], where: str) -> Any:
    """``value`` with ``{heldout.pairs}``-style placeholders replaced (recursively in lists and mappings)."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                raise AlignlabError(f"{where}: unknown placeholder {{{m.group(1)}}}",
                                    hint=f"the built data provides: {', '.join('{' + k + '}' for k in names)}")
            return names[m.group(1)]

        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, list):
        return [fill(v, names, where) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, names, where) for k, v in value.items()}
    return value
