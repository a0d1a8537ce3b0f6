"""Mixins in scikit-learn's asv style: ``make_data`` and ``make_estimator``, then ``time_fit``, ``peakmem_fit`` and
``track_test_score`` (prediction time and the training score were dropped: three benchmarks a suite keep the quick pass
of every suite short enough for the test run). The data size is set by the profile in the environment variable
SKPAR_BENCH_PROFILE: ``ci`` (tiny: the test suite runs every benchmark once on it), ``fast`` (default), ``regular`` or
``large``.

asv runs every benchmark in a process of its own. The data of every parameter combination and one fitted model of each
are made once per suite, in its ``setup_cache`` (asv stores the result and hands it to each process), not once per
benchmark. Each suite writes its own two-line ``setup_cache`` (asv shares a cache between suites whose ``setup_cache``
is the same function).
"""

import itertools
import os
import time
from abc import ABC, abstractmethod

import numpy as np

PROFILES = {"ci": 0.002, "fast": 0.05, "regular": 0.3, "large": 1.0}


def profile_scale():
    """Fraction of the full-size data the current profile uses."""
    return PROFILES[os.environ.get("SKPAR_BENCH_PROFILE", "fast")]


def _key(params):
    # the values asv hands to setup may be copies of those in ``params`` (its runner process): key by text
    return tuple(str(p) for p in params)


class Benchmark(ABC):
    """Base: asv settings shared by every suite."""

    timer = time.perf_counter
    processes = 1
    timeout = 600
    number = 1
    repeat = (3, 3, 60)

    @property
    @abstractmethod
    def params(self):
        pass


class Estimator(ABC):
    """Fit/predict benchmarks of an estimator: subclasses say how data and estimator are made."""

    @abstractmethod
    def make_data(self, params):
        """Return ``(X, X_test, y, y_test)``."""

    @abstractmethod
    def make_estimator(self, params):
        """Return an unfitted estimator."""

    def make_cache(self):
        """Per parameter combination: the data, one fitted model and what ``make_data`` set on the instance.

        Each suite's ``setup_cache`` returns this: asv keys a cache by where ``setup_cache`` is written, so one
        inherited from here would be shared by every suite."""
        out = {}
        baseline = dict(vars(self))
        for combo in itertools.product(*self.params):
            self.__dict__ = dict(baseline)
            data = self.make_data(combo)
            state = {k: v for k, v in vars(self).items() if k not in baseline}
            X, _, y, _ = data
            # compile kernels outside the timings (numba caches them on disk for the other processes)
            self.make_estimator(combo).fit(X[:500], y[:500])
            out[_key(combo)] = (data, self.make_estimator(combo).fit(X, y), state)
        return out

    def setup(self, cache, *params):
        (self.X, self.X_test, self.y, self.y_test), self.fitted, state = cache[_key(params)]
        self.__dict__.update(state)
        self.estimator = self.make_estimator(params)
        # the first call in a process loads the compiled kernels: outside the timings
        self.make_estimator(params).fit(self.X[:200], self.y[:200])

    def time_fit(self, cache, *args):
        self.estimator.fit(self.X, self.y)

    def peakmem_fit(self, cache, *args):
        self.estimator.fit(self.X, self.y)

    def track_test_score(self, cache, *args):
        return float(self.fitted.score(self.X_test, self.y_test))


def correlated_regression(n_samples, n_features, representation, seed=0):
    """Dense correlated data (condition number 1e4), or a sparse CSR design with ~20 non-zeros a row."""
    from skpar.datasets import make_correlated_regression, make_sparse_design

    n_test = max(1000, n_samples // 10)
    if representation == "dense":
        X, y, _ = make_correlated_regression(n_samples + n_test, n_features, random_state=seed)
    else:
        rng = np.random.default_rng(seed)
        X = make_sparse_design(n_samples + n_test, n_features, 20, random_state=seed)
        w = rng.standard_normal(n_features)
        y = X @ w + 0.5 * rng.standard_normal(X.shape[0])
    return X[:n_samples], X[n_samples:], y[:n_samples], y[n_samples:]


def sparse_classification(n_rows):
    """CSR ``n_rows x 50,000`` with about 50 non-zeros a row, labels from a random hyperplane plus noise."""
    from skpar.datasets import make_sparse_design

    X = make_sparse_design(n_rows, 50_000, 50, random_state=0)
    w = np.random.default_rng(1).standard_normal(50_000)
    y = (X @ w + 0.5 * np.random.default_rng(2).standard_normal(n_rows) > 0).astype(int)
    return X, y


def _load_kernels():
    """Fit each estimator once on tiny dense and sparse data, so that numba's compiled kernels are loaded from its
    cache in this process: asv's forkserver imports the suites once and forks a process per benchmark, which then
    inherits them instead of loading them again (on the ``ci`` profile the loading, about a second a process, was
    most of the run's time)."""
    import warnings

    import scipy.sparse as sp

    from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in (X, sp.csr_matrix(X)):
            for est in (AveragedSGDClassifier(max_iter=2, tol=None, solver="sgd"), AveragedSGDClassifier(),
                        AveragedSGDClassifier(loss="log_loss", max_iter=2),
                        AveragedSGDClassifier(mode="async", max_iter=2, tol=None, n_jobs=2),
                        AveragedSGDClassifier(mode="hogwild", max_iter=2, tol=None, n_jobs=2),
                        DualCoordinateAscentSVM(max_iter=2), DualCoordinateAscentSVM(solver="dual", max_iter=2),
                        ParallelSGDRegressor(max_iter=2, tol=None, solver="sgd"), ParallelSGDRegressor(),
                        ParallelSGDRegressor(mode="async", max_iter=2, tol=None, n_jobs=2),
                        ParallelSGDRegressor(mode="hogwild", max_iter=2, tol=None, n_jobs=2),
                        ShotgunLasso(max_iter=2)):
                est.fit(data, y)


if os.environ.get("SKPAR_BENCH_PROFILE") == "ci":
    _load_kernels()
