"""``value-profile``: how close the values a completion expresses are to a target value profile.

A value classifier maps the completion to a vector over the target's value system (−1 opposes, 0 not relevant,
+1 supports; ``alignlab.evaluate.values.classifier``); the reward compares that vector with the target profile
over the values the target names. Metrics:

- ``pearson`` (default) / ``spearman``: correlation in [−1, 1], scale-free, so the target's scale (ipsatized or
  raw) does not matter. A vector with no variation (the text expresses none of the values, or all alike) carries no
  evidence either way and gets 0.
- ``cosine``: cosine similarity in [−1, 1] (0 for an all-zero vector); unlike correlation it rewards expressing
  no value at all less than expressing the target's signs.
- ``neg_distance``: minus the Euclidean distance to the target scaled onto the classifier's range (divided by its
  largest absolute value), normalised to [−1, 0] by the largest possible distance.

A completion the classifier could not classify gets None (counted as ``parse_failures``; failed judge calls as
``errors``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.align.rewards import (
    RewardError,
    RewardFunc,
    RewardFunction,
    prompt_text,
    register_reward,
    resolve_path,
    resolve_spec,
)
from alignlab.targets.profiles import TargetProfile, distance, load_profile, pearson, spearman

METRICS = ("pearson", "spearman", "cosine", "neg_distance")


def closeness(vector: dict[str, float], target: TargetProfile, metric: str = "pearson") -> float:
    """How close a value vector is to ``target`` under ``metric`` (higher is closer); see the module docs."""
    missing = [k for k in target.keys if k not in vector]
    if missing:
        raise ValueError(f"the value vector has no value {missing[0]!r}")
    x = np.asarray([float(vector[k]) for k in target.keys])  # (V,)
    t = target.vector()  # (V,)
    if metric in ("pearson", "spearman"):
        r = float((pearson if metric == "pearson" else spearman)(x, t))
        return 0.0 if math.isnan(r) else r
    if metric == "cosine":
        denom = float(np.linalg.norm(x) * np.linalg.norm(t))
        return float(x @ t) / denom if denom > 0 else 0.0
    if metric == "neg_distance":
        top = float(np.abs(t).max())
        scaled = t / top if top > 0 else t
        return -float(distance(x, scaled)) / (2.0 * math.sqrt(len(t)))
    raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")


class ValueProfileReward(RewardFunction):
    """Closeness of each completion's classified value vector to a target profile (see the module docs)."""

    def __init__(self, classifier: Any, target: TargetProfile, metric: str, name: str) -> None:
        super().__init__(name)
        self.classifier, self.target, self.metric = classifier, target, metric
        self.last_vectors: list[dict[str, int] | None] = []

    def vectors(self, prompts: list[Any], texts: list[str]) -> list[dict[str, int] | None]:
        """Classify ``texts``; None where the classifier could not (failures are counted)."""
        from alignlab.evaluate.values.classifier import JudgeValueClassifier

        questions = [prompt_text(p) for p in prompts]
        errors = 0
        if isinstance(self.classifier, JudgeValueClassifier):
            judged = self.classifier.judge_all(texts, questions)
            errors = sum(j.error is not None for j in judged)
            vectors = [j.vector for j in judged]
        else:
            vectors = [v or None for v in self.classifier.classify(texts, questions)]
        self.counts["errors"] += errors
        self.counts["parse_failures"] += sum(v is None for v in vectors) - errors
        self.last_vectors = vectors
        return vectors

    def score(self, prompts: list[Any], texts: list[str], columns: dict[str, list[Any]]) -> list[float | None]:
        return [None if v is None else closeness(v, self.target, self.metric)
                for v in self.vectors(prompts, texts)]


def make_classifier(classifier: Any, system_key: str, max_tokens: int = 160, base_dir: Path | None = None) -> Any:
    """A ``ValueClassifier`` from a judge model spec, a ``Model``, or an object that already classifies."""
    from alignlab.evaluate.values.classifier import JudgeValueClassifier
    from alignlab.models import Model, load_model
    from alignlab.targets.values import SYSTEMS

    if hasattr(classifier, "classify"):
        return classifier
    if classifier is None:
        raise RewardError("reward 'value-profile': missing argument 'classifier'",
                          hint="a judge model spec (e.g. hf:PATH or openai:MODEL@URL) or a ValueClassifier")
    judge = classifier if isinstance(classifier, Model) else load_model(resolve_spec(str(classifier), base_dir))
    return JudgeValueClassifier(judge, system=SYSTEMS[system_key], max_tokens=max_tokens)


@register_reward("value-profile")
def value_profile_reward(*, target: Any, classifier: Any, metric: str = "pearson", max_tokens: int = 160,
                         name: str = "value_profile", base_dir: Path | None = None) -> RewardFunc:
    """Reward closeness to ``target`` (a profile YAML or ``TargetProfile``) of the values ``classifier`` (a judge
    model spec, a ``Model``, or any ``ValueClassifier``) finds in each completion."""
    if metric not in METRICS:
        raise RewardError(f"reward 'value-profile': unknown metric {metric!r}", hint="one of: " + ", ".join(METRICS))
    profile = target if isinstance(target, TargetProfile) else load_profile(resolve_path(target, base_dir))
    clf = make_classifier(classifier, profile.system, max_tokens, base_dir)
    system = getattr(clf, "system", None)
    if system is not None and getattr(system, "key", profile.system) != profile.system:
        raise RewardError(f"reward 'value-profile': the classifier rates {system.key} values but the target "
                          f"{profile.source or profile.name} is a {profile.system} profile")
    return ValueProfileReward(clf, profile, metric, str(name))
