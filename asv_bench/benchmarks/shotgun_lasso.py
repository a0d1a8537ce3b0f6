"""ShotgunLasso against scikit-learn's Lasso at alpha = 0.05 alpha_max, dense and sparse CSC-friendly designs."""

import numpy as np
from sklearn.linear_model import Lasso

from skpar import ShotgunLasso
from skpar.datasets import make_sparse_design
from skpar.linear_model import alpha_max

from .common import Benchmark, Estimator, profile_scale


class _Data:
    params = (["dense", "sparse"],)
    param_names = ["representation"]

    def make_data(self, params):
        (representation,) = params
        rng = np.random.default_rng(0)
        scale = profile_scale()
        if representation == "dense":
            n, d = int(50_000 * scale), 2_000
            X = rng.standard_normal((n + n // 10, d))
        else:
            n, d = int(20_000 * scale), 200_000
            X = make_sparse_design(n + n // 10, d, 100, random_state=1)
        w = np.zeros(d)
        w[rng.choice(d, 100, replace=False)] = rng.standard_normal(100)
        y = X @ w + 0.5 * rng.standard_normal(X.shape[0])
        self.alpha = 0.05 * alpha_max(X[:n], y[:n])
        return X[:n], X[n:], y[:n], y[n:]


class ShotgunLassoBenchmark(_Data, Estimator, Benchmark):
    """skpar on 2 threads, tol = 5e-7 (relative gap 1e-6)."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return ShotgunLasso(alpha=self.alpha, tol=5e-7, n_jobs=2)


class LassoBenchmark(_Data, Estimator, Benchmark):
    """The peer: scikit-learn's Lasso at the same tolerance."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return Lasso(alpha=self.alpha, tol=5e-7, max_iter=100_000)
