"""What validating the training data costs a fit (``check_fit_data``: scikit-learn's ``validate_data`` and skpar's
value checks), on the real sets, in microseconds (``timeit``, 300 calls each).

Usage: python asv_bench/scripts/validation_cost.py
"""

import os
import sys
import timeit

from skpar import AveragedSGDClassifier
from skpar.linear_model._validation import check_fit_data

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    out = []
    for name in ("reuters", "a9a", "newsgroups", "ijcnn1"):
        X, y, _, _, _ = load(name)
        est = AveragedSGDClassifier()
        seconds = timeit.timeit(lambda est=est, X=X, y=y: check_fit_data(est, X, y, None, reset=True, y_numeric=False),
                                number=300)
        out.append(f"{name} {seconds / 300 * 1e6:.0f}")
    print(" | ".join(out))


if __name__ == "__main__":
    main()
