"""AveragedSGDClassifier against scikit-learn's SGDClassifier(average=True).

Dense 1,000,000 x 50 with log_loss, and sparse CSR 200,000 x 50,000 with 50 non-zeros a row with hinge (full size
under the ``large`` profile; the default ``fast`` profile takes 5% of the rows).
"""

from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from skpar import AveragedSGDClassifier

from .common import Benchmark, Estimator, profile_scale, sparse_classification

ALPHA = 1e-4


class _Data:
    params = (["dense", "sparse"],)
    param_names = ["representation"]

    def make_data(self, params):
        (representation,) = params
        scale = profile_scale()
        if representation == "dense":
            n = int(1_000_000 * scale)
            X, y = make_classification(n + n // 10, 50, n_informative=25, n_redundant=0, flip_y=0.02,
                                       random_state=0)
        else:
            n = int(200_000 * scale)
            X, y = sparse_classification(n + n // 10)
        return X[:n], X[n:], y[:n], y[n:]

    def loss(self, params):
        return "log_loss" if params[0] == "dense" else "hinge"


class AveragedSGDClassifierBenchmark(_Data, Estimator, Benchmark):
    """skpar on 2 threads: one-shot averaging of 2 blocks, 2 local epochs."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return AveragedSGDClassifier(loss=self.loss(params), alpha=ALPHA, averaging="oneshot", max_iter=2,
                                     tol=None, n_jobs=2, random_state=0)


class SGDClassifierBenchmark(_Data, Estimator, Benchmark):
    """The peer: SGDClassifier(average=True), 5 epochs."""

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 3600  # the large profile makes gigabytes of data

    def make_estimator(self, params):
        return SGDClassifier(loss=self.loss(params), alpha=ALPHA, average=True, max_iter=5, tol=None,
                             random_state=0)
