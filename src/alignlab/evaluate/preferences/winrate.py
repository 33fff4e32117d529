"""Win rates against a baseline from pairwise verdicts: raw, discrete and AlpacaEval 2's length-controlled.

A preference is the verdict for one instruction in [0, 1]: 1 = the model's output is preferred, 0 = the
baseline's, 0.5 = a tie; anything in between is a soft verdict (a judge's token probability, or a reward model's
``sigmoid(r_model - r_baseline)``). AlpacaEval stores the same thing as 1..2 (1 = baseline): subtract 1.

- raw win rate: the mean preference; standard error = sample SD / sqrt(n) (AlpacaEval's ``standard_error``).
- discrete win rate: each preference rounded to a win (> 0.5), loss (< 0.5) or draw (== 0.5), then
  ``(wins + draws / 2) / n`` (AlpacaEval's ``discrete_win_rate``); standard error likewise.
- length-controlled (LC) win rate: AlpacaEval 2's GLM ``logit p = theta + phi * tanh(dlen / sd(dlen)) [+ psi * d]``
  (theta: the model-vs-baseline term; dlen = model length - baseline length, in characters; d: an optional
  per-instruction difficulty), fitted as L1-regularised logistic regression on soft labels without intercept
  (liblinear's objective ``|beta|_1 + C * weighted log-loss``, C = 100, AlpacaEval's fallback when it does not
  cross-validate C). LC win rate = mean over instructions of the predicted preference at dlen = 0. Its standard
  error comes from a bootstrap over instructions (refitting the GLM; sd(dlen) kept from the full sample).
  AlpacaEval's extra "regularise towards the baseline" rows need its private data and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit


@dataclass(frozen=True)
class WinRate:
    """Win rates of a model against a baseline, as fractions in [0, 1]."""

    win_rate: float
    standard_error: float
    discrete_win_rate: float
    discrete_standard_error: float
    n_wins: int
    n_wins_base: int
    n_draws: int
    n_total: int
    length_controlled_win_rate: float | None = None
    """Predicted win rate at equal length; None without lengths."""
    lc_standard_error: float | None = None
    glm_weights: dict[str, float] = field(default_factory=dict)
    """GLM coefficients: ``model`` (theta), ``length`` (phi), ``difficulty`` (psi, if given)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sem(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0


def preferences_from_scores(model_scores: Sequence[float], baseline_scores: Sequence[float], *,
                            soft: bool = False) -> np.ndarray:
    """Reward-model verdicts: 1/0/0.5 by which score is higher, or ``sigmoid(r_model - r_baseline)`` if ``soft``."""
    d = np.asarray(model_scores, dtype=float) - np.asarray(baseline_scores, dtype=float)
    return expit(d) if soft else np.sign(d) * 0.5 + 0.5


def _l1_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float, max_iter: int = 100,
                 tol: float = 1e-10) -> np.ndarray:
    """(B, p) minimisers of ``|beta|_1 + c * sum_i w_bi * logloss(y_i, x_i beta)``, one per weight row (B, n).

    Written by hand (scikit-learn is not a dependency, and liblinear fits one problem at a time): the same
    proximal Newton method as liblinear's newGLMNET — a quadratic model of the log-loss, minimised with the L1
    term by coordinate descent, then an Armijo line search — vectorised over all B problems at once.
    """
    nb, p = weights.shape[0], x.shape[1]
    beta = np.zeros((nb, p))

    def objective(bt: np.ndarray, rows: np.ndarray) -> np.ndarray:
        eta = bt @ x.T  # (B', n)
        loss = y * np.logaddexp(0.0, -eta) + (1.0 - y) * np.logaddexp(0.0, eta)
        return c * (weights[rows] * loss).sum(1) + np.abs(bt).sum(1)

    active = np.arange(nb)
    f = objective(beta, active)
    for _ in range(max_iter):
        bt, wt = beta[active], weights[active]
        q = expit(bt @ x.T)  # (B', n)
        g = c * (wt * (q - y)) @ x  # (B', p)
        h = c * np.einsum("bn,ni,nj->bij", wt * q * (1.0 - q), x, x) + 1e-12 * np.eye(p)  # (B', p, p)
        d = np.zeros_like(bt)
        for _sweep in range(50):  # coordinate descent on the quadratic model plus |beta + d|_1
            prev = d.copy()
            for k in range(p):
                hk = h[:, k, k]
                z = bt[:, k] + d[:, k] - (g[:, k] + (h[:, k] * d).sum(1)) / hk
                d[:, k] = np.sign(z) * np.maximum(np.abs(z) - 1.0 / hk, 0.0) - bt[:, k]
            if np.abs(d - prev).max() < tol:
                break
        decrease = (g * d).sum(1) + np.abs(bt + d).sum(1) - np.abs(bt).sum(1)  # <= 0
        t = np.ones(active.size)
        for _ls in range(30):
            f_new = objective(bt + t[:, None] * d, active)
            bad = f_new > f[active] + 0.01 * t * decrease + 1e-12 * np.abs(f[active])
            if not bad.any():
                break
            t[bad] *= 0.5
        beta[active], f[active] = bt + t[:, None] * d, f_new
        active = active[np.abs(t[:, None] * d).max(1) >= tol]
        if active.size == 0:
            break
    return beta


