"""DualCoordinateAscentSVM on the real sets: passes (Newton iterations for the primal solver), time and certified
gap of the default against the settings the default was chosen over (the dual on one block, ``solver='dual'``, where
the default picks the primal; two blocks, ``n_jobs=2``, combined by the line search and by CoCoA+'s adding; plain dual
coordinate ascent, ``kappa=0``), each fit
once after a warm-up fit of the default. Reproduces the pass counts quoted in docs/benchmarks.md ("Real data with the
defaults"): CoCoA+ on two blocks against one block, and ``kappa='auto'`` against plain passes.

Usage: python asv_bench/scripts/svm_realdata_passes.py [--sets a9a,ijcnn1,reuters,dorothea] [--max-iter 1000]
"""

import argparse
import os
import sys
import time
import warnings

from sklearn.exceptions import ConvergenceWarning

from skpar import DualCoordinateAscentSVM

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)

VARIANTS = [("default", {}), ("dual, one block", {"solver": "dual"}),
            ("n_jobs=2 (line search)", {"n_jobs": 2, "solver": "dual"}),
            ("n_jobs=2 (CoCoA+)", {"n_jobs": 2, "solver": "dual", "combine": "add"}),
            ("kappa=0", {"kappa": 0.0, "solver": "dual"})]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sets", default="a9a,ijcnn1,reuters,dorothea")
    p.add_argument("--max-iter", type=int, default=1000)
    args = p.parse_args()
    print(f"{'set':10s} {'setting':24s} {'seconds':>8s} {'passes':>6s} {'gap':>9s} {'kappa':>6s} {'accuracy':>8s}")
    for name in args.sets.split(","):
        if not available(name):
            print(f"{name}: not found, skipped")
            continue
        X, y, Xt, yt, _ = load(name)
        DualCoordinateAscentSVM(random_state=0).fit(X, y)  # warm-up (numba caches, page faults)
        for label, kw in VARIANTS:
            start = time.perf_counter()
            m = DualCoordinateAscentSVM(random_state=0, max_iter=args.max_iter, **kw).fit(X, y)
            t = time.perf_counter() - start
            print(f"{name:10s} {label:24s} {t:8.3f} {m.n_iter_:6d} {m.duality_gap_:9.2e} {m.kappa_:6.3g} "
                  f"{m.score(Xt, yt):8.4f}", flush=True)


if __name__ == "__main__":
    main()
