"""Plans in YAML, parsed into typed objects before any model loads (torchtune-style self-documenting configs).

A plan lists suites per level; each entry is a suite name or ``{name, args, limit}``; ``public: true`` adds every
public benchmark found in the data directory. Built-in plans live beside this file (``default.yaml``,
``full.yaml``, ``public.yaml``); any other value of ``--plan`` is read as a path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alignlab.errors import AlignlabError
from alignlab.files import read_text
from alignlab.targets.levels import LEVELS


class PlanSuite(BaseModel):
    """One suite in a plan."""

    model_config = ConfigDict(extra="forbid")
    name: str
    """Registered suite name, e.g. ``instructions/following``."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Arguments of the suite's factory."""
    limit: int | None = Field(default=None, ge=1)
    """Evaluate N samples of this suite, spread evenly over it (overrides the plan's limit)."""


class Plan(BaseModel):
    """What ``alignlab eval --plan`` runs."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    judge: str | None = None
    """Model spec of the judge for judge-scored suites; without one they are listed as not run."""
    reward_model: str | None = None
    """Spec of a sequence-classification reward model for reward-scored suites."""
    limit: int | None = Field(default=None, ge=1)
    """Per-suite sample cap for suites without their own."""
    seed: int = 0
    public: bool = False
    """Also run every public benchmark suite whose files are in the data directory (``--data-dir`` /
    ``ALIGNLAB_DATA_DIR``); the others are listed as not run, with where their files were looked for."""
    suites: dict[str, list[PlanSuite]] = Field(default_factory=dict)
    """Suites by level: ``instructions``, ``preferences``, ``values``."""

    @field_validator("suites", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        bad = [k for k in value if k not in LEVELS]
        if bad:
            raise ValueError(f"unknown level {bad[0]!r}; levels are {', '.join(LEVELS)}")
        return {lvl: [{"name": e} if isinstance(e, str) else e for e in (entries or [])]
                for lvl, entries in value.items()}

    def entries(self) -> list[PlanSuite]:
        return [e for level in LEVELS for e in self.suites.get(level, [])]

    def limits(self) -> dict[str, int]:
        return {e.name: lim for e in self.entries() if (lim := e.limit or self.limit) is not None}


def plan_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("alignlab.plans").iterdir()
                  if p.name.endswith(".yaml"))


def load_plan(name_or_path: str) -> Plan:
    """A built-in plan by name, or a YAML file; errors name the file and the offending key."""
    if name_or_path in plan_names():
        text = resources.files("alignlab.plans").joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
        where = f"built-in plan {name_or_path!r}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise AlignlabError(f"no plan {name_or_path!r}", hint=f"built-in plans: {', '.join(plan_names())}; "
                                "or pass a YAML file")
        text, where = read_text(path), str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AlignlabError(f"{where}: invalid YAML: {exc}") from None
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise AlignlabError(f"{where}: {loc}: {err['msg']}", hint="see the built-in plans for the format") from None