def length_controlled(preferences: Sequence[float], model_lengths: Sequence[float],
                      baseline_lengths: Sequence[float], difficulty: Sequence[float] | None = None, *,
                      c: float = 100.0, bootstrap: int = 200, seed: int = 0) -> tuple[float, float, dict[str, float]]:
    """AlpacaEval 2's LC win rate: (LC win rate, bootstrap standard error, GLM weights)."""
    y = np.asarray(preferences, dtype=float)
    dlen = np.asarray(model_lengths, dtype=float) - np.asarray(baseline_lengths, dtype=float)
    if dlen.shape != y.shape:
        raise ValueError(f"{y.size} preferences but {dlen.size} length pairs")
    sd = dlen.std(ddof=1) if y.size > 1 else 0.0
    cols = [np.ones_like(y), np.tanh(dlen / sd) if sd > 0 else np.zeros_like(y)]
    names = ["model", "length"]
    if difficulty is not None:
        cols.append(np.asarray(difficulty, dtype=float))
        names.append("difficulty")
    x = np.stack(cols, axis=1)  # (n, p)
    x_test = x.copy()
    x_test[:, 1] = 0.0  # predict as if model and baseline were equally long
    n = y.size
    rng = np.random.default_rng(seed)
    w = np.ones((1, n))
    if bootstrap:
        w = np.vstack([w, rng.multinomial(n, np.full(n, 1.0 / n), size=bootstrap)])  # (1 + B, n)
    beta = _l1_logistic(x, y, w, c)
    lc = expit(beta @ x_test.T).mean(1)  # (1 + B,)
    se = float(lc[1:].std(ddof=1)) if bootstrap > 1 else 0.0
    return float(lc[0]), se, dict(zip(names, beta[0].tolist(), strict=True))


def win_rate(preferences: Sequence[float], *, model_lengths: Sequence[float] | None = None,
             baseline_lengths: Sequence[float] | None = None, difficulty: Sequence[float] | None = None,
             c: float = 100.0, bootstrap: int = 200, seed: int = 0) -> WinRate:
    """Raw, discrete and (given output lengths) length-controlled win rates with standard errors."""
    p = np.asarray(preferences, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("preferences must be a non-empty 1-D sequence")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("preferences must lie in [0, 1] (1 = model preferred, 0 = baseline, 0.5 = tie)")
    wins, losses = int((p > 0.5).sum()), int((p < 0.5).sum())
    discrete = np.where(p > 0.5, 1.0, np.where(p < 0.5, 0.0, 0.5))
    lc = se = None
    weights: dict[str, float] = {}
    if (model_lengths is None) != (baseline_lengths is None):
        raise ValueError("give both model_lengths and baseline_lengths, or neither")
    if model_lengths is not None and baseline_lengths is not None:
        lc, se, weights = length_controlled(p, model_lengths, baseline_lengths, difficulty, c=c,
                                            bootstrap=bootstrap, seed=seed)
    return WinRate(win_rate=float(p.mean()), standard_error=_sem(p), discrete_win_rate=float(discrete.mean()),
                   discrete_standard_error=_sem(discrete), n_wins=wins, n_wins_base=losses,
                   n_draws=p.size - wins - losses, n_total=int(p.size), length_controlled_win_rate=lc,
                   lc_standard_error=se, glm_weights=weights)
