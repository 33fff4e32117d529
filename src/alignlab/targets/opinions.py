"""How close an answer distribution is to a population's: the target of an opinion survey.

Shared by the opinion suites (``alignlab.evaluate.values.opinions``) and the report's per-item view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def normalise(shares: Sequence[float]) -> np.ndarray | None:
    """Shares → a probability vector; None when they sum to zero (nobody answered)."""
    p = np.asarray(shares, float)
    total = p.sum()
    return p / total if total > 0 else None


def js_distance(p: Sequence[float], q: Sequence[float]) -> float:
    """Jensen–Shannon distance, base 2 (√ of the divergence), in [0, 1]; both inputs are renormalised."""
    a, b = normalise(p), normalise(q)
    if a is None or b is None:
        return float("nan")
    m = (a + b) / 2

    def kl(x: np.ndarray) -> float:
        nz = x > 0  # 0 · log 0 = 0; m > 0 wherever x > 0
        return float((x[nz] * np.log2(x[nz] / m[nz])).sum())

    return math.sqrt(max(0.0, (kl(a) + kl(b)) / 2))  # max(): rounding can leave -1e-17


def similarity(p: Sequence[float], q: Sequence[float]) -> float:
    """1 − Jensen–Shannon distance: 1 for identical distributions, 0 for disjoint ones."""
    return 1.0 - js_distance(p, q)
