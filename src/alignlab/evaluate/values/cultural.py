"""Cultural dimensions: opinion items tagged with the dimension they measure, scored into a dimension profile and
compared with populations' published dimension scores (Hofstede-style, 0–100).

An item's score is where the answer distribution sits between the dimension's poles: the expected option
position Σ p_j · j/(k−1), flipped for reverse items, times 100. A dimension's score is the mean of its items'
scores, with a bootstrap CI over those items. Population scores come from YAML::

    populations:
      NAME:
        dimensions: {pdi: 40, idv: 70, ...}   # the published (or, for the built-in table, synthetic) scores
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from alignlab.errors import DataError
from alignlab.evaluate.values.scoring import pearson_ci, summary
from alignlab.files import read_text

HOFSTEDE: dict[str, str] = {
    "pdi": "Power distance",
    "idv": "Individualism",
    "mas": "Motivation towards achievement and success",
    "uai": "Uncertainty avoidance",
    "lto": "Long-term orientation",
    "ivr": "Indulgence",
}
"""Hofstede's six dimensions (names and theory are facts; alignlab's items are its own)."""


def pole_score(dist: Sequence[float], reverse: bool = False) -> float:
    """0–100: the expected option position between the low pole (first option) and the high pole (last)."""
    p = np.asarray(dist, float)
    p = p / p.sum()
    pos = np.linspace(0.0, 1.0, p.size)
    score = float((p * pos).sum())
    return 100.0 * (1.0 - score if reverse else score)


def load_population_dimensions(path: str | Path) -> dict[str, dict[str, float]]:
    """``populations.<name>.dimensions`` from a YAML file → {population: {dimension: score}}."""
    try:
        doc = yaml.safe_load(read_text(path)) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"{path}: cannot read population table: {exc}") from None
    pops = doc.get("populations") if isinstance(doc, dict) else None
    if not isinstance(pops, dict):
        raise DataError(f"{path}: expected a mapping 'populations: {{NAME: {{dimensions: {{...}}}}}}'")
    out: dict[str, dict[str, float]] = {}
    for name, body in pops.items():
        dims = (body or {}).get("dimensions") if isinstance(body, dict) else None
        if dims is None:
            continue  # a population with answer shares only
        if not isinstance(dims, dict) or not all(isinstance(v, int | float) for v in dims.values()):
            raise DataError(f"{path}: populations.{name}.dimensions: expected a mapping of dimension → number")
        out[str(name)] = {str(k): float(v) for k, v in dims.items()}
    return out


def dimension_profile(scores: Mapping[str, float], dims: Mapping[str, str], *, bootstrap: int = 2000,
                      seed: int = 0) -> dict[str, dict[str, Any]]:
    """Per dimension, the mean item score with a bootstrap CI over its items.

    ``scores`` maps item id → pole score; ``dims`` item id → dimension (untagged items are left out).
    """
    by_dim: dict[str, list[float]] = {}
    for item, score in scores.items():
        if dims.get(item):
            by_dim.setdefault(dims[item], []).append(score)
    rng = np.random.default_rng(seed)
    out = {}
    for dim, vals in sorted(by_dim.items()):
        x = np.asarray(vals, float)
        boot = x[rng.integers(0, x.size, (bootstrap, x.size))].mean(1) if bootstrap and x.size > 1 else np.array([])
        out[dim] = summary(float(x.mean()), boot, int(x.size))
    return out


def compare_profiles(model: Mapping[str, float], population: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Pearson r (Fisher-z CI) across the shared dimensions and the mean absolute difference (0–100 points)."""
    shared = [d for d in model if d in population]
    x = [model[d] for d in shared]
    y = [population[d] for d in shared]
    dist = float(np.mean(np.abs(np.subtract(x, y)))) if shared else None
    return {"correlation": pearson_ci(x, y),
            "distance": {"value": dist, "stderr": None, "ci": [None, None], "n": len(shared)}}


def cultural_metrics(scores: Mapping[str, float], dims: Mapping[str, str],
                     populations: Mapping[str, Mapping[str, float]], *, bootstrap: int = 2000,
                     seed: int = 0) -> dict[str, dict[str, Any]]:
    """``dimension/<dim>`` (the model's profile) and ``culture/<population>/{correlation,distance}``."""
    profile = dimension_profile(scores, dims, bootstrap=bootstrap, seed=seed)
    out = {f"dimension/{d}": m for d, m in profile.items()}
    point = {d: m["value"] for d, m in profile.items()}
    for pop, pop_dims in populations.items():
        for key, m in compare_profiles(point, pop_dims).items():
            out[f"culture/{pop}/{key}"] = m
    return out
