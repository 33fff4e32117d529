"""Named suites, registered by decorator and built (with their arguments recorded) before any model call."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from alignlab._kv import parse_assignments
from alignlab.errors import AlignlabError
from alignlab.evaluate._suite import Suite

SuiteFactory = Callable[..., Suite]
_SUITES: dict[str, SuiteFactory] = {}
# Modules that register built-in suites when imported; imported on first lookup to keep start-up fast.
_BUILTIN_MODULES = ["alignlab.suites.basics", "alignlab.evaluate.instructions.ifeval.suite"]
_loaded = False


def register_suite(name: str) -> Callable[[SuiteFactory], SuiteFactory]:
    """Register a suite factory under ``name`` (``level/short-name``)."""

    def deco(factory: SuiteFactory) -> SuiteFactory:
        _SUITES[name] = factory
        factory.suite_name = name  # type: ignore[attr-defined]
        return factory

    return deco


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _BUILTIN_MODULES:
            importlib.import_module(mod)


def suite_names() -> list[str]:
    _load_builtins()
    return sorted(_SUITES)


def parse_suite_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``level/name[:key=value,key=value]`` → (name, params); values are read as YAML scalars."""
    name, _, rest = spec.partition(":")
    params = parse_assignments(filter(None, rest.split(",")), f"suite {spec!r}")
    return name.strip(), params


def build_suite(name: str, **params: Any) -> Suite:
    """Build a registered suite; unknown names and unknown arguments fail here, before the run starts."""
    _load_builtins()
    if name not in _SUITES:
        raise AlignlabError(f"unknown suite {name!r}", hint="`alignlab suites` lists them: " + ", ".join(_SUITES))
    factory = _SUITES[name]
    accepted = inspect.signature(factory).parameters
    bad = [k for k in params if k not in accepted]
    if bad and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        raise AlignlabError(f"suite {name!r} takes no argument {bad[0]!r}", hint=f"it takes: {', '.join(accepted)}")
    suite = factory(**params)
    suite.name = name
    suite.params = dict(params)
    return suite
