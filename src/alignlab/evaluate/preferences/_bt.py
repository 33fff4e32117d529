"""Bradley–Terry maximum likelihood on aggregated win counts, batched over bootstrap rounds.

Written by hand: no library fits many Bradley–Terry problems at once. Battles collapse into cells — distinct
(model_a, model_b, outcome) triples — so a multinomial bootstrap resamples cell counts (numpy's multinomial) instead
of rows, and each round's fit works on an (M, M) win matrix, never on the battles. Fits are damped Newton steps on
the concave log-likelihood, all rounds in one batch of (R, M, M) arrays, started from the full data's MLE (a
resample's optimum is near it, so two to four steps converge). numpy only: scipy's import costs a command line
more than the whole bootstrap.
"""

from __future__ import annotations

import numpy as np

# Entries of a (chunk, M, M) array per bootstrap chunk: keeps memory near 100 MB even for Arena's ~200 models.
_CHUNK_ELEMENTS = 2_000_000


def aggregate(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (a, b, outcome) cells and their counts: (K,) cell codes ``(a*M + b)*3 + o`` and (K,) counts."""
    o = np.rint(outcome * 2).astype(np.int64)  # 0 = b won, 1 = tie, 2 = a won
    codes, counts = np.unique((a * m + b) * 3 + o, return_counts=True)
    return codes, counts.astype(float)


class CellMap:
    """Maps (R, K) cell counts to (R, M*M) flattened win matrices W[i, j] = wins of i over j, a tie half each way.

    Each cell adds a share of its count to two entries; entries are summed with ``np.add.reduceat`` over the
    contributions sorted by entry (a sparse product without scipy).
    """

    def __init__(self, codes: np.ndarray, m: int) -> None:
        pair, o = np.divmod(codes, 3)
        i, j = np.divmod(pair, m)
        k = np.arange(codes.size)
        src = np.concatenate([k, k])
        dst = np.concatenate([i * m + j, j * m + i])
        vals = np.concatenate([o / 2.0, 1.0 - o / 2.0])  # share of the cell that is a win of i, resp. of j
        keep = vals > 0
        order = np.argsort(dst[keep], kind="stable")
        self.src, self.vals, dst = src[keep][order], vals[keep][order], dst[keep][order]
        self.entries, self.starts = np.unique(dst, return_index=True)
        self.size = m * m

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        counts = np.atleast_2d(counts)
        out = np.zeros((counts.shape[0], self.size))
        if self.src.size:
            contrib = counts[:, self.src] * self.vals  # (R, 2K)
            out[:, self.entries] = np.add.reduceat(contrib, self.starts, axis=1)
        return out


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the logistic function, stable for any x


def _objective(w: np.ndarray, theta: np.ndarray, l2: float) -> np.ndarray:
    """(R,) penalised log-likelihood: sum W_ij log sigmoid(theta_i - theta_j) - l2/2 |theta|^2 - (sum theta)^2 / 2."""
    d = theta[:, :, None] - theta[:, None, :]  # (R, M, M)
    ll = -(w * np.logaddexp(0.0, -d)).sum(axis=(1, 2))
    return ll - 0.5 * l2 * (theta**2).sum(-1) - 0.5 * theta.sum(-1) ** 2


def fit_bt(w: np.ndarray, l2: float = 1e-6, max_iter: int = 100, tol: float = 1e-10,
           init: np.ndarray | None = None) -> np.ndarray:
    """Bradley–Terry MLE for a batch of win matrices (R, M, M) -> (R, M) strengths in natural log-odds, mean 0.

    ``l2`` is a tiny ridge (Arena's C = 1e6) so a model that never wins or never loses stays finite. The
    ``(sum theta)^2 / 2`` term pins the mean at zero — the likelihood ignores shifts — and makes every Newton
    system positive definite. ``init`` (M,) starts every fit there instead of at zero.
    """
    w = np.asarray(w, dtype=float)
    squeeze = w.ndim == 2
    w = w[None] if squeeze else w
    r, m, _ = w.shape
    n = w + w.transpose(0, 2, 1)  # (R, M, M) games between i and j
    theta = np.zeros((r, m)) if init is None else np.broadcast_to(np.asarray(init, dtype=float), (r, m)).copy()
    eye = np.eye(m)
    f = _objective(w, theta, l2)
    active = np.ones(r, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        th, wa, na = theta[idx], w[idx], n[idx]
        p = _expit(th[:, :, None] - th[:, None, :])  # (R', M, M) P(i beats j)
        grad = (wa - na * p).sum(-1) - l2 * th - th.sum(-1, keepdims=True)
        v = na * p * (1.0 - p)
        hess = v.sum(-1)[:, :, None] * eye - v + (l2 * eye + 1.0)  # (R', M, M) minus the Hessian
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        # Backtracking: halve the step for the rounds whose objective fell (far from the optimum only).
        t = np.ones(idx.size)
        f_old = f[idx]
        for _ in range(30):
            cand = th + t[:, None] * step
            f_new = _objective(wa, cand, l2)
            bad = f_new < f_old - 1e-12 * np.abs(f_old)
            if not bad.any():
                break
            t[bad] *= 0.5
        theta[idx], f[idx] = cand, f_new
        done = np.abs(t[:, None] * step).max(-1) < tol
        active[idx[done]] = False
        if not active.any():
            break
    return theta[0] if squeeze else theta


def win_matrix(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, m: int) -> np.ndarray:
    """(M, M) W[i, j] = wins of i over j, ties counting half a win each way."""
    codes, counts = aggregate(a, b, outcome, m)
    return CellMap(codes, m)(counts).reshape(m, m)


def bootstrap_bt(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, m: int, rounds: int,
                 rng: np.random.Generator, l2: float = 1e-6, init: np.ndarray | None = None) -> np.ndarray:
    """(rounds, M) strengths refitted on multinomial resamples of the battles (resampling cell counts).

    ``init`` is where each round's fit starts (default: the full data's MLE, fitted here).
    """
    codes, counts = aggregate(a, b, outcome, m)
    to_w = CellMap(codes, m)
    if init is None:
        init = fit_bt(to_w(counts).reshape(m, m), l2)
    total = int(counts.sum())
    draws = rng.multinomial(total, counts / total, size=rounds).astype(float)  # (R, K)
    chunk = max(1, _CHUNK_ELEMENTS // (m * m))
    out = np.empty((rounds, m))
    for s in range(0, rounds, chunk):
        w = to_w(draws[s:s + chunk]).reshape(-1, m, m)  # (chunk, M, M)
        out[s:s + chunk] = fit_bt(w, l2, init=init)
    return out
