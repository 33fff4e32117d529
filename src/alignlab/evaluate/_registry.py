"""Named suites, registered by decorator and built (with their arguments recorded) before any model call."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from alignlab.assignments import parse_assignments
from alignlab.errors import AlignlabError
from alignlab.evaluate._suite import Suite
from alignlab.registry import Registry

SuiteFactory = Callable[..., Suite]
# Modules that register built-in suites when imported; imported on first lookup to keep start-up fast.
SUITES: Registry[SuiteFactory] = Registry("suite", [
    "alignlab.evaluate.instructions.basics",
    "alignlab.evaluate.instructions.ifeval.suite",
    "alignlab.evaluate.instructions.ifbench.suite",
    "alignlab.evaluate.tasks.yaml_task",
    "alignlab.evaluate.instructions.arena",
    "alignlab.evaluate.preferences.agreement",
    "alignlab.evaluate.preferences.truthfulness",
    "alignlab.evaluate.preferences.bias",
    "alignlab.evaluate.preferences.toxicity",
    "alignlab.evaluate.preferences.sycophancy",
    "alignlab.evaluate.preferences.alpaca_winrate",
    "alignlab.evaluate.values.surveys",
    "alignlab.evaluate.values.dilemmas",
    "alignlab.evaluate.values.opinions",
    "alignlab.evaluate.values.safety",
    "alignlab.evaluate.values.norms",
    "alignlab.evaluate.values.ethics",
    "alignlab.evaluate.values.harmful",
    "alignlab.evaluate.values.persona",
    "alignlab.evaluate.values.classifier",
], hint="`alignlab suites` lists them")


def register_suite(name: str, *, sources: Sequence[str] = ()) -> Callable[[SuiteFactory], SuiteFactory]:
    """Register a suite factory under ``name`` (``level/short-name``).

    ``sources``: the public sources (``alignlab.data.public_sources()`` names) the suite reads when given no
    path; every one must be found for it to run. Such a suite is a public benchmark: ``--plan public`` runs it
    when all its sources are in the data directory.
    """

    def deco(factory: SuiteFactory) -> SuiteFactory:
        factory.suite_name = name  # type: ignore[attr-defined]
        factory.suite_sources = tuple(sources)  # type: ignore[attr-defined]
        return SUITES.add(name, factory)

    return deco


def suite_names() -> list[str]:
    return SUITES.names()


def suite_sources(name: str) -> tuple[str, ...]:
    """The public sources suite ``name`` declared (empty for suites over alignlab's own or the user's data)."""
    factory = SUITES.find(name)
    return tuple(getattr(factory, "suite_sources", ())) if factory else ()


def public_suites() -> dict[str, tuple[str, ...]]:
    """Every registered public benchmark suite with the sources it needs, by name."""
    return {n: srcs for n, f in sorted(SUITES.entries().items()) if (srcs := tuple(getattr(f, "suite_sources", ())))}


def suite_parameters(name: str) -> set[str]:
    """The parameter names of a registered suite's factory, run-wide context included (none for YAML tasks)."""
    factory = SUITES.find(name)
    return set(inspect.signature(factory).parameters) if factory else set()


def parse_suite_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``level/name[:key=value,key=value]`` → (name, params); values are read as YAML scalars."""
    name, _, rest = spec.partition(":")
    params = parse_assignments(filter(None, rest.split(",")), f"suite {spec!r}")
    return name.strip(), params


# Run-wide resources a factory may ask for by naming a parameter after them (e.g. ``judge``); they come from
# the run (``--judge``, ``--reward-model``), not from the suite's arguments, and are not recorded as params.
CONTEXT_KEYS = ("judge", "reward_model", "reference_model")


def build_suite(name: str, *, context: dict[str, Any] | None = None, **params: Any) -> Suite:
    """Build a registered suite; unknown names and unknown arguments fail here, before the run starts.

    A factory that cannot run in this context (say, it needs a judge and none was given) raises
    ``SuiteSkipped``; the runner lists such suites as not run, with the reason.
    """
    from alignlab.evaluate.sampling import SAMPLING_ARGS, sampled

    if name.endswith((".yaml", ".yml")):  # a task defined in YAML over a data file
        from alignlab.evaluate.tasks import suite_from_yaml

        # A task file has its own temperature; the sampling wrapper takes these keys only when n is asked for.
        sampling = {k: params.pop(k) for k in SAMPLING_ARGS if k in params} if "n" in params else {}
        task = suite_from_yaml(name, **params)
        return sampled(task, **sampling) if sampling else task
    if name not in SUITES:
        raise AlignlabError(f"unknown suite {name!r}", hint="`alignlab suites` lists them: " + ", ".join(SUITES))

    factory = SUITES.get(name)
    accepted = inspect.signature(factory).parameters
    # n/temperature/top_p/seed sample the suite n times (pass@k) unless its factory takes them itself.
    sampling = {k: params[k] for k in SAMPLING_ARGS if k in params and k not in accepted}
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()) and "n" not in sampling:
        sampling = {}  # a factory taking **overrides (built-in YAML tasks) keeps its own temperature unless n is set
    given = dict(params)
    params = {k: v for k, v in params.items() if k not in sampling}
    bad = [k for k in params if k not in accepted or k in CONTEXT_KEYS]
    if bad and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        takes = [k for k in accepted if k not in CONTEXT_KEYS]
        raise AlignlabError(f"suite {name!r} takes no argument {bad[0]!r}", hint=f"it takes: {', '.join(takes)}")
    ctx = {k: v for k, v in (context or {}).items() if k in accepted}
    suite = factory(**params, **ctx)
    suite.name = name
    if sampling:
        suite = sampled(suite, **sampling)
    suite.params = given
    return suite
