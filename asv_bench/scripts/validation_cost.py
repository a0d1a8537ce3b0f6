"""What validating the training data costs a fit (``check_fit_data``: scikit-learn's ``validate_data`` and skpar's
value checks), the classifiers' label check (``_checked_labels``) and the dual's row norms (``row_sq_norms``), on
the real sets, in microseconds (``timeit``, 300 calls each).

Usage: python asv_bench/scripts/validation_cost.py
"""

import os
import sys
import timeit

import numpy as np

from skpar import AveragedSGDClassifier
from skpar.kernels import row_sq_norms, sparse_arrays
from skpar.linear_model._classifier_mixin import _checked_labels
from skpar.linear_model._validation import check_fit_data

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    out = []
    for name in ("reuters", "a9a", "newsgroups", "ijcnn1"):
        X, y, _, _, _ = load(name)
        est = AveragedSGDClassifier()
        check_fit_data(est, X, y, None, reset=True, y_numeric=False)  # first-call costs outside the timing
        seconds = timeit.timeit(lambda est=est, X=X, y=y: check_fit_data(est, X, y, None, reset=True, y_numeric=False),
                                number=300)
        labels = timeit.timeit(lambda y=y: _checked_labels(y), number=300)
        rows, arrays = np.arange(X.shape[0]), sparse_arrays(X.tocsr())
        row_sq_norms(arrays, rows)  # compiled or loaded outside the timing
        norms = timeit.timeit(lambda a=arrays, r=rows: row_sq_norms(a, r), number=300)
        out.append(f"{name}: check_fit_data {seconds / 300 * 1e6:.0f}, labels {labels / 300 * 1e6:.0f}, "
                   f"row norms {norms / 300 * 1e6:.0f}")
    print(" | ".join(out))


if __name__ == "__main__":
    main()
