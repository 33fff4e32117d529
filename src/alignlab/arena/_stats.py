"""The arena's statistics: a Bradley–Terry leaderboard, win matrix, inter-annotator agreement and how well judges
and reward models agree with the annotators.

The leaderboard reuses ``alignlab.evaluate.preferences`` (Bradley–Terry MLE, bootstrap CIs, online Elo). Cohen's
and Fleiss' κ are a few lines each and written here (scikit-learn and statsmodels would be heavy dependencies for
them); Krippendorff's α comes from the ``krippendorff`` package.

An *item* is a prompt with an unordered pair of models. Labels are put in a canonical orientation (the two models in
name order) so that the same judgement reads the same whichever side each model was shown on: ``first``,
``second``, ``tie``, ``bothbad``. When an annotator judged an item more than once, their latest vote counts — in the
leaderboard, the win matrix and every agreement statistic — so that one person repeating a judgement cannot weigh
more than another; the superseded votes stay stored and the admin page counts them per annotator.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from alignlab.arena._models import Annotator, Rating, Response, Verdict, Vote

LABELS = ("first", "second", "tie", "bothbad")


def canonical(model_a: str, model_b: str, winner: str) -> tuple[tuple[str, str], str]:
    """((first, second) in name order, label) for a verdict on a pair shown as (model_a, model_b)."""
    pair = (model_a, model_b) if model_a < model_b else (model_b, model_a)
    if winner in ("tie", "tie (bothbad)"):
        return pair, "tie" if winner == "tie" else "bothbad"
    won = model_a if winner == "model_a" else model_b
    return pair, "first" if won == pair[0] else "second"


def cohen_kappa(x: list[str], y: list[str]) -> float | None:
    """Cohen's κ of two raters over the same items; None when chance agreement is 1 (a single label in use)."""
    n = len(x)
    if n == 0:
        return None
    po = sum(a == b for a, b in zip(x, y, strict=True)) / n
    cx, cy = Counter(x), Counter(y)
    pe = sum(cx[k] * cy[k] for k in cx) / (n * n)
    return None if pe >= 1.0 else (po - pe) / (1.0 - pe)


def fleiss_kappa(items: list[list[str]]) -> float | None:
    """Fleiss' κ over items each rated by two or more raters (the number of raters may differ per item)."""
    items = [it for it in items if len(it) >= 2]
    if not items:
        return None
    cats = sorted({lab for it in items for lab in it})
    counts = np.array([[it.count(c) for c in cats] for it in items], dtype=float)  # (I, C)
    n_i = counts.sum(1)
    p_i = ((counts**2).sum(1) - n_i) / (n_i * (n_i - 1))
    p_j = counts.sum(0) / n_i.sum()
    pe = float((p_j**2).sum())
    return None if pe >= 1.0 else (float(p_i.mean()) - pe) / (1.0 - pe)


def krippendorff_alpha(matrix: np.ndarray, level: str) -> float | None:
    """Krippendorff's α of a (raters, items) matrix with NaN where a rater did not judge an item."""
    import krippendorff

    pairable = (~np.isnan(matrix)).sum(0) >= 2
    if pairable.sum() == 0 or np.unique(matrix[:, pairable][~np.isnan(matrix[:, pairable])]).size < 2:
        return None
    return float(krippendorff.alpha(reliability_data=matrix[:, pairable], level_of_measurement=level))


@dataclass
class Agreement:
    """Inter-annotator agreement on items judged by several people."""

    items: int
    """Items with two or more annotators."""
    raw: float | None
    """Share of agreeing annotator pairs over those items."""
    cohen: float | None
    """Mean Cohen's κ over annotator pairs sharing two or more items."""
    cohen_pairs: list[dict[str, Any]]
    fleiss: float | None
    krippendorff: float | None


@dataclass
class SourceAgreement:
    """How often a judge or reward model agrees with the annotators on the same pairs (``bothbad`` counts as tie)."""

    source: str
    n: int
    agreement: float
    kappa: float | None


@dataclass
class ArenaStats:
    models: list[str]
    leaderboard: Any
    """An ``alignlab.evaluate.preferences.Leaderboard`` (None before the first decisive vote)."""
    wins: list[list[float]]
    """wins[i][j]: battles model i won against model j, ties counting half."""
    games: list[list[int]]
    """games[i][j]: battles between i and j."""
    n_votes: int
    """Votes stored."""
    outcomes: dict[str, int]
    """Stored votes per outcome."""
    agreement: Agreement
    sources: list[SourceAgreement]
    ratings: list[dict[str, Any]] = field(default_factory=list)
    """Mean 1–7 rating per model and principle."""
    rating_alpha: float | None = None
    """Krippendorff's α (interval) of ratings on (response, principle) items rated by several people."""
    n_counted: int = 0
    """Votes the statistics count: each annotator's latest on each item."""


