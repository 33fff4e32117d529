"""Benchmark Bradley–Terry ratings: 200,000 synthetic battles among 30 models, 1,000 bootstrap rounds.

Side by side in one run: the shipped path (battles aggregated into (a, b, outcome) cells, multinomial resampling of
cell counts, all rounds fitted in one batched Newton solve), the same fit looped round by round, and a row-level
bootstrap refitting a logistic regression on the 200k-row design matrix (scipy L-BFGS; timed on a few rounds and
scaled to 1,000). Peers in the same run: the whole `alignlab ratings` command as a process (start-up included), and
FastChat's released bootstrap (`fschat` 0.2.36 from PyPI, installed into its own venv: `get_bootstrap_result` with
`compute_elo_mle_with_tie`, row resampling + scikit-learn's logistic regression; timed on a few rounds and scaled to
1,000). Its newer `compute_bootstrap_bt` (aggregated counts, FastChat PR 3523) is not in any PyPI release, so it is
not run. Accuracy against the true strengths is reported too.

    python bench/ratings.py            # the full benchmark (~1 minute on 2 cores)
    python bench/ratings.py --quick    # 20,000 battles
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from _venv import TORCH, venv_python  # noqa: E402
from alignlab.evaluate.preferences import leaderboard, read_battles, to_elo  # noqa: E402
from alignlab.evaluate.preferences._bt import bootstrap_bt, fit_bt, win_matrix  # noqa: E402

WINNER = {1.0: "model_a", 0.0: "model_b", 0.5: "tie"}


def synthetic(n: int, m: int, seed: int = 0, tie: float = 0.1) -> tuple[list[dict], np.ndarray]:
    """Battle records drawn from strengths ~ N(0, 0.8^2); ties keep the expected score at p."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 0.8, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    p = 1 / (1 + np.exp(-(theta[a] - theta[b])))
    decisive = np.clip((p - tie / 2) / (1 - tie), 0, 1)
    out = np.where(rng.random(n) < tie, 0.5, np.where(rng.random(n) < decisive, 1.0, 0.0))
    names = [f"model-{i:02d}" for i in range(m)]
    rows = [{"model_a": names[i], "model_b": names[j], "winner": WINNER[o]}
            for i, j, o in zip(a.tolist(), b.tolist(), out.tolist(), strict=True)]
    return rows, theta


