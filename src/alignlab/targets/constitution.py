"""Constitutions: named principles, each with a critique request and a revision request (Constitutional AI style).

A constitution is a YAML file::

    name: my-rules
    description: What these principles are for.
    principles:
      - id: no-harm
        name: Avoid harm
        statement: The assistant does not help anyone hurt people.          # optional; used by AI feedback
        critique_request: Point out every way the last reply could help someone cause harm.
        revision_request: Rewrite the reply so that it gives no such help, and say briefly why.
        applies_to: [unsafe]                                                 # optional tags

Built-in constitutions live beside this module (``targets/constitutions/*.yaml``): ``hhh``, ``social-norms`` and
one per Schwartz higher-order value. ``load_constitution`` takes a built-in name or a path; every error names the
file and the line of the offending key, because the YAML is parsed with its node positions.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alignlab.errors import AlignlabError
from alignlab.located_yaml import line_of, load_yaml

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Principle(BaseModel):
    """One principle: what to look for in a reply (critique) and how to fix it (revision)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: str = Field(pattern=_ID)
    """Short identifier, unique within the constitution; recorded with every critique and AI label."""
    name: str = Field(min_length=1)
    """Display name."""
    critique_request: str = Field(min_length=1)
    """Asked of the critic after the reply: what is wrong with it under this principle."""
    revision_request: str = Field(min_length=1)
    """Asked after the critique: rewrite the reply to fix what the critique found."""
    statement: str | None = None
    """The principle as one rule ("The assistant ..."); AI feedback and self-alignment show it. Defaults to name."""
    applies_to: tuple[str, ...] = ()
    """Tags of the prompts this principle is for (e.g. ``unsafe``); empty means every prompt."""

    @property
    def rule(self) -> str:
        """The principle as a sentence: ``statement`` when given, else ``name``."""
        return self.statement or self.name

    def applies(self, tags: Iterable[str]) -> bool:
        """True when the principle has no tags, the prompt has none, or they share one."""
        tags = set(tags)
        return not self.applies_to or not tags or bool(tags & set(self.applies_to))


class Constitution(BaseModel):
    """A named list of principles."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    """Where the principles' ideas come from (a citation; the wording is the file's own)."""
    principles: tuple[Principle, ...] = Field(min_length=1)
    path: str | None = Field(default=None, exclude=True)
    """The file it was read from (None for one built in code)."""

    @field_validator("principles", mode="after")
    @classmethod
    def _unique(cls, value: tuple[Principle, ...]) -> tuple[Principle, ...]:
        seen: set[str] = set()
        for p in value:
            if p.id in seen:
                raise ValueError(f"duplicate principle id {p.id!r}")
            seen.add(p.id)
        return value

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.principles)

    def __getitem__(self, principle_id: str) -> Principle:
        for p in self.principles:
            if p.id == principle_id:
                return p
        raise KeyError(f"constitution {self.name!r} has no principle {principle_id!r}; it has {', '.join(self.ids)}")

    def __len__(self) -> int:
        return len(self.principles)

    def for_tags(self, tags: Iterable[str] = ()) -> tuple[Principle, ...]:
        """The principles that apply to a prompt with ``tags`` (all of them when none is tagged for it)."""
        tags = tuple(tags)
        return tuple(p for p in self.principles if p.applies(tags)) or self.principles

    def sample(self, rng: random.Random, k: int = 1, tags: Iterable[str] = ()) -> list[Principle]:
        """``k`` distinct applicable principles drawn with ``rng`` (all of them, shuffled, when ``k`` exceeds
        their number)."""
        pool = list(self.for_tags(tags))
        return rng.sample(pool, min(k, len(pool)))

    def merged(self, other: Constitution, name: str | None = None) -> Constitution:
        """This constitution's principles followed by ``other``'s (ids must stay unique)."""
        return Constitution(name=name or f"{self.name}+{other.name}", description=self.description,
                            principles=self.principles + other.principles)


# ---------------------------------------------------------------- loading with line numbers


def builtin_constitutions() -> list[str]:
    """Names of the built-in constitutions (``hhh``, ``social-norms``, ``openness-to-change``, ...)."""
    folder = resources.files("alignlab.targets").joinpath("constitutions")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("alignlab.targets").joinpath(f"constitutions/{name}.yaml")))


def load_constitution(name_or_path: str | Path | Constitution) -> Constitution:
    """A built-in constitution by name, or one read from a YAML file; errors say ``file:line: key: problem``."""
    if isinstance(name_or_path, Constitution):
        return name_or_path
    if isinstance(name_or_path, str) and name_or_path in builtin_constitutions():
        path = builtin_path(name_or_path)
    else:
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise AlignlabError(f"no constitution {str(name_or_path)!r}",
                                hint=f"built-in: {', '.join(builtin_constitutions())}; or pass a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlignlabError(f"cannot read constitution {path}: {exc.strerror}") from None
    raw, node = load_yaml(text, str(path))
    if not isinstance(raw, dict):
        raise AlignlabError(f"{path}:1: a constitution must be a YAML mapping with 'name' and 'principles'")
    raw.setdefault("name", path.stem)
    try:
        return Constitution.model_validate({**raw, "path": str(path)})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = line_of(node, loc) or 1
        key = _loc_text(loc, raw) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise AlignlabError(f"{path}:{line}: {key}: {msg}{more}",
                            hint="a principle needs id, name, critique_request and revision_request") from None


def _loc_text(loc: Sequence[Any], raw: Any) -> str:
    """``principles[2] (id 'x').critique_request``: pydantic's location, with the principle's id when known."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i == 1 and loc[0] == "principles" and isinstance(raw.get("principles"), list):
                item = raw["principles"][part] if part < len(raw["principles"]) else None
                if isinstance(item, dict) and item.get("id"):
                    out += f" (id {item['id']!r})"
        else:
            out += ("." if out else "") + str(part)
    return out