def _votes(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(Vote.annotator_id, Vote.prompt_id, Vote.model_a, Vote.model_b, Vote.winner)
                            .order_by(Vote.id)).all()


def item_key(v: Any) -> tuple[int, int, tuple[str, str]]:
    """(annotator, prompt, unordered model pair): one annotator's judgement of one item."""
    return v.annotator_id, v.prompt_id, canonical(v.model_a, v.model_b, v.winner)[0]


def latest_votes(votes: list[Any]) -> list[Any]:
    """Each annotator's latest vote per item, in vote order (``votes`` are in vote order)."""
    last = {item_key(v): i for i, v in enumerate(votes)}
    return [votes[i] for i in sorted(last.values())]


def agreement(votes: list[Any]) -> Agreement:
    """Inter-annotator agreement from vote rows (annotator_id, prompt_id, model_a, model_b, winner), in vote order."""
    latest: dict[tuple, dict[int, str]] = defaultdict(dict)
    for v in votes:
        pair, label = canonical(v.model_a, v.model_b, v.winner)
        latest[(v.prompt_id, pair)][v.annotator_id] = label
    shared = {k: d for k, d in latest.items() if len(d) >= 2}
    agree = total = 0
    for d in shared.values():
        for a, b in itertools.combinations(d.values(), 2):
            agree += a == b
            total += 1
    raters = sorted({r for d in shared.values() for r in d})
    pairs = []
    for r1, r2 in itertools.combinations(raters, 2):
        common = [d for d in shared.values() if r1 in d and r2 in d]
        if len(common) >= 2:
            k = cohen_kappa([d[r1] for d in common], [d[r2] for d in common])
            pairs.append({"annotators": [r1, r2], "items": len(common), "kappa": k})
    ks = [p["kappa"] for p in pairs if p["kappa"] is not None]
    alpha = None
    if shared:
        idx = {r: i for i, r in enumerate(raters)}
        mat = np.full((len(raters), len(shared)), np.nan)
        for j, d in enumerate(shared.values()):
            for r, lab in d.items():
                mat[idx[r], j] = LABELS.index(lab)
        alpha = krippendorff_alpha(mat, "nominal")
    return Agreement(items=len(shared), raw=agree / total if total else None, cohen=float(np.mean(ks)) if ks else None,
                     cohen_pairs=pairs, fleiss=fleiss_kappa([list(d.values()) for d in shared.values()]),
                     krippendorff=alpha)


def _merge_bothbad(label: str) -> str:
    return "tie" if label == "bothbad" else label


def source_agreement(votes: list[Any], verdicts: dict[str, dict[tuple, str]]) -> list[SourceAgreement]:
    """Agreement of each source's verdicts ({source: {(prompt_id, (first, second)): label}}) with every human vote
    on the same pair."""
    out = []
    for source, table in sorted(verdicts.items()):
        human, machine = [], []
        for v in votes:
            pair, label = canonical(v.model_a, v.model_b, v.winner)
            got = table.get((v.prompt_id, pair))
            if got is not None:
                human.append(_merge_bothbad(label))
                machine.append(_merge_bothbad(got))
        if human:
            agree = sum(a == b for a, b in zip(human, machine, strict=True)) / len(human)
            out.append(SourceAgreement(source, len(human), agree, cohen_kappa(human, machine)))
    return out


def _verdicts(engine: Engine, votes: list[Any]) -> dict[str, dict[tuple, str]]:
    """Imported pairwise verdicts, plus verdicts derived from per-response run scores (``score:<name>``: the
    higher-scored response wins, equal scores tie) on every pair the annotators judged."""
    out: dict[str, dict[tuple, str]] = defaultdict(dict)
    with engine.connect() as conn:
        for r in conn.execute(select(Verdict.source, Verdict.prompt_id, Verdict.model_a, Verdict.model_b,
                                     Verdict.winner)):
            pair, label = canonical(r.model_a, r.model_b, r.winner)
            out[r.source][(r.prompt_id, pair)] = label
        wanted = {v.prompt_id for v in votes}
        scores: dict[tuple[int, str], dict[str, float]] = {}
        if wanted:
            for r in conn.execute(select(Response.prompt_id, Response.model, Response.scores)
                                  .where(Response.prompt_id.in_(wanted))):
                if r.scores:
                    scores[(r.prompt_id, r.model)] = r.scores
    for v in votes:
        pair, _ = canonical(v.model_a, v.model_b, v.winner)
        s1, s2 = scores.get((v.prompt_id, pair[0])), scores.get((v.prompt_id, pair[1]))
        if not s1 or not s2:
            continue
        for name in s1.keys() & s2.keys():
            x, y = s1[name], s2[name]
            if math.isfinite(x) and math.isfinite(y):
                out[f"score:{name}"][(v.prompt_id, pair)] = "first" if x > y else "second" if y > x else "tie"
    return dict(out)


