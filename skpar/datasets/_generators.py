"""Generated data with the properties that make parallel optimisation hard: correlated columns and noise."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state


def make_correlated_regression(n_samples=100_000, n_features=100, *, condition_number=1e4, noise=1.0,
                               dtype=np.float64, random_state=None):
    """Regression data whose feature covariance has a given condition number.

    Rows are :math:`x = z\\, \\Lambda^{1/2} Q^\\top` with Gaussian ``z``, a random rotation ``Q`` and eigenvalues
    log-spaced from 1 down to ``1 / condition_number``; targets are :math:`y = x^\\top w^* + 1 + \\varepsilon` with
    :math:`w^* \\sim N(0, I)` and Gaussian noise of standard deviation ``noise``. Generated in chunks, so the only
    large allocation is X itself.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    condition_number : float, default=1e4
        Ratio of the largest to the smallest eigenvalue of :math:`E[x x^\\top]`.
    noise : float, default=1.0
        Standard deviation of the additive noise.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        dtype of X.
    random_state : int, RandomState instance or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows.
    y : ndarray of shape (n_samples,)
        The targets.
    w : ndarray of shape (n_features,)
        The true weights (the intercept is 1).
    """
    rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    eig = np.logspace(0, -np.log10(condition_number), n_features)
    Q, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    A = (np.sqrt(eig)[:, None] * Q.T).astype(dtype)
    w = rng.standard_normal(n_features)
    X = np.empty((n_samples, n_features), dtype=dtype)
    y = np.empty(n_samples)
    step = 1 << 16
    for a in range(0, n_samples, step):
        b = min(a + step, n_samples)
        X[a:b] = rng.standard_normal((b - a, n_features), dtype=np.float32 if dtype == np.float32 else np.float64) @ A
        y[a:b] = X[a:b] @ w + 1.0 + noise * rng.standard_normal(b - a)
    return X, y, w


def make_sparse_design(n_samples, n_features, nnz_per_row, *, dtype=np.float64, random_state=None):
    """A CSR matrix with ``nnz_per_row`` Gaussian non-zeros in every row, at uniformly random columns.

    Built row-wise in O(nnz) memory (``scipy.sparse.random`` samples from all ``n_samples * n_features`` cells,
    which needs gigabytes at benchmark sizes). Column indices within a row are sorted and distinct.

    Parameters
    ----------
    n_samples, n_features : int
        Shape.
    nnz_per_row : int
        Non-zeros in each row (at most ``n_features``).
    dtype : numpy dtype, default=numpy.float64
        The dtype of the values.
    random_state : int, RandomState instance or None
        Seed.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The design matrix.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    k = int(min(nnz_per_row, n_features))
    # draw k distinct columns per row: oversample with replacement, then repair the rare duplicates
    cols = np.sort(rng.integers(0, n_features, size=(n_samples, k)), axis=1)
    dup = np.zeros_like(cols, dtype=bool)
    dup[:, 1:] = cols[:, 1:] == cols[:, :-1]
    for i in np.flatnonzero(dup.any(axis=1)):
        cols[i] = np.sort(rng.choice(n_features, size=k, replace=False))
    data = rng.standard_normal(n_samples * k).astype(dtype)
    indptr = np.arange(0, n_samples * k + 1, k, dtype=np.int64)
    return sp.csr_matrix((data, cols.ravel(), indptr), shape=(n_samples, n_features))
