"""Suites: samples + a solver (how to query the model) + a scorer + metrics (Inspect AI's split, kept small).

A solver turns a chunk of samples into outputs with as few batched model calls as it can; a scorer turns one
sample and its output into named scores; metrics reduce the per-sample records of a suite to figures with CIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alignlab.errors import AlignlabError
from alignlab.evaluate.metric_info import MetricInfo, ReliabilityGate
from alignlab.targets.levels import Level

if TYPE_CHECKING:
    from alignlab.models import Model, Prompt

@dataclass
class Sample:
    """One evaluation item."""

    id: str
    """Unique within the suite; the runner resumes by it."""
    input: Prompt
    """What the model is asked: a string or chat messages."""
    target: Any = None
    """What a correct answer looks like, in the scorer's terms."""
    choices: list[str] | None = None
    """Options for multiple-choice and Likert items."""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Output:
    """What a solver got for one sample."""

    text: str | None = None
    """The raw model output (generation), if any."""
    answer: Any = None
    """The parsed answer (a choice index, a number, a label...)."""
    logprobs: list[float] | None = None
    """Per-choice log-likelihoods for multiple-choice solvers."""
    judge: Any = None
    """A judge's raw verdict, when one was asked."""
    error: str | None = None
    """Why this sample has no usable output; counted, never dropped."""
    extra: dict[str, Any] = field(default_factory=dict)


Solver = Callable[["Model", Sequence[Sample]], list[Output]]
Scorer = Callable[[Sample, Output], dict[str, float | None]]
Metric = Callable[[list[dict[str, Any]]], dict[str, dict[str, Any]]]
"""Takes the suite's sample records (as written to samples/*.jsonl), returns {metric: {value, stderr, ci, n}}."""


@dataclass
class Suite:
    """A named evaluation at one level of the taxonomy."""

    name: str
    level: Level
    samples: list[Sample]
    solver: Solver
    scorer: Scorer
    metrics: list[Metric]
    description: str = ""
    version: str = "1"
    params: dict[str, Any] = field(default_factory=dict)
    """The arguments the suite was built with; recorded in config.yaml so a run can be replayed."""
    primary_metric: str | None = None
    """The metric shown on the level scorecard."""
    requires: tuple[str, ...] = ("generate",)
    """Model capabilities used: "generate", "loglikelihood"."""
    metric_info: dict[str, MetricInfo] = field(default_factory=dict)
    """What each metric means, by name or ``{field}`` pattern (see ``alignlab.evaluate.metric_info``); results.json
    carries the declaration of every metric reported."""
    gates: list[ReliabilityGate] = field(default_factory=list)
    """The reliability this instrument needs before the metrics each gate covers read as a finding."""
    pass_scores: tuple[str, ...] = ()
    """Per-sample scores that are 1 when a generation is correct and 0 when not; a suite that names them can
    sample ``n`` answers per prompt and report pass@k (``alignlab.evaluate.sampling``)."""
    synthetic: dict[str, Any] | None = None
    """What part of the suite's data is made up, as the data itself flags it (``{"populations": [...], "source":
    file}``); results.json carries it and every view built on that data says so."""


class SuiteSkipped(AlignlabError):
    """Raised by a suite factory that cannot run here (no judge, no reward model); the run lists it as not run."""
