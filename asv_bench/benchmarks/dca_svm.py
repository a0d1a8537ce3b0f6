"""DualCoordinateAscentSVM against scikit-learn's LinearSVC (liblinear's dual coordinate descent), squared hinge.

The issue's data at full size (the ``large`` profile): dense 500,000 x 100 with 1% label noise and sparse CSR
200,000 x 50,000 with about 50 non-zeros a row, C = 1 / (n * 1e-5). ``asv_bench/scripts/svm_time_to_target.py``
measures time to a relative duality gap; these suites track fit time at a fixed tolerance and the test accuracy.
"""

from sklearn.datasets import make_classification
from sklearn.svm import LinearSVC

from skpar import DualCoordinateAscentSVM

from .common import Benchmark, Estimator, profile_scale, sparse_classification


class _Data:
    params = (["dense", "sparse"],)
    param_names = ["representation"]

    def make_data(self, params):
        (representation,) = params
        scale = profile_scale()
        if representation == "dense":
            n = int(500_000 * scale)
            X, y = make_classification(n + n // 10, 100, n_informative=50, n_redundant=0, flip_y=0.01,
                                       random_state=0)
        else:
            n = int(200_000 * scale)
            X, y = sparse_classification(n + n // 10)
        self.C = 1.0 / (n * 1e-5)
        return X[:n], X[n:], y[:n], y[n:]


class DualCoordinateAscentSVMBenchmark(_Data, Estimator, Benchmark):
    """skpar on 2 threads, CoCoA+ rounds, relative duality gap 1e-3 (or 50 rounds)."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return DualCoordinateAscentSVM(C=self.C, loss="squared_hinge", tol=1e-3, max_iter=50, n_jobs=2,
                                       random_state=0, solver="dual")


class LinearSVCBenchmark(_Data, Estimator, Benchmark):
    """The peer: LinearSVC (one core) with its defaults and the same C."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return LinearSVC(C=self.C, random_state=0)