def _ratings(engine: Engine) -> tuple[list[dict[str, Any]], float | None]:
    from alignlab.evaluate.stats import mean_ci

    with engine.connect() as conn:
        rows = conn.execute(select(Rating.annotator_id, Rating.response_id, Rating.model, Rating.principle,
                                   Rating.score).order_by(Rating.id)).all()
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    latest: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for r in rows:
        groups[(r.model, r.principle)].append(float(r.score))
        latest[(r.response_id, r.principle)][r.annotator_id] = r.score
    table = []
    for (model, principle), values in sorted(groups.items()):
        ci = mean_ci(values)
        table.append({"model": model, "principle": principle, "n": len(values), "mean": ci["value"],
                      "ci": ci["ci"]})
    shared = [d for d in latest.values() if len(d) >= 2]
    alpha = None
    if shared:
        raters = sorted({r for d in shared for r in d})
        idx = {r: i for i, r in enumerate(raters)}
        mat = np.full((len(raters), len(shared)), np.nan)
        for j, d in enumerate(shared):
            for r, s in d.items():
                mat[idx[r], j] = s
        alpha = krippendorff_alpha(mat, "interval")
    return table, alpha


def arena_stats(engine: Engine, bootstrap: int = 200, seed: int = 0) -> ArenaStats:
    """Everything the leaderboard page shows, computed from the database."""
    from alignlab.evaluate.preferences import battles_from_records, leaderboard, win_matrix

    stored = _votes(engine)
    votes = latest_votes(stored)
    board, models, wins, games = None, [], [], []
    if votes:
        battles = battles_from_records({"model_a": v.model_a, "model_b": v.model_b, "winner": v.winner}
                                       for v in votes)
        board = leaderboard(battles, bootstrap=bootstrap, seed=seed)
        models = board.models
        order = [battles.models.index(m) for m in models]
        w = win_matrix(battles.a, battles.b, battles.outcome, len(battles.models))[np.ix_(order, order)]
        wins = w.round(1).tolist()
        games = (w + w.T).round().astype(int).tolist()
    ratings, rating_alpha = _ratings(engine)
    return ArenaStats(models=models, leaderboard=board, wins=wins, games=games, n_votes=len(stored),
                      outcomes=dict(Counter(v.winner for v in stored)), agreement=agreement(votes),
                      sources=source_agreement(votes, _verdicts(engine, votes)), ratings=ratings,
                      rating_alpha=rating_alpha, n_counted=len(votes))


def annotator_stats(engine: Engine) -> list[dict[str, Any]]:
    """Per annotator: votes, votes superseded by their own later vote on the same item (not counted), ratings,
    share of ties/both-bad, and their last activity (for the admin page)."""
    from sqlalchemy import func

    with engine.connect() as conn:
        people = conn.execute(select(Annotator.id, Annotator.name, Annotator.active).order_by(Annotator.name)).all()
        votes = {r[0]: r[1:] for r in conn.execute(
            select(Vote.annotator_id, func.count(), func.max(Vote.created_at)).group_by(Vote.annotator_id))}
        ties = dict(conn.execute(select(Vote.annotator_id, func.count())
                                 .where(Vote.winner.in_(("tie", "tie (bothbad)"))).group_by(Vote.annotator_id)).all())
        rated = dict(conn.execute(select(Rating.annotator_id, func.count()).group_by(Rating.annotator_id)).all())
    stored = _votes(engine)
    superseded = Counter(v.annotator_id for v in stored) - Counter(v.annotator_id for v in latest_votes(stored))
    out = []
    for p in people:
        n, last = votes.get(p.id, (0, None))
        out.append({"id": p.id, "name": p.name, "active": p.active, "votes": n, "superseded": superseded[p.id],
                    "ratings": rated.get(p.id, 0),
                    "tie_share": ties.get(p.id, 0) / n if n else None, "last": last})
    return out
