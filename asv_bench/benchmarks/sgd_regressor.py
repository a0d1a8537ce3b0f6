"""ParallelSGDRegressor against scikit-learn's SGDRegressor, dense and sparse."""

from sklearn.linear_model import SGDRegressor

from skpar import ParallelSGDRegressor

from .common import Benchmark, Estimator, correlated_regression, profile_scale

ALPHA = 1e-4


class _Data:
    params = (["dense", "sparse"],)
    param_names = ["representation"]

    def make_data(self, params):
        (representation,) = params
        n = int(1_000_000 * profile_scale())
        d = 100 if representation == "dense" else 10_000
        return correlated_regression(n, d, representation)


class ParallelSGDRegressorBenchmark(_Data, Estimator, Benchmark):
    """skpar on 2 threads, 2 epochs of local SGD with averaging."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return ParallelSGDRegressor(solver="sgd", alpha=ALPHA, learning_rate="constant", average=True, max_iter=2,
                                    tol=None,
                                    n_jobs=2, random_state=0)


class SGDRegressorBenchmark(_Data, Estimator, Benchmark):
    """The peer: scikit-learn's SGDRegressor (one core) with its defaults and the same epochs budget of 5."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return SGDRegressor(alpha=ALPHA, max_iter=5, tol=None, random_state=0)
