"""Style control (Chatbot Arena's): Bradley–Terry with style-difference covariates, fitted by weighted Newton.

logit P(a beats b) = theta_a - theta_b + gamma . z, where z holds the standardised normalised differences of the
style features, (s_a - s_b) / (s_a + s_b + 1), as in Arena's ``construct_style_matrices``. theta are then the
strengths with style held equal. Written by hand (Arena refits scikit-learn per round): the Newton system is
assembled from per-model and per-pair sums (``np.bincount``), so no dense (n, M + S) design matrix is ever built,
and bootstrap rounds are solved in batches by chord iterations (see ``bootstrap_style_bt``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

_DENSE_LIMIT = 30_000_000  # entries of a dense (M, n) battle matrix (240 MB)


def style_matrix(style_a: np.ndarray, style_b: np.ndarray) -> np.ndarray:
    """(n, S) standardised normalised style differences; constant columns become zeros."""
    diff = (style_a - style_b) / (style_a + style_b + 1.0)  # Arena's add_one ratio: scale-free, bounded in (-1, 1)
    sd = diff.std(axis=0)
    return (diff - diff.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _penalty(m: int, s: int, l2: float) -> np.ndarray:
    """(M+S, M+S) Hessian of the penalty: ridge ``l2`` plus ``(sum theta)^2 / 2``, which fixes the shift the
    likelihood cannot see and keeps every Newton system positive definite."""
    pen = l2 * np.eye(m + s)
    pen[:m, :m] += 1.0
    return pen


def _hessian(a: np.ndarray, b: np.ndarray, z: np.ndarray, v: np.ndarray, m: int) -> np.ndarray:
    """Minus the log-likelihood's Hessian from per-battle curvature v (n,), via per-pair and per-model sums."""
    s = z.shape[1]
    hess = np.empty((m + s, m + s))
    pair = np.bincount(a * m + b, v, m * m).reshape(m, m)
    pair = pair + pair.T
    hess[:m, :m] = np.diag(pair.sum(1)) - pair
    vz = v[:, None] * z  # (n, S)
    cross = np.stack([np.bincount(a, vz[:, k], m) - np.bincount(b, vz[:, k], m) for k in range(s)], axis=1)
    hess[:m, m:] = cross
    hess[m:, :m] = cross.T
    hess[m:, m:] = z.T @ vz
    return hess


def fit_style_bt(a: np.ndarray, b: np.ndarray, y: np.ndarray, z: np.ndarray, m: int, l2: float = 1e-6,
                 max_iter: int = 50, tol: float = 1e-9) -> np.ndarray:
    """MLE of (theta (M,), gamma (S,)) concatenated; y in {0, 0.5, 1} (a tie is half a win each way)."""
    s = z.shape[1]
    beta = np.zeros(m + s)
    pen = _penalty(m, s, l2)

    def objective(bt: np.ndarray) -> float:
        eta = bt[a] - bt[b] + z @ bt[m:]
        ll = -(y * np.logaddexp(0.0, -eta) + (1.0 - y) * np.logaddexp(0.0, eta)).sum()
        return float(ll - 0.5 * bt @ pen @ bt)

    f = objective(beta)
    for _ in range(max_iter):
        p = expit(beta[a] - beta[b] + z @ beta[m:])
        r = y - p  # (n,) score residuals
        grad = np.concatenate([np.bincount(a, r, m) - np.bincount(b, r, m), z.T @ r]) - pen @ beta
        step = np.linalg.solve(_hessian(a, b, z, p * (1.0 - p), m) + pen, grad)
        t = 1.0
        for _ in range(30):  # backtracking keeps the damped Newton monotone
            f_new = objective(beta + t * step)
            if f_new >= f - 1e-12 * abs(f):
                break
            t *= 0.5
        beta, f = beta + t * step, f_new
        if np.abs(t * step).max() < tol:
            break
    return beta


def bootstrap_style_bt(a: np.ndarray, b: np.ndarray, y: np.ndarray, z: np.ndarray, m: int, rounds: int,
                       rng: np.random.Generator, start: np.ndarray, l2: float = 1e-6, chunk: int = 50,
                       max_iter: int = 50, tol: float = 1e-6) -> np.ndarray:
    """(rounds, M + S) exact refits on multinomial resamples of the battles (as row weights), ``chunk`` at a time.

    Chord iterations from the full-data fit ``start``: beta <- beta + H0^-1 g_b(beta) with H0 the full-data
    Hessian, factored once. A resample moves the optimum by O(1/sqrt(n)), so this converges to each round's own
    MLE in a few steps, for all rounds of a chunk at once. Costs O(rounds * n), unlike the aggregated plain
    Bradley–Terry bootstrap; rounds that do not converge are refitted by weighted Newton.
    """
    from scipy.linalg import cho_factor, cho_solve
    from scipy.sparse import csr_matrix

    n, s = a.size, z.shape[1]
    pen = _penalty(m, s, l2)
    p0 = expit(start[a] - start[b] + z @ start[m:])
    h0 = cho_factor(_hessian(a, b, z, p0 * (1.0 - p0), m) + pen)
    # x_a - x_b for every battle as an (M, n) matrix: dense while it fits (BLAS beats gathers ~5x), else sparse.
    diff: np.ndarray | csr_matrix
    dense = m * n <= _DENSE_LIMIT
    if dense:
        diff = np.zeros((m, n))
        diff[a, np.arange(n)] = 1.0
        diff[b, np.arange(n)] = -1.0
    else:
        cols = np.concatenate([np.arange(n), np.arange(n)])
        diff = csr_matrix((np.concatenate([np.ones(n), -np.ones(n)]), (np.concatenate([a, b]), cols)), shape=(m, n))
    out = np.empty((rounds, m + s))
    for c0 in range(0, rounds, chunk):
        k = min(chunk, rounds - c0)
        w = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(k)]).astype(float)  # (k, n)
        beta = np.tile(start, (k, 1))  # (k, M+S)
        for _ in range(max_iter):
            # Row-major products only: the transposed forms are ~10x slower here.
            eta = (beta[:, :m] @ diff if dense else (diff.T @ beta[:, :m].T).T) + beta[:, m:] @ z.T  # (k, n)
            r = w * (y - expit(eta))  # (k, n)
            g_model = r @ diff.T if dense else (diff @ r.T).T  # (k, M)
            grad = np.concatenate([g_model, r @ z], axis=1) - beta @ pen  # (k, M+S)
            step = cho_solve(h0, grad.T).T
            beta += step
            if np.abs(step).max() < tol:
                break
        else:  # a resample far from the full data: no shortcut, fit it properly
            for i in np.flatnonzero(np.abs(step).max(1) >= tol):
                keep = w[i] > 0
                beta[i] = _weighted_fit(a[keep], b[keep], y[keep], z[keep], w[i, keep], m, l2)
        out[c0:c0 + k] = beta
    return out


def _weighted_fit(a: np.ndarray, b: np.ndarray, y: np.ndarray, z: np.ndarray, w: np.ndarray, m: int,
                  l2: float) -> np.ndarray:
    """A weighted fit through the unweighted one: integer weights are repeated battles."""
    reps = w.astype(np.int64)
    return fit_style_bt(np.repeat(a, reps), np.repeat(b, reps), np.repeat(y, reps), np.repeat(z, reps, axis=0), m,
                        l2)
