"""The Lasso problem as the coordinate solvers see it: centred, weighted, never densified or copied whole.

See :mod:`skpar.kernels._cd` for the formulation (residual kept as ``r + c``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: rows per chunk of a dense product whose operands differ in dtype (float32 X against a float64 vector): NumPy would
#: otherwise make a float64 copy of all of X for the one product
PRODUCT_ROWS = 1 << 16


def dense_t_dot(X, v):
    """``X.T @ v`` in float64 without a float64 copy of a float32 X (row chunks, each upcast on its own)."""
    if sp.issparse(X) or X.dtype == np.float64:
        return np.asarray(X.T @ v).ravel()
    out = np.zeros(X.shape[1])
    for a in range(0, X.shape[0], PRODUCT_ROWS):
        out += X[a:a + PRODUCT_ROWS].T @ v[a:a + PRODUCT_ROWS]
    return out


def dense_dot(X, w):
    """``X @ w`` in float64 without a float64 copy of a float32 X."""
    if sp.issparse(X) or X.dtype == np.float64:
        return np.asarray(X @ w).ravel()
    out = np.empty(X.shape[0])
    for a in range(0, X.shape[0], PRODUCT_ROWS):
        out[a:a + PRODUCT_ROWS] = X[a:a + PRODUCT_ROWS] @ w
    return out


@dataclass
class LassoData:
    """X (C- or F-ordered dense, or CSC), centred targets and the column statistics every solver needs.

    ``s`` are the sample weights scaled to sum to ``n``; ``xbar`` the weighted column means (zeros without an
    intercept); ``colsum = n * xbar``; ``L`` the weighted centred squared column norms over ``n``.
    """

    X: object
    yc: np.ndarray
    s: np.ndarray
    xbar: np.ndarray
    colsum: np.ndarray
    L: np.ndarray
    ybar: float

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @classmethod
    def build(cls, X, y, sample_weight, fit_intercept):
        n = X.shape[0]
        s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * (n / np.sum(sample_weight))
        if sp.issparse(X):
            X = X.tocsc()
            X.sort_indices()
            sq = np.asarray(X.multiply(X).T @ s).ravel()
            colsum = np.asarray(X.T @ s).ravel() if fit_intercept else np.zeros(X.shape[1])
        else:
            # in row chunks: no n x d temporary for X * X
            sq = np.zeros(X.shape[1])
            step = max(1, (1 << 21) // max(X.shape[1], 1))
            for a in range(0, n, step):
                xa = X[a:a + step]
                sq += (xa * xa).T @ s[a:a + step]
            colsum = dense_t_dot(X, s) if fit_intercept else np.zeros(X.shape[1])
        xbar = colsum / n
        ybar = float(s @ y / n) if fit_intercept else 0.0
        L = np.maximum(sq / n - xbar * xbar, 0.0)
        return cls(X, np.asarray(y, float) - ybar, s, xbar, colsum, L, ybar)

    def residual(self, w):
        """The exact centred residual ``yc - (X - xbar) w`` (offset folded in)."""
        if not w.any():
            return self.yc.copy()
        return self.yc - dense_dot(self.X, w) + float(self.xbar @ w)

    def gradient(self, r):
        """``z = (X - xbar)^T (s * r) / n`` for every column (one pass over X)."""
        sr = self.s * r
        return (dense_t_dot(self.X, sr) - self.xbar * sr.sum()) / self.n
