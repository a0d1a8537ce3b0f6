"""L-BFGS on the softmax cross-entropy, plain against centred coordinates (what ``parallel/_multinomial.py`` does
with intercepts): scipy's L-BFGS-B on the whole training set in one process, the objective of
:mod:`skpar.parallel._multinomial` at alpha = 1e-4, gradient bound 1e-4. Centred, it moves ``(W, b')`` with
``b = b' - W mu`` (``mu`` the rows' mean): the same optimum. Prints iterations, evaluations, seconds and test
accuracy for each.

Usage: python asv_bench/scripts/multinomial_centring.py [fashion_mnist|newsgroups]
"""

import os
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402

ALPHA = 1e-4


def fit(X, t, K, mu):
    """L-BFGS-B from zero with the scores ``W (x - mu) + b'``; returns ``(W, b, result)``."""
    n, d = X.shape

    def f(x):
        W, b = x[:K * d].reshape(K, d), x[K * d:]
        Z = np.asarray(X @ W.T) + (b - W @ mu)
        lse = logsumexp(Z, axis=1)
        loss = (lse - Z[np.arange(n), t]).sum() / n + 0.5 * ALPHA * (W * W).sum()
        G = np.exp(Z - lse[:, None])
        G[np.arange(n), t] -= 1.0
        G /= n
        gB = G.sum(axis=0)
        gW = np.asarray((X.T @ G).T) - np.outer(gB, mu) + ALPHA * W
        return loss, np.concatenate([gW.ravel(), gB])

    res = minimize(f, np.zeros(K * d + K), jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-4})
    W = res.x[:K * d].reshape(K, d)
    return W, res.x[K * d:] - W @ mu, res


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "fashion_mnist"
    Xtr, ytr, Xte, yte, _ = load(name)
    classes = np.unique(ytr)
    t = np.searchsorted(classes, ytr)
    mu = np.asarray(Xtr.mean(axis=0)).ravel()
    for label, centre in [("centred", mu), ("plain", np.zeros_like(mu))]:
        start = time.perf_counter()
        W, b, res = fit(Xtr, t, len(classes), centre)
        acc = float((np.argmax(np.asarray(Xte @ W.T) + b, axis=1) == np.searchsorted(classes, yte)).mean())
        print(f"{name} {label}: {res.nit} iterations, {res.nfev} evaluations, {time.perf_counter() - start:.1f} s, "
              f"test accuracy {acc:.4f}, objective {res.fun:.6f}")


if __name__ == "__main__":
    main()
