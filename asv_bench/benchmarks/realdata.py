"""Every estimator with its defaults against its scikit-learn peers with theirs, on the real sets.

The sets are those of ``datasets.py`` found on this machine (``SKPAR_DATA``, else ``../shared/data``); a9a is
shipped in the package, so the suite runs everywhere. The ``ci`` profile fits 2,000 rows of a9a; the others fit
every available set whole (the profile's scale does not cut real data). ``asv_bench/scripts/realdata.py`` prints
the same comparison as one table with ratios.
"""

from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.svm import LinearSVC

import skpar
from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor

from .common import Benchmark, Estimator, profile_scale
from .datasets import SETS, available, load

CI = profile_scale() == 0.002

CLASSIFIERS = {
    "AveragedSGDClassifier()": AveragedSGDClassifier,
    "AveragedSGDClassifier(loss='log_loss')": lambda: AveragedSGDClassifier(loss="log_loss"),
    "SGDClassifier()": SGDClassifier,
    # the drop-in: scikit-learn's defaults on skpar's estimator, against SGDClassifier() above
    "skpar.SGDClassifier()": skpar.SGDClassifier,
    "LogisticRegression()": LogisticRegression,
    "DualCoordinateAscentSVM()": DualCoordinateAscentSVM,
    "LinearSVC()": LinearSVC,
}
REGRESSORS = {"ParallelSGDRegressor()": ParallelSGDRegressor, "SGDRegressor()": SGDRegressor, "Ridge()": Ridge,
              "skpar.SGDRegressor()": skpar.SGDRegressor}


def _sets(tasks):
    if CI:
        return ["a9a"] if "binary" in tasks else []
    return [s for s, (task, _) in SETS.items() if task in tasks and available(s)]


class _RealData:
    def make_data(self, params):
        Xtr, ytr, Xte, yte, _ = load(params[0])
        if CI:
            Xtr, ytr = Xtr[:2000], ytr[:2000]
        return Xtr, Xte, ytr, yte


class RealClassification(_RealData, Estimator, Benchmark):
    """Classifiers with their defaults on the binary and multiclass sets."""

    params = (_sets({"binary", "multiclass"}), list(CLASSIFIERS))
    param_names = ["set", "estimator"]
    timeout = 1800

    def setup_cache(self):
        return self.make_cache()

    setup_cache.timeout = 7200  # every set and estimator fitted once, 20 Newsgroups and Fashion-MNIST among them

    def make_estimator(self, params):
        return CLASSIFIERS[params[1]]()


class RealRegression(_RealData, Estimator, Benchmark):
    """Regressors with their defaults on the regression sets (none under the ``ci`` profile: none is shipped)."""

    params = (_sets({"regression"}) or ["none"], list(REGRESSORS))
    param_names = ["set", "estimator"]

    def setup_cache(self):
        if self.params[0] == ["none"]:
            return {}
        return self.make_cache()

    def setup(self, cache, *params):
        if params[0] == "none":
            raise NotImplementedError("no regression set on this machine")
        super().setup(cache, *params)

    def make_estimator(self, params):
        return REGRESSORS[params[1]]()
