"""Ratings over battles: Bradley–Terry MLE with bootstrap CIs, ranks by CI overlap, online Elo, style control.

Ratings are on the Elo scale, ``400 / ln 10 * theta + 1000`` (mean 1000), or shifted so that an anchor model gets a
chosen rating (Chatbot Arena pins mixtral-8x7b-instruct-v0.1 at 1114). A tie counts as half a win each way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from alignlab.errors import DataError
from alignlab.evaluate.preferences._bt import bootstrap_bt, fit_bt, win_matrix
from alignlab.evaluate.preferences.battles import STYLE_FEATURES, Battles

SCALE = 400.0 / math.log(10.0)
"""Elo points per unit of natural log-odds."""
INIT_RATING = 1000.0


@dataclass(frozen=True)
class ModelRating:
    """One leaderboard row."""

    model: str
    rank: int
    """1 + the number of models whose CI lies entirely above this model's (Chatbot Arena's rule)."""
    rating: float
    """Bradley–Terry rating (Elo scale) from the maximum-likelihood fit on all battles."""
    ci_low: float
    """2.5th percentile of the bootstrap ratings."""
    ci_high: float
    """97.5th percentile of the bootstrap ratings."""
    battles: int
    win_rate: float
    """Share of its battles the model won, ties counting half."""
    elo: float
    """Online Elo after one pass over the battles in file order."""
    group: int = 1
    """The connected group of the comparison graph the model is in (1 = the largest); ratings and ranks compare
    models within a group only."""


@dataclass(frozen=True)
class Leaderboard:
    """Ratings for every model, best first."""

    rows: tuple[ModelRating, ...]
    n_battles: int
    bootstrap: int
    """Bootstrap rounds behind the CIs (0: no CIs; they equal the rating)."""
    style_control: bool
    style_coefficients: dict[str, float] = field(default_factory=dict)
    """Log-odds per standard deviation of each style difference (style control only)."""
    anchor: tuple[str, float] | None = None
    warnings: tuple[str, ...] = ()
    """What limits the ratings: a comparison graph in several groups, models with too few battles for a CI."""

    def __getitem__(self, model: str) -> ModelRating:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(model)

    @property
    def models(self) -> list[str]:
        return [r.model for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {"n_battles": self.n_battles, "bootstrap": self.bootstrap, "style_control": self.style_control,
                "style_coefficients": self.style_coefficients, "anchor": list(self.anchor) if self.anchor else None,
                "warnings": list(self.warnings), "models": [asdict(r) for r in self.rows]}


def to_elo(theta: np.ndarray, models: tuple[str, ...], anchor: tuple[str, float] | None = None) -> np.ndarray:
    """Strengths (..., M) in natural log-odds -> Elo-scale ratings, mean 1000 or anchored."""
    rating = SCALE * (theta - theta.mean(-1, keepdims=True)) + INIT_RATING
    if anchor is not None:
        name, value = anchor
        if name not in models:
            raise DataError(f"anchor model {name!r} is not in the battles", hint=f"models: {', '.join(models)}")
        i = models.index(name)
        rating = rating - rating[..., i:i + 1] + value
    return rating


MIN_CI_BATTLES = 10
"""Below this many battles a model's bootstrap CI says little: resampling a handful of battles gives an interval
that is narrow (one battle: zero width) because there is no variety to resample, not because the rating is sure."""


def comparison_groups(battles: Battles) -> np.ndarray:
    """(M,) group of each model in the comparison graph (models linked by a battle), 1 = the largest group.

    Bradley–Terry identifies ratings only up to a shift per group, so ratings of models in different groups are
    not comparable.

    A union–find over the distinct model pairs, written here: scipy's ``connected_components`` would bring scipy
    back into ``alignlab ratings``, which otherwise runs without it.
    """
    m = len(battles.models)
    parent = list(range(m))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = np.unique(np.stack([battles.a, battles.b], axis=1), axis=0) if len(battles) else np.empty((0, 2), int)
    for i, j in pairs.tolist():
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    labels = np.unique([root(i) for i in range(m)], return_inverse=True)[1].reshape(-1)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")  # the largest group first
    group = np.empty_like(order)
    group[order] = np.arange(1, len(order) + 1)
    return group[labels]


def _warnings(battles: Battles, group: np.ndarray, counts: np.ndarray, bootstrap: int) -> tuple[str, ...]:
    out = []
    n_groups = int(group.max()) if len(group) else 0
    if n_groups > 1:
        groups = [", ".join(battles.models[i] for i in np.flatnonzero(group == g)) for g in range(1, n_groups + 1)]
        out.append(f"the battles form {n_groups} unconnected groups of models ({' | '.join(groups)}): ratings and "
                   "ranks compare models within a group only")
    few = [f"{battles.models[i]} ({int(counts[i])})" for i in np.flatnonzero(counts < MIN_CI_BATTLES)]
    if few and bootstrap:
        out.append(f"too few battles for a confidence interval (under {MIN_CI_BATTLES}): {', '.join(few)}; "
                   "their CIs understate the uncertainty")
    return tuple(out)


def ranks_by_ci(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """(M,) rank = 1 + number of models whose lower bound exceeds this model's upper bound."""
    return 1 + (ci_low[None, :] > ci_high[:, None]).sum(1)


