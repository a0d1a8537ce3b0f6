"""skpar's drop-in ``SGDRegressor()`` and ``SGDClassifier()`` against scikit-learn's, both with their defaults and
``random_state=0``, on generated dense data (``make_regression`` 100,000 x 100; ``make_classification`` 100,000 x
50, standardised): median of 5 warm fits each, epochs and training score. The real sets are
``realdata.py --only dropin``.

Usage: python asv_bench/scripts/dropin_dense.py
"""

import time
import warnings

import numpy as np
import sklearn.linear_model as sklm
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

import skpar

warnings.simplefilter("ignore")


def median_fit(est, X, y, repeats=5):
    est.fit(X, y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), est.n_iter_, est.score(X, y)


def main():
    Xr, yr = make_regression(100_000, 100, noise=1.0, random_state=0)
    Xc, yc = make_classification(100_000, 50, random_state=0)
    Xc = StandardScaler().fit_transform(Xc)
    for name, ours, theirs, X, y in [
            ("SGDRegressor()", skpar.SGDRegressor, sklm.SGDRegressor, Xr, yr),
            ("SGDClassifier()", skpar.SGDClassifier, sklm.SGDClassifier, Xc, yc)]:
        a, b = median_fit(ours(random_state=0), X, y), median_fit(theirs(random_state=0), X, y)
        print(f"{name}: skpar {a[0]:.3f} s ({a[1]} epochs, score {a[2]:.5f}), scikit-learn {b[0]:.3f} s "
              f"({b[1]} epochs, score {b[2]:.5f}), speed {b[0] / a[0]:.2f}x")


if __name__ == "__main__":
    main()
