"""Reward functions for RL recipes (RLOO, GRPO), built from named specs in a recipe::

    rewards:
      - {name: reward-model, args: {path: out/rm}}
      - {name: judge, weight: 0.5, args: {model: "openai:judge@http://host:8000", principle: "Be honest."}}
      - {name: ifeval}                            # rows carry instruction_id_list and kwargs
      - {name: value-profile, args: {target: profile.yaml, classifier: "hf:/models/judge"}}
      - {name: regex, args: {pattern: "^<answer>.*</answer>$", reward_match: 1.0, reward_miss: 0.0}}

``build_rewards(specs)`` returns the functions and their weights (in spec order, for TRL's ``reward_weights``).
Every function has TRL's form ``f(prompts, completions, **kwargs) -> list[float | None]``: prompts and completions
are strings or chat messages, ``kwargs`` carry the dataset's other columns, and None marks a reward that could not
be computed (TRL turns it into NaN and leaves it out of the mean). Functions are built, models loaded and arguments
checked when the recipe is read, never mid-run. Register your own with ``@register_reward("name")`` on a factory
that takes the spec's ``args`` as keyword arguments and returns such a function.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alignlab.errors import AlignlabError
from alignlab.registry import Registry

RewardFunc = Callable[..., list[float | None]]


class RewardError(AlignlabError):
    """A reward spec that names no registered reward or has bad arguments."""


class RewardSpec(BaseModel):
    """One reward in a recipe: which function, how much it counts, and its arguments."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """A registered reward name (``reward-model``, ``judge``, ``ifeval``, ``value-profile``, ``regex``, or yours)."""
    weight: float = 1.0
    """Its weight in the sum TRL maximises (``reward_weights``)."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the reward's factory; relative paths resolve against the recipe's folder."""


# ---------------------------------------------------------------- the shape every reward shares


def completion_text(completion: Any) -> str:
    """A completion's text: the string itself, or the content of its assistant messages (text parts joined)."""
    if isinstance(completion, str):
        return completion
    return "".join(_content(m) for m in completion if m.get("role", "assistant") == "assistant")


def prompt_text(prompt: Any) -> str:
    """What the user asked: the string itself, or the last user message of a conversation."""
    if isinstance(prompt, str):
        return prompt
    users = [_content(m) for m in prompt if m.get("role") == "user"]
    return users[-1] if users else "\n\n".join(_content(m) for m in prompt)


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")


# Columns TRL adds to every call besides the dataset's own.
_TRL_KWARGS = frozenset({"trainer_state", "log_extra", "log_metric", "completion_ids", "environments"})


class RewardFunction:
    """Base of the built-in rewards: TRL's call form around ``score``, with counts of missing rewards.

    A callable instance (not a closure) so TRL names it by ``__name__`` and it pickles when its state does.
    ``counts`` holds ``scored`` and ``missing`` (None rewards) plus reasons a subclass adds (``parse_failures``,
    ``errors``); in TRL the share of missing rewards per batch is logged as ``rewards/<name>/missing``.
    """

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self.counts: Counter[str] = Counter()

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        """One reward per (prompt, completion text); ``columns`` are the dataset's extra columns."""
        raise NotImplementedError

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        if len(prompts) != len(completions):
            raise ValueError(f"{self.__name__}: {len(prompts)} prompts but {len(completions)} completions")
        columns = {k: list(v) for k, v in kwargs.items() if k not in _TRL_KWARGS and isinstance(v, Sequence)
                   and not isinstance(v, str)}
        out = self.score(list(prompts), [completion_text(c) for c in completions], columns)
        missing = sum(r is None for r in out)
        self.counts["scored"] += len(out) - missing
        self.counts["missing"] += missing
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and out:
            log_metric(f"rewards/{self.__name__}/missing", missing / len(out))
        return out

    def __repr__(self) -> str:
        return f"<reward {self.__name__}>"


# ---------------------------------------------------------------- registry


# Built-ins live in private modules imported on first use, so reading a recipe imports no torch.
REWARDS: Registry[Callable[..., RewardFunc]] = Registry(
    "reward", ["alignlab.align._rewards_rules", "alignlab.align._rewards_models", "alignlab.align._rewards_values",
               "alignlab.align._rewards_safety"],
    error=RewardError)