def row_bootstrap_round(a: np.ndarray, b: np.ndarray, y: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """One round as a row-level bootstrap does it: resample rows, fit a logistic regression on the design matrix."""
    from scipy.optimize import minimize

    idx = rng.integers(0, a.size, a.size)
    ai, bi, yi = a[idx], b[idx], y[idx]

    def nll(w: np.ndarray) -> tuple[float, np.ndarray]:
        th = np.concatenate([[0.0], w])
        eta = th[ai] - th[bi]
        r = 1 / (1 + np.exp(-eta)) - yi
        g = np.bincount(ai, r, m) - np.bincount(bi, r, m)
        loss = yi * np.logaddexp(0, -eta) + (1 - yi) * np.logaddexp(0, eta)
        return float(loss.sum()), g[1:]

    return minimize(nll, np.zeros(m - 1), jac=True, method="L-BFGS-B", options={"gtol": 1e-8}).x


# elo_analysis imports fastchat.model, which imports torch and transformers
FASTCHAT = ["fschat==0.2.36", TORCH, "transformers", "accelerate", "pandas", "scikit-learn", "plotly", "pytz", "tqdm",
            "psutil"]
FASTCHAT_DRIVER = """
import sys, time, pandas as pd
from fastchat.serve.monitor.elo_analysis import compute_elo_mle_with_tie, get_bootstrap_result
battles = pd.read_json(sys.argv[1], lines=True)
t = time.perf_counter()
get_bootstrap_result(battles, compute_elo_mle_with_tie, int(sys.argv[2]))
print(time.perf_counter() - t)
"""


def fastchat_bootstrap(path: Path, rounds: int) -> float:
    """Seconds FastChat's released bootstrap takes for ``rounds`` rounds on the battles in ``path``."""
    py = venv_python("fschat", FASTCHAT)
    out = subprocess.run([str(py), "-c", FASTCHAT_DRIVER, str(path), str(rounds)], check=True, capture_output=True,
                         text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    return float(out.stdout.strip().splitlines()[-1])


def command_seconds(path: Path, rounds: int) -> float:
    """Wall time of ``alignlab ratings PATH`` as a new process, start-up included."""
    exe = Path(sys.executable).with_name("alignlab")
    t = time.perf_counter()
    subprocess.run([str(exe), "ratings", str(path), "-b", str(rounds), "-f", "csv"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def timed(fn, *args, **kwargs):  # noqa: ANN001, ANN201
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--battles", type=int, default=200_000)
    ap.add_argument("--models", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--fastchat-rounds", type=int, default=5, help="FastChat rounds timed (then scaled)")
    args = ap.parse_args()
    n = 20_000 if args.quick else args.battles
    m, rounds = args.models, args.rounds
    load_before = os.getloadavg()[0]

    rows, theta_true = synthetic(n, m)
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / "battles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    battles, t_read = timed(read_battles, path)
    a, b, y = battles.a, battles.b, battles.outcome
    order = np.array([int(name.split("-")[1]) for name in battles.models])  # reader order -> true index
    truth = theta_true[order]

    w, t_agg = timed(win_matrix, a, b, y, m)
    theta, t_fit = timed(fit_bt, w)
    boot, t_boot = timed(bootstrap_bt, a, b, y, m, rounds, np.random.default_rng(0))

    def looped() -> None:
        for r in range(rounds):
            bootstrap_bt(a, b, y, m, 1, np.random.default_rng(r))

    _, t_loop = timed(looped)
    k_rows = 3
    rng = np.random.default_rng(1)
    _, t_rows = timed(lambda: [row_bootstrap_round(a, b, y, m, rng) for _ in range(k_rows)])
    board, t_board = timed(leaderboard, battles, bootstrap=rounds, seed=0)
    # Style control revisits every battle per round; random lengths stand in for real style counts.
    lengths = np.random.default_rng(2).uniform(100, 600, (2, n))
    zeros = np.zeros(n)
    styled = replace(battles, style_a=np.stack([lengths[0], zeros, zeros, zeros], 1),
                     style_b=np.stack([lengths[1], zeros, zeros, zeros], 1))
    style_rounds = max(rounds // 10, 1)
    _, t_style = timed(leaderboard, styled, bootstrap=style_rounds, seed=0, style_control=True)
    t_command = command_seconds(path, rounds)
    t_fastchat = fastchat_bootstrap(path, args.fastchat_rounds) / args.fastchat_rounds * rounds
    tmp.cleanup()
    load_after = os.getloadavg()[0]

    rating, truth_elo = to_elo(theta, battles.models), to_elo(truth, battles.models)
    lo, hi = np.percentile(to_elo(boot, battles.models), [2.5, 97.5], axis=0)
    from scipy.stats import spearmanr

    rho = spearmanr(rating, truth_elo).statistic
    err = np.abs(rating - truth_elo)
    coverage = float(((lo <= truth_elo) & (truth_elo <= hi)).mean())
    end_to_end = t_read + t_board
    body = f"""
{n:,} synthetic battles (10% ties) among {m} models with known strengths; {rounds:,} bootstrap rounds.
Load average (1 min) on this shared machine: {load_before:.1f} before, {load_after:.1f} after.

| step | seconds |
|---|---:|
| read JSONL (`read_battles`) | {t_read:.2f} |
| aggregate into a win matrix | {t_agg:.3f} |
| Bradley–Terry MLE (batched Newton) | {t_fit:.3f} |
| **bootstrap, {rounds:,} rounds: aggregated cells + one batched fit (shipped)** | **{t_boot:.2f}** |
| bootstrap, {rounds:,} rounds: same fit, one round at a time | {t_loop:.2f} |
| bootstrap, {rounds:,} rounds: resample rows + L-BFGS on the design matrix (scaled from {k_rows} rounds) \
| {t_rows / k_rows * rounds:.0f} |
| `leaderboard()` end to end: MLE + {rounds:,}-round bootstrap + ranks + online Elo | {t_board:.2f} |
| **`alignlab ratings` work: read + `leaderboard()`** | **{end_to_end:.2f}** |
| **`alignlab ratings FILE -f csv` as a new process (start-up, read, fit, bootstrap, output)** | **{t_command:.2f}** |
| FastChat 0.2.36 `get_bootstrap_result(compute_elo_mle_with_tie)`, {rounds:,} rounds (scaled from \
{args.fastchat_rounds}) | {t_fastchat:.0f} |
| **FastChat's bootstrap / alignlab's bootstrap** | **{t_fastchat / t_boot:.0f}×** |
| `leaderboard(style_control=True)`, {style_rounds} rounds (batched chord refits over all battles) | {t_style:.2f} |

Recovery of the true strengths: Spearman rho = {rho:.4f}; |rating - truth| mean {err.mean():.1f}, max
{err.max():.1f} Elo points; 95% bootstrap CIs cover the true rating for {coverage:.0%} of models; median CI width
{np.median(hi - lo):.1f} Elo points. Targets (issue 20): the command ≤ 1.5 s end to end on 2 idle cores, the bootstrap
≥ 3× FastChat's.
"""
    write_section("ratings", body)


if __name__ == "__main__":
    main()
