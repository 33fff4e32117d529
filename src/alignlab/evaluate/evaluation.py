"""``alignlab.evaluate(...)``: what ``alignlab eval`` does, as one library call.

Plan or suite specs → the run-wide models suites may ask for (judge, reward model, reference model) → suites built
and checked → the model → ``run_eval`` into a run directory → typed results. The CLI parses flags and calls this;
the goal loop calls it for the baseline and the aligned model. The report is a separate step
(``alignlab.report.build_report(results.run_dir)``), so this package stays below the report.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab.errors import AlignlabError
from alignlab.evaluate._registry import build_suite, parse_suite_spec, suite_parameters
from alignlab.evaluate._suite import Suite, SuiteSkipped
from alignlab.evaluate.rundir import RunDir
from alignlab.evaluate.runner import run_eval
from alignlab.plans import Plan, load_plan

if TYPE_CHECKING:
    from alignlab.models import Model, ResponseCache
    from alignlab.models.reward import RewardModel

class NothingToRun(AlignlabError):
    """None of the suites asked for can run (``require_runnable``); ``not_run`` says why, per suite."""

    def __init__(self, not_run: dict[str, str]) -> None:
        super().__init__(f"none of the suites can run ({not_run})")
        self.not_run = not_run


SuiteRequest = str | tuple[str, Mapping[str, Any]] | Suite
"""``"level/name[:key=value,...]"``, ``(name, arguments)``, or a suite already built."""


@dataclass(frozen=True)
class SuiteResult:
    """One suite's summary in results.json."""

    name: str
    summary: dict[str, Any]

    @property
    def level(self) -> str:
        return self.summary["level"]

    @property
    def n(self) -> int:
        return self.summary["n"]

    @property
    def n_errors(self) -> int:
        return self.summary["n_errors"]

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.summary["metrics"]

    @property
    def primary_metric(self) -> str | None:
        return self.summary.get("primary_metric")

    @property
    def primary(self) -> dict[str, Any] | None:
        """The primary metric's figure (value, stderr, ci, n), or None."""
        return self.metrics.get(self.primary_metric or "")


@dataclass(frozen=True)
class EvalResults:
    """What one evaluation wrote: the run directory and its results.json, with typed access."""

    run_dir: RunDir
    data: dict[str, Any]
    """results.json as written."""

    @property
    def suites(self) -> dict[str, SuiteResult]:
        return {name: SuiteResult(name, s) for name, s in self.data["suites"].items()}

    @property
    def level_scores(self) -> dict[str, float | None]:
        """Mean of the primary metrics per level (None where no suite of the level has one)."""
        return {level: v["score"] for level, v in self.data["levels"].items()}

    @property
    def not_run(self) -> dict[str, str]:
        """Suites asked for that could not run (e.g. no judge), with the reason."""
        return dict(self.data.get("not_run") or {})

    @property
    def n_errors(self) -> int:
        return sum(s.n_errors for s in self.suites.values())

    @property
    def model_calls(self) -> int:
        return self.data["run"]["model_calls"]