def online_elo(battles: Battles, k: float = 4.0, init: float = INIT_RATING) -> np.ndarray:
    """(M,) online Elo ratings: one sequential pass in battle order with step ``k`` (Arena's K = 4)."""
    rating = [init] * len(battles.models)
    # A Python loop on lists: each update depends on the last, and list indexing beats numpy scalars here.
    for i, j, s in zip(battles.a.tolist(), battles.b.tolist(), battles.outcome.tolist(), strict=True):
        e = 1.0 / (1.0 + 10.0 ** ((rating[j] - rating[i]) / 400.0))
        rating[i] += k * (s - e)
        rating[j] -= k * (s - e)
    return np.asarray(rating)


def bradley_terry(battles: Battles, l2: float = 1e-6) -> dict[str, float]:
    """Maximum-likelihood strengths (natural log-odds, mean 0) by model name; no bootstrap."""
    m = len(battles.models)
    theta = fit_bt(win_matrix(battles.a, battles.b, battles.outcome, m), l2)
    return dict(zip(battles.models, theta.tolist(), strict=True))


def leaderboard(battles: Battles, *, bootstrap: int = 1000, seed: int = 0, style_control: bool = False,
                anchor: tuple[str, float] | None = None, k: float = 4.0, l2: float = 1e-6) -> Leaderboard:
    """Bradley–Terry ratings with bootstrap 95% CIs, CI-overlap ranks and online Elo beside them.

    ``style_control`` adds Arena's style covariates (response length, markdown headers, lists, bold), so ratings
    compare models at equal style; every battle then needs ``conv_metadata`` counts or response texts. Its
    bootstrap revisits every battle per round (~0.1 s per round per 200k battles on 2 cores), whereas the plain
    bootstrap works on aggregated counts (1,000 rounds on 200k battles in ~1.5 s).
    """
    m = len(battles.models)
    if len(battles) == 0:
        raise DataError("no battles to rate")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")
    rng = np.random.default_rng(seed)
    coefs: dict[str, float] = {}
    if style_control:
        from alignlab.evaluate.preferences._style import bootstrap_style_bt, fit_style_bt, style_matrix

        if not battles.has_style:
            missing = np.isnan(battles.style_a).any(1) | np.isnan(battles.style_b).any(1)
            first = battles.where[int(np.argmax(missing))] if battles.where else f"battle {int(np.argmax(missing))}"
            raise DataError(f"{first}: style control needs conv_metadata style counts or response_a/response_b text "
                            f"on every battle ({int(missing.sum())} lack them)", hint="drop --style-control")
        z = style_matrix(battles.style_a, battles.style_b)
        beta = fit_style_bt(battles.a, battles.b, battles.outcome, z, m, l2=l2)
        theta = beta[:m]
        coefs = dict(zip(STYLE_FEATURES, beta[m:].tolist(), strict=True))
        boot = (bootstrap_style_bt(battles.a, battles.b, battles.outcome, z, m, bootstrap, rng, beta, l2)[:, :m]
                if bootstrap else np.empty((0, m)))
    else:
        theta = fit_bt(win_matrix(battles.a, battles.b, battles.outcome, m), l2)
        boot = (bootstrap_bt(battles.a, battles.b, battles.outcome, m, bootstrap, rng, l2, init=theta)
                if bootstrap else None)
    rating = to_elo(theta, battles.models, anchor)
    if boot is not None and len(boot):
        lo, hi = np.percentile(to_elo(boot, battles.models, anchor), [2.5, 97.5], axis=0)
    else:
        lo = hi = rating
    group = comparison_groups(battles)
    rank = np.empty(m, dtype=int)
    for g in np.unique(group):  # models of different groups are never compared, so never ranked against each other
        members = np.flatnonzero(group == g)
        rank[members] = ranks_by_ci(lo[members], hi[members])
    elo = online_elo(battles, k)
    n, wr = battles.counts(), battles.win_rates()
    order = np.lexsort((-rating, rank, group))  # by group, rank, then rating
    rows = tuple(ModelRating(model=battles.models[i], rank=int(rank[i]), rating=float(rating[i]),
                             ci_low=float(lo[i]), ci_high=float(hi[i]), battles=int(n[i]),
                             win_rate=float(wr[i]), elo=float(elo[i]), group=int(group[i])) for i in order)
    return Leaderboard(rows=rows, n_battles=len(battles), bootstrap=bootstrap, style_control=style_control,
                       style_coefficients=coefs, anchor=anchor, warnings=_warnings(battles, group, n, bootstrap))
