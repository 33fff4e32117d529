"""Win rates against a baseline: raw, discrete and AlpacaEval 2's length-controlled, with standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from alignlab.evaluate.preferences import length_controlled, preferences_from_scores, win_rate


def test_raw_and_discrete_win_rates_on_a_hand_example() -> None:
    prefs = [1.0, 0.0, 0.5, 0.8, 0.3]  # a win, a loss, a tie and two soft verdicts
    r = win_rate(prefs)
    assert r.win_rate == pytest.approx(0.52)
    assert r.standard_error == pytest.approx(np.std(prefs, ddof=1) / math.sqrt(5))
    assert (r.n_wins, r.n_wins_base, r.n_draws, r.n_total) == (2, 2, 1, 5)
    assert r.discrete_win_rate == pytest.approx((2 + 1 / 2) / 5)  # AlpacaEval: (wins + draws / 2) / n
    assert r.discrete_standard_error == pytest.approx(np.std([1, 0, 0.5, 1, 0], ddof=1) / math.sqrt(5))
    assert r.length_controlled_win_rate is None and r.lc_standard_error is None


def test_preferences_from_reward_scores() -> None:
    assert preferences_from_scores([2.0, 1.0, 3.0], [1.0, 1.0, 4.0]).tolist() == [1.0, 0.5, 0.0]
    soft = preferences_from_scores([2.0], [1.0], soft=True)
    assert soft[0] == pytest.approx(1 / (1 + math.exp(-1)))


@pytest.mark.parametrize("prefs", [[], [1.2], [float("nan")], [[0.5]]])
def test_rejects_bad_preferences(prefs: list) -> None:
    with pytest.raises(ValueError):
        win_rate(prefs)


def _verbose_model(n: int, seed: int, skill: float = 0.0, length_effect: float = 2.5):
    """A judge that rewards length: the model is ``skill`` better and its answers vary from much shorter to much
    longer than the baseline's, mostly longer."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(800, 1200, n)
    model = base * rng.lognormal(0.7, 0.8, n)
    dlen = model - base
    p = 1 / (1 + np.exp(-(skill + length_effect * np.tanh(dlen / dlen.std(ddof=1)))))
    return (rng.random(n) < p).astype(float), model, base


def test_lc_win_rate_is_even_when_the_model_wins_only_by_length() -> None:
    prefs, model, base = _verbose_model(805, seed=1)
    r = win_rate(prefs, model_lengths=model, baseline_lengths=base, bootstrap=200)
    assert r.win_rate > 0.65  # raw: length wins
    assert r.length_controlled_win_rate == pytest.approx(0.5, abs=0.06)
    assert 0.005 < r.lc_standard_error < 0.05
    assert abs(r.length_controlled_win_rate - 0.5) < 2.5 * r.lc_standard_error
    assert r.glm_weights["length"] == pytest.approx(2.5, abs=0.5)


def test_lc_win_rate_keeps_a_real_skill_gap() -> None:
    prefs, model, base = _verbose_model(805, seed=1, skill=1.0, length_effect=0.0)
    r = win_rate(prefs, model_lengths=model, baseline_lengths=base, bootstrap=100)
    assert r.length_controlled_win_rate == pytest.approx(1 / (1 + math.exp(-1.0)), abs=0.05)
    assert abs(r.length_controlled_win_rate - r.win_rate) < 0.03


def test_lc_glm_matches_an_independent_l1_fit() -> None:
    prefs, model, base = _verbose_model(400, seed=2, skill=0.3)
    prefs = np.where(np.arange(400) % 10 == 0, 0.5, prefs)  # some ties as soft labels
    difficulty = np.random.default_rng(3).normal(0, 1, 400)
    lc, _, weights = length_controlled(prefs, model, base, difficulty, c=100.0, bootstrap=0)
    dlen = model - base
    x = np.stack([np.ones(400), np.tanh(dlen / dlen.std(ddof=1)), difficulty], 1)

    def objective(uv: np.ndarray) -> tuple[float, np.ndarray]:  # liblinear's L1 objective with beta = u - v
        beta = uv[:3] - uv[3:]
        eta = x @ beta
        loss = (prefs * np.logaddexp(0, -eta) + (1 - prefs) * np.logaddexp(0, eta)).sum()
        g = 100.0 * x.T @ (1 / (1 + np.exp(-eta)) - prefs)
        return 100.0 * float(loss) + float(uv.sum()), np.concatenate([g + 1, -g + 1])

    res = minimize(objective, np.zeros(6), jac=True, method="L-BFGS-B", bounds=[(0, None)] * 6,
                   options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000})
    res.x = res.x[:3] - res.x[3:]
    x[:, 1] = 0.0
    assert lc == pytest.approx(float(np.mean(1 / (1 + np.exp(-(x @ res.x))))), abs=1e-5)


def test_l1_sets_a_useless_coefficient_to_exactly_zero() -> None:
    prefs, model, base = _verbose_model(200, seed=4, skill=0.5, length_effect=0.0)
    _, _, weights = length_controlled(prefs, model, base, c=0.01, bootstrap=0)  # strong penalty
    assert weights["length"] == 0.0


def test_lengths_must_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="both"):
        win_rate([1.0, 0.0], model_lengths=[1, 2])
    with pytest.raises(ValueError, match="length pairs"):
        win_rate([1.0, 0.0], model_lengths=[1, 2, 3], baseline_lengths=[1, 2, 3])
