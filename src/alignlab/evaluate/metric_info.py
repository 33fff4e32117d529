"""What a metric means, declared where the metric is defined: which way is better, its range and chance level,
whether it measures attainment, reliability or only describes, and how it aggregates over samples.

A suite lists its declarations as ``{pattern: MetricInfo}``. A pattern is a metric name in which ``{field}``
stands for one or more name segments (``similarity/{population}``, ``subset/{subset}/{score}``); the fields
fill the ``{...}`` in ``MetricInfo.of`` and ``MetricInfo.where``, so one declaration covers a family of metrics
and still names the per-sample score and items each one averages. The runner resolves every metric a suite
reports to its declaration and writes it into ``results.json`` (``metrics.<name>.declared``); everything that ranks
or summarises (level scores, ``alignlab compare``, the goal loop's before/after CIs, the report) reads the
declaration and never guesses from a name. lm-eval's ``higher_is_better`` + ``aggregation`` pair is the model;
kind, chance and target are what an alignment figure needs beyond it.

A reliability gate (``ReliabilityGate``) is an instrument's statement of the reliability it needs before the
figures it covers can be read as a finding: e.g. a value survey's profile only means something if the answers
survive reversing the option order. ``check_gates`` evaluates gates on a suite's metrics; results.json carries
the outcome (``suites.<name>.reliability``) and the report greys what a failed gate covers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from alignlab.errors import AlignlabError

Direction = Literal["higher", "lower", "target", "none"]
"""``higher``/``lower`` is better, ``target``: closest to ``MetricInfo.target`` is best, ``none``: no better side."""
Kind = Literal["score", "reliability", "descriptive"]
"""``score``: attainment of the goal; ``reliability``: how stable/consistent the measurement is (order or
paraphrase agreement, position bias); ``descriptive``: a description without a target (a value profile, a rate
shown beside its counterpart, a count)."""
Aggregation = Literal["mean", "balanced_mean", "statistic", "count"]
"""How the figure comes from the samples: ``mean`` of the per-sample score ``of`` over the items ``where``
selects; ``balanced_mean``: the mean over classes (metadata ``by``) of each class's mean of ``of``; ``statistic``:
computed from the whole set (a correlation, a distance between distributions, a fitted strength); ``count``."""
DIRECTIONS: tuple[str, ...] = ("higher", "lower", "target", "none")
KINDS: tuple[str, ...] = ("score", "reliability", "descriptive")
AGGREGATIONS: tuple[str, ...] = ("mean", "balanced_mean", "statistic", "count")


@dataclass(frozen=True)
class MetricInfo:
    """The declaration of one metric (or of a family, through a pattern)."""

    kind: Kind
    direction: Direction = "higher"
    range: tuple[float | None, float | None] = (0.0, 1.0)
    """Smallest and largest possible values (None: unbounded on that side)."""
    chance: float | None = None
    """What answering at random (or always the same label) scores, where such a level exists: 1/4 for four
    options, 1/2 for pairs, 1/3 for BBQ. The level score's scale starts here."""
    target: float | None = None
    """The ideal value for ``direction="target"`` (0.5 = no preference either way)."""
    aggregation: Aggregation = "mean"
    of: str | None = None
    """``mean``/``balanced_mean``: the per-sample score averaged (defaults to the metric's name)."""
    where: Mapping[str, str] = field(default_factory=dict)
    """``mean``: only samples whose ``metadata[key]`` equals the value (a value ending in ``/*``: starts with it)."""
    by: str | None = None
    """``balanced_mean``: the metadata key naming each sample's class."""
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise AlignlabError(f"metric kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.direction not in DIRECTIONS:
            raise AlignlabError(f"metric direction {self.direction!r} is not one of {', '.join(DIRECTIONS)}")
        if self.aggregation not in AGGREGATIONS:
            raise AlignlabError(f"metric aggregation {self.aggregation!r} is not one of {', '.join(AGGREGATIONS)}")
        if (self.direction == "target") != (self.target is not None):
            raise AlignlabError("a metric has a target value exactly when its direction is 'target'")
        if self.aggregation == "balanced_mean" and not self.by:
            raise AlignlabError("a balanced_mean metric names the metadata key of its classes (by=...)")
        if self.kind == "score" and self.direction == "none":
            raise AlignlabError("a score metric says which way is better")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["range"], d["where"] = list(self.range), dict(self.where)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MetricInfo:
        rng = d.get("range") or [None, None]
        return cls(kind=d["kind"], direction=d.get("direction", "higher"), range=(rng[0], rng[1]),
                   chance=d.get("chance"), target=d.get("target"), aggregation=d.get("aggregation", "mean"),
                   of=d.get("of"), where=dict(d.get("where") or {}), by=d.get("by"),
                   description=d.get("description", ""))

    # -- orientation ---------------------------------------------------------------------------------------------

    @property
    def ranked(self) -> bool:
        """Whether runs can be ordered by this metric (a better side exists)."""
        return self.direction != "none"

    def badness(self, value: float) -> float:
        """A number that is smaller the better ``value`` is (for ranking; only when ``ranked``)."""
        if self.direction == "higher":
            return -value
        if self.direction == "lower":
            return value
        if self.direction == "target":
            return abs(value - self.target)  # type: ignore[operator]
        raise AlignlabError("a metric with direction 'none' has no better side")

    def scale(self) -> tuple[float, float] | None:
        """(floor, perfect) of the chance-to-perfect scale in this metric's raw units, or None if it has none.

        The floor is the chance level, or the worst end of the range when no chance level exists (toxicity: 1).
        For a target metric the scale runs over the distance to the target: floor = the largest distance the
        range allows, perfect = 0.
        """
        lo, hi = self.range
        if self.direction == "higher":
            floor = self.chance if self.chance is not None else lo
            return None if floor is None or hi is None or hi == floor else (floor, hi)
        if self.direction == "lower":
            floor = self.chance if self.chance is not None else hi
            return None if floor is None or lo is None or lo == floor else (floor, lo)
        if self.direction == "target" and lo is not None and hi is not None:
            worst = max(abs(lo - self.target), abs(hi - self.target))  # type: ignore[operator]
            return None if worst == 0 else (worst, 0.0)
        return None

    def normalized(self, value: float | None, stderr: float | None = None) -> tuple[float | None, float | None]:
        """(value, stderr) on the chance-to-perfect scale: 0 = chance (or the worst end), 1 = perfect; below 0
        is worse than chance. (None, None) when the metric has no such scale."""
        sc = self.scale()
        if sc is None or value is None or not math.isfinite(value):
            return None, None
        floor, perfect = sc
        x = abs(value - self.target) if self.direction == "target" else value  # type: ignore[operator]
        norm = (x - floor) / (perfect - floor)
        return norm, None if stderr is None else stderr / abs(perfect - floor)


# Shorthands for the common declarations, so a suite's table stays readable.

def accuracy(chance: float | None = None, *, of: str | None = None, where: Mapping[str, str] | None = None,
             description: str = "") -> MetricInfo:
    """A share of correct answers in [0, 1], higher is better."""
    return MetricInfo("score", "higher", (0.0, 1.0), chance, of=of, where=dict(where or {}), description=description)


def rate(kind: Kind, direction: Direction, *, of: str | None = None, where: Mapping[str, str] | None = None,
         chance: float | None = None, description: str = "") -> MetricInfo:
    """A per-sample 0/1 (or [0, 1]) score averaged over samples."""
    return MetricInfo(kind, direction, (0.0, 1.0), chance, of=of, where=dict(where or {}), description=description)


def statistic(kind: Kind, direction: Direction = "none", range: tuple[float | None, float | None] = (None, None),
              *, chance: float | None = None, target: float | None = None, description: str = "") -> MetricInfo:
    """A figure computed from the whole set of samples (no per-sample score to pair on)."""
    return MetricInfo(kind, direction, range, chance, target, aggregation="statistic", description=description)


COUNT = MetricInfo("descriptive", "none", (0.0, None), aggregation="count", description="a count")


# -- patterns ------------------------------------------------------------------------------------------------------

_FIELD = re.compile(r"\{(\w+)\}")


def _compile(pattern: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _FIELD.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>.+)")  # greedy: a later field is the last segment(s)
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


def resolve(name: str, declarations: Mapping[str, MetricInfo]) -> MetricInfo | None:
    """The declaration of metric ``name``: an exact key first, then the first pattern that matches, with its
    fields filled into ``of`` and ``where``; None when nothing declares it."""
    if name in declarations:
        info = declarations[name]
        return info if info.of or info.aggregation not in ("mean", "balanced_mean") else replace(info, of=name)
    for pattern, info in declarations.items():
        if "{" not in pattern:
            continue
        m = _compile(pattern).match(name)
        if m is None:
            continue
        fields = m.groupdict()
        try:
            of = info.of.format(**fields) if info.of else name
            where = {k: v.format(**fields) for k, v in info.where.items()}
        except KeyError as exc:
            raise AlignlabError(f"metric pattern {pattern!r} has no field {exc.args[0]!r}") from None
        return replace(info, of=of if info.aggregation in ("mean", "balanced_mean") else info.of, where=where)
    return None


def declared(metric: Mapping[str, Any] | None) -> MetricInfo | None:
    """The declaration carried by one metric of results.json (None for undeclared metrics and older runs)."""
    d = (metric or {}).get("declared") if isinstance(metric, Mapping) else None
    return MetricInfo.from_dict(d) if isinstance(d, Mapping) else None


# -- which samples a mean covers (used by the goal loop's paired bootstrap) ---------------------------------------

def selects(info: MetricInfo, record: Mapping[str, Any]) -> bool:
    """Whether a sample record is one of the items a ``mean`` metric averages."""
    md = record.get("metadata") or {}
    for key, want in info.where.items():
        got = str(md.get(key) if md.get(key) is not None else "")
        if want.endswith("/*"):
            if not (got == want[:-2] or got.startswith(want[:-1])):
                return False
        elif got != want:
            return False
    return True


def aggregate(info: MetricInfo, scores: Sequence[float], classes: Sequence[Any] | None = None) -> float | None:
    """The declared aggregation of per-sample scores (``mean`` or ``balanced_mean``); None when it has none."""
    if not scores:
        return None
    if info.aggregation == "mean":
        return sum(scores) / len(scores)
    if info.aggregation == "balanced_mean":
        if classes is None:
            raise AlignlabError("a balanced mean needs each sample's class")
        per: dict[Any, list[float]] = {}
        for s, c in zip(scores, classes, strict=True):
            per.setdefault(c, []).append(s)
        return sum(sum(v) / len(v) for v in per.values()) / len(per)
    return None


# -- reliability gates ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReliabilityGate:
    """A reliability an instrument needs before the metrics it ``covers`` read as a finding."""

    metric: str
    """The reliability metric checked (a name the suite reports)."""
    covers: tuple[str, ...]
    """Patterns (as in declarations) of the metrics that are not interpretable when the gate fails."""
    at_least: float | None = None
    at_most: float | None = None
    reason: str = ""
    """Why the threshold: what the covered figures would mean if it is not met."""

    def __post_init__(self) -> None:
        if self.at_least is None and self.at_most is None:
            raise AlignlabError(f"reliability gate on {self.metric!r} sets neither at_least nor at_most")

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "covers": list(self.covers), "at_least": self.at_least,
                "at_most": self.at_most, "reason": self.reason}

    def check(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """The gate's outcome on a suite's metrics: passed True/False, or None when the metric is missing."""
        m = metrics.get(self.metric)
        value = m.get("value") if isinstance(m, Mapping) else None
        passed: bool | None = None
        if isinstance(value, int | float) and math.isfinite(value):
            passed = (self.at_least is None or value >= self.at_least) and \
                     (self.at_most is None or value <= self.at_most)
        covered = [k for k in metrics if k != self.metric and covers(self.covers, k)]
        return {**self.to_dict(), "value": value, "ci": (m or {}).get("ci") if isinstance(m, Mapping) else None,
                "passed": passed, "covered": covered}


def covers(patterns: Sequence[str], name: str) -> bool:
    """Whether metric ``name`` matches one of ``patterns`` (exact names or ``{field}`` patterns)."""
    return any(p == name or ("{" in p and _compile(p).match(name)) for p in patterns)


def check_gates(gates: Sequence[ReliabilityGate], metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every gate's outcome on one suite's metrics, in declaration order (what results.json carries)."""
    return [g.check(metrics) for g in gates]


def threshold_text(gate: Mapping[str, Any]) -> str:
    """A gate's threshold as text (``≥ 0.7``), from a ``ReliabilityGate`` or its results.json form."""
    g = gate.to_dict() if isinstance(gate, ReliabilityGate) else gate
    parts = ([f"≥ {g['at_least']:g}"] if g.get("at_least") is not None else []) + \
            ([f"≤ {g['at_most']:g}"] if g.get("at_most") is not None else [])
    return " and ".join(parts)


def explain_gate(gate: Mapping[str, Any]) -> str:
    """One line for a failed gate: the figure, what it needed, and what that means for the covered figures."""
    value = gate.get("value")
    shown = f"{value:.3f}" if isinstance(value, int | float) else "not measured"
    return (f"Not interpretable for this model: {gate.get('metric')} = {shown} (needs {threshold_text(gate)}) — "
            f"{gate.get('reason') or 'the instrument is not reliable here'}.")


def failed_gate(suite: Mapping[str, Any], metric: str) -> dict[str, Any] | None:
    """The first failed gate of a results.json suite that covers ``metric`` (None: interpretable or ungated)."""
    for g in suite.get("reliability") or []:
        if g.get("passed") is False and (metric in (g.get("covered") or []) or covers(g.get("covers") or [], metric)):
            return g
    return None
