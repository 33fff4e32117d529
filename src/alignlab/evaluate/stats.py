"""Summary statistics with uncertainty: every reported figure carries n, a standard error and a 95% CI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def mean_ci(values: Sequence[float | None], confidence: float = 0.95) -> dict[str, Any]:
    """Mean of the non-missing values with its standard error and CI.

    0/1 scores get a Wilson score interval (it stays inside [0, 1] and behaves at 0% and 100%); other scores a
    Student-t interval around the mean.
    """
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = int(x.size)
    if n == 0:
        return {"value": None, "stderr": None, "ci": [None, None], "n": 0}
    mean = float(x.mean())
    stderr = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    from scipy import stats

    if np.isin(x, (0.0, 1.0)).all():
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        denom = 1 + z * z / n
        centre = (mean + z * z / (2 * n)) / denom
        half = z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)) / denom
        # Rounding can push a bound a hair past the mean or out of [0, 1] at 0% and 100%.
        lo, hi = max(0.0, min(centre - half, mean)), min(1.0, max(centre + half, mean))
    elif n > 1:
        t = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
        lo, hi = mean - t * stderr, mean + t * stderr
    else:
        lo = hi = mean
    return {"value": mean, "stderr": stderr, "ci": [float(lo), float(hi)], "n": n}


def mean_metric(score: str, name: str | None = None):  # noqa: ANN201 - returns a Metric
    """A metric averaging the per-sample score ``score`` (records with errors count as missing)."""

    def metric(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        vals = [(r.get("scores") or {}).get(score) for r in records if r.get("error") is None]
        return {name or score: mean_ci(vals)}

    metric.__name__ = f"mean_{score}"
    return metric