def register_reward(name: str) -> Callable[[Callable[..., RewardFunc]], Callable[..., RewardFunc]]:
    """Register ``factory(**args) -> reward function`` under ``name``.

    The factory may take ``base_dir`` (the recipe's folder) to resolve relative paths. Its keyword arguments are
    the spec's ``args``; unknown or missing ones are rejected when the recipe is read.
    """

    REWARDS.load()  # first, so a user's factory may replace a built-in of the same name
    return REWARDS.register(name)


def reward_names() -> list[str]:
    """Names of the registered rewards."""
    return REWARDS.names()


def _check_args(name: str, factory: Callable[..., Any], args: Mapping[str, Any]) -> None:
    params = inspect.signature(factory).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = [p for p in params if p != "base_dir"]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise RewardError(f"reward {name!r}: unknown argument {unknown[0]!r}",
                          hint=f"{name} takes: {', '.join(accepted) or 'no arguments'}")
    missing = [p.name for p in params.values() if p.default is p.empty and p.name != "base_dir"
               and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in args]
    if missing:
        raise RewardError(f"reward {name!r}: missing argument {missing[0]!r}",
                          hint=f"{name} takes: {', '.join(accepted)}")


def _as_spec(spec: RewardSpec | Mapping[str, Any]) -> RewardSpec:
    if isinstance(spec, RewardSpec):
        return spec
    try:
        return RewardSpec.model_validate(spec)
    except ValueError as exc:
        raise RewardError(f"invalid reward spec {dict(spec)!r}: {str(exc).splitlines()[-1].strip()}",
                          hint="a reward is {name: ..., weight: 1.0, args: {...}}") from None


def check_reward(spec: RewardSpec | Mapping[str, Any]) -> Callable[..., RewardFunc]:
    """The factory of a spec whose name is registered and whose argument names fit; loads no model (a recipe
    loader calls this to report a bad reward at its file:line before training starts)."""
    spec = _as_spec(spec)
    factory = REWARDS.find(spec.name)
    if factory is None:
        raise RewardError(f"unknown reward {spec.name!r}", hint="registered rewards: " + ", ".join(REWARDS))
    _check_args(spec.name, factory, spec.args)
    return factory


def build_reward(spec: RewardSpec | Mapping[str, Any], *, base_dir: Path | None = None) -> RewardFunc:
    """One reward function from one spec (see ``build_rewards``)."""
    spec = _as_spec(spec)
    factory = check_reward(spec)
    kwargs = dict(spec.args)
    if "base_dir" in inspect.signature(factory).parameters:
        kwargs["base_dir"] = Path(base_dir) if base_dir is not None else None
    try:
        func = factory(**kwargs)
    except AlignlabError:
        raise
    except (TypeError, ValueError) as exc:
        raise RewardError(f"reward {spec.name!r}: {exc}") from exc
    if not callable(func):
        raise RewardError(f"reward {spec.name!r}: its factory returned {type(func).__name__}, not a function")
    if not getattr(func, "__name__", None):
        func.__name__ = spec.name  # type: ignore[attr-defined]
    return func


def build_rewards(specs: Sequence[RewardSpec | Mapping[str, Any]], *,
                  base_dir: Path | None = None) -> tuple[list[RewardFunc], list[float]]:
    """Reward functions and their weights, in spec order (TRL's ``reward_funcs`` and ``reward_weights``).

    Two rewards of the same name get distinct names (``judge``, ``judge_2``) so TRL logs them apart.
    """
    funcs, weights, seen = [], [], Counter[str]()
    for spec in map(_as_spec, specs):
        func = build_reward(spec, base_dir=base_dir)
        seen[func.__name__] += 1
        if seen[func.__name__] > 1:
            func.__name__ = f"{func.__name__}_{seen[func.__name__]}"  # type: ignore[attr-defined]
        funcs.append(func)
        weights.append(spec.weight)
    return funcs, weights


def resolve_path(value: str | Path, base_dir: Path | None) -> Path:
    """``value`` as a path, relative ones taken from the recipe's folder."""
    p = Path(value).expanduser()
    return p if p.is_absolute() or base_dir is None else base_dir / p


_PATH_BACKENDS = ("hf", "gguf", "llamacpp", "vllm")


def resolve_spec(spec: str, base_dir: Path | None) -> str:
    """A model spec with a relative local path (``hf:judge``) made relative to the recipe's folder."""
    name, sep, target = spec.partition(":")
    if sep and name in _PATH_BACKENDS and target:
        return f"{name}:{resolve_path(target, base_dir)}"
    return spec