def default_out(model: str, what: list[str], limit: int | None, system: str | None) -> Path:
    """A run dir named by what was asked, so running the same command again resumes the same run."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model.split("/")[-1] if "/" in model else model).strip("-")[:40]
    digest = hashlib.sha256(json.dumps([model, sorted(what), limit, system]).encode()).hexdigest()[:8]
    return Path("runs") / f"{slug or 'model'}-{digest}"


def _request(entry: SuiteRequest) -> tuple[str, dict[str, Any]] | Suite:
    if isinstance(entry, Suite):
        return entry
    if isinstance(entry, str):
        return parse_suite_spec(entry)
    name, args = entry
    return name, dict(args)


def evaluate(
    model: str | Model,
    suites: str | Plan | Sequence[SuiteRequest] | None = None,
    out: str | Path | None = None,
    *,
    judge: str | Model | None = None,
    reward_model: str | RewardModel | None = None,
    reference_model: str | Model | None = None,
    limit: int | Mapping[str, int] | None = None,
    system: str | None = None,
    batch_size: int = 16,
    cache: bool | str | Path | ResponseCache = True,
    model_args: Mapping[str, Any] | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    config_extra: Mapping[str, Any] | None = None,
    require_runnable: bool = False,
) -> EvalResults:
    """Evaluate ``model`` on a plan or on suites into the run directory ``out``; resumes a run killed before.

    ``suites``: a plan (its built-in name, a YAML path or a ``Plan``; None means the default plan) or a list of
    suite specs (``"values/safety"``, ``"instructions/ifeval:prompts=PATH"``, ``(name, args)``, a built
    ``Suite``). A plan supplies its judge, reward model and limits unless they are passed here. ``model``,
    ``judge`` and ``reference_model`` are specs (opened here with ``cache`` and closed at the end) or open
    ``Model`` objects (left open); the judge is opened only when some suite takes one. ``out`` defaults to
    ``runs/<model>-<hash of what was asked>``. ``log`` receives one line per suite that cannot run and one when
    the model is loaded. ``require_runnable`` makes "no suite can run" an error instead of a run of nothing.
    """
    from alignlab.models import load_model

    say = log or (lambda _line: None)
    public_skipped: dict[str, str] = {}
    what: list[str]
    plan_name: str | None = None
    if suites is None or isinstance(suites, str | Plan):
        the_plan = load_plan(suites or "default") if suites is None or isinstance(suites, str) else suites
        plan_name = suites if isinstance(suites, str) else "default" if suites is None else the_plan.name
        requested: list[tuple[str, dict[str, Any]] | Suite] = [(e.name, e.args) for e in the_plan.entries()]
        if the_plan.public:  # every public benchmark found in the data directory, besides the plan's own entries
            from alignlab.evaluate.public_plan import public_entries

            found, public_skipped = public_entries({e.name for e in the_plan.entries()})
            requested += found
        limits: int | dict[str, int] | None = (limit if isinstance(limit, int) else dict(limit)) \
            if limit is not None else the_plan.limits() or None
        judge = judge or the_plan.judge
        reward_model = reward_model or the_plan.reward_model
        what = [f"plan:{the_plan.name}", *(f"{n}:{sorted(a.items())}" for n, a in requested)]  # type: ignore[misc]
    else:
        requested = [_request(e) for e in suites]
        limits = limit if limit is None or isinstance(limit, int) else dict(limit)
        what = [e if isinstance(e, str) else e.name if isinstance(e, Suite) else f"{e[0]}:{sorted(e[1].items())}"
                for e in suites]
    spec = model if isinstance(model, str) else model.spec
    run_dir = RunDir.of(out if out is not None else default_out(spec, what, limit if isinstance(limit, int)
                                                                else None, system))
    names = [r.name if isinstance(r, Suite) else r[0] for r in requested]

    def spec_of(m: Any) -> str | None:
        return m if m is None or isinstance(m, str) else str(getattr(m, "spec", None) or getattr(m, "path", m))

    with ExitStack() as stack:
        from alignlab.models.reward import load_reward_model

        wants_judge = any("judge" in suite_parameters(n) for n in names)
        context = {
            "judge": (stack.enter_context(load_model(judge, cache=cache)) if isinstance(judge, str) else judge)
            if judge is not None and wants_judge else None,
            "reward_model": (stack.enter_context(load_reward_model(reward_model)) if isinstance(reward_model, str)
                             else reward_model),
            "reference_model": (stack.enter_context(load_model(reference_model, cache=cache))
                                if isinstance(reference_model, str) else reference_model),
        }
        # Unknown suites and arguments fail here, before the model loads.
        built: list[Suite] = []
        not_run: dict[str, str] = dict(public_skipped)
        for name, why in public_skipped.items():
            say(f"not run {name}: {why}")
        for r in requested:
            if isinstance(r, Suite):
                built.append(r)
                continue
            try:
                built.append(build_suite(r[0], context=context, **r[1]))
            except SuiteSkipped as exc:
                not_run[r[0]] = str(exc)
                say(f"not run {r[0]}: {exc}")
        if require_runnable and not built:
            raise NothingToRun(not_run)
        loading = time.perf_counter()
        m = (stack.enter_context(load_model(model, cache=cache, system=system, **dict(model_args or {})))
             if isinstance(model, str) else model)
        where = getattr(m.api, "gguf", None) or getattr(m.api, "path", None)
        loaded = (f", loaded from {where} in {time.perf_counter() - loading:.1f} s" if isinstance(model, str)
                  and where else "")
        say(f"model={spec} ({m.api.backend}{loaded}) suites={','.join(names)} out={run_dir}")
        extra: dict[str, Any] = {"system": system, "batch_size": batch_size, "judge": spec_of(judge),
                                 "reward_model": spec_of(reward_model), "reference_model": spec_of(reference_model),
                                 "plan": plan_name}
        results = run_eval(m, built, run_dir.path, limit=limits, batch_size=batch_size, show_progress=progress,
                           config_extra=dict(config_extra) if config_extra is not None else extra,
                           not_run=not_run)
    return EvalResults(run_dir, results)
