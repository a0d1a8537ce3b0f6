"""DualCoordinateAscentSVM on K blocks (``n_blocks=K, solver='dual'``; two by default, ``--blocks``): passes, time,
certified gap and the chosen
``kappa`` of ``combine='line_search'`` (the default) against CoCoA+'s adding, on the real sets and on a dense problem
with many more rows than features (``dense<n>``: make_classification(1.1 n, 100, 50 informative, 1% label noise), its
first n rows, C = 1 / (n 1e-5), no intercept, tol 1e-3: the issue-5 problem at n = 500,000), over several seeds.
Reproduces the pass counts quoted in docs/benchmarks.md ("The line search on blocks that overlap").

The dense problem on many blocks: ``--sets dense200000 --blocks 2,4,16 --combine line_search --seeds 0`` and
``--sets dense500000 --blocks 16`` (docs/benchmarks.md, issue 22's case).

Usage: python asv_bench/scripts/svm_line_search.py [--sets dorothea,dense200000,a9a,ijcnn1,reuters,newsgroups]
       [--combine line_search,add] [--seeds 0,1,2] [--blocks 2]
"""

import argparse
import os
import sys
import time
import warnings

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skpar import DualCoordinateAscentSVM

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def problem(name):
    """``(X, y, settings)`` of a real set (its training split, the estimator's defaults) or of ``dense<n>``."""
    if name.startswith("dense"):
        n = int(name[len("dense"):])
        X, y = make_classification(int(n * 1.1), 100, n_informative=50, n_redundant=0, flip_y=0.01, random_state=0)
        return X[:n], y[:n], dict(C=1.0 / (n * 1e-5), fit_intercept=False, tol=1e-3)
    X, y = load(name)[:2]
    return X, y, {}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sets", default="dorothea,dense200000,a9a,ijcnn1,reuters,newsgroups")
    p.add_argument("--combine", default="line_search,add")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--blocks", default="2")
    args = p.parse_args()
    print(f"{'set':12s} {'combine':12s} {'K':>3s} {'seed':>4s} {'seconds':>8s} {'passes':>6s} {'gap':>9s} "
          f"{'kappa':>6s}")
    for name in args.sets.split(","):
        if not name.startswith("dense") and not available(name):
            print(f"{name}: not found, skipped")
            continue
        X, y, settings = problem(name)
        for K, combine, seed in ((int(k), c, int(s)) for k in args.blocks.split(",")
                                 for c in args.combine.split(",") for s in args.seeds.split(",")):
            m = DualCoordinateAscentSVM(n_blocks=K, solver="dual", combine=combine, random_state=seed, **settings)
            t = time.perf_counter()
            m.fit(X, y)
            t = time.perf_counter() - t
            print(f"{name:12s} {combine:12s} {K:3d} {seed:4d} {t:8.2f} {m.n_iter_:6d} {m.duality_gap_:9.2e} "
                      f"{m.kappa_:6.3g}", flush=True)


if __name__ == "__main__":
    main()
