"""ParallelSGDRegressor's modes on sparse RCV1-like data (400,000 x 47,000, about 75 non-zeros a row at full size):
synchronous rounds, the asynchronous parameter server and Hogwild!, on 1 and 2 threads, three epochs each.

``asv_bench/scripts/async_time_to_target.py`` measures time to a target objective; these suites track fit time.
"""

from functools import lru_cache

import numpy as np

from skpar import ParallelSGDRegressor
from skpar.datasets import make_sparse_design

from .common import Benchmark, Estimator, profile_scale


@lru_cache(maxsize=1)
def _data(scale):
    n = int(400_000 * scale)
    X = make_sparse_design(n + n // 10, 47_000, 75, random_state=0)
    rng = np.random.default_rng(1)
    y = X @ rng.standard_normal(47_000) + 0.1 * rng.standard_normal(X.shape[0])
    return X[:n], X[n:], y[:n], y[n:]


class ModesBenchmark(Estimator, Benchmark):
    """Three epochs of each mode on n_jobs threads (async and Hogwild! are not reproducible run to run)."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    params = (["sync", "async", "hogwild"], [1, 2])
    param_names = ["mode", "n_jobs"]

    def make_data(self, params):
        return _data(profile_scale())  # the same data for every mode: made once, stored once in the cache

    def make_estimator(self, params):
        mode, n_jobs = params
        return ParallelSGDRegressor(solver="sgd", mode=mode, alpha=1e-6, batch_size=16, max_iter=3, tol=None,
                                    n_jobs=n_jobs,
                                    random_state=0)
