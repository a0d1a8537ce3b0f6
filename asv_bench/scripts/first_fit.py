"""The first fit of each estimator with its defaults in a fresh process, on a9a (shipped with skpar): with numba's
cache empty (a fresh install: every kernel the fit runs is compiled) and again in a new process with the cache
that run wrote (kernels loaded from disk). The cache goes to a temporary ``NUMBA_CACHE_DIR``, so the package's own
is neither read nor touched.

Usage: python asv_bench/scripts/first_fit.py [--estimators clf,svm,log,reg,lasso]
"""

import argparse
import os
import subprocess
import sys
import tempfile

CHILD = """
import time
t0 = time.perf_counter()
import skpar
from skpar.datasets import load_a9a
X, y, _, _ = load_a9a()
t1 = time.perf_counter()
make = {{"clf": skpar.AveragedSGDClassifier, "svm": skpar.DualCoordinateAscentSVM,
        "log": lambda: skpar.AveragedSGDClassifier(loss="log_loss"), "reg": skpar.ParallelSGDRegressor,
        "lasso": skpar.ShotgunLasso}}["{name}"]
make().fit(X, y)
t2 = time.perf_counter()
make().fit(X, y)
t3 = time.perf_counter()
print(f"{{t1 - t0:.2f}} {{t2 - t1:.2f}} {{t3 - t2:.3f}}")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimators", default="clf,svm,log,reg,lasso")
    args = parser.parse_args()
    print("estimator   cache    import+load s  first fit s  second fit s")
    for name in args.estimators.split(","):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            for label in ("empty", "on disk"):
                out = subprocess.run([sys.executable, "-c", CHILD.format(name=name)], env=env, check=True,
                                     capture_output=True, text=True).stdout.split()
                print(f"{name:10s}  {label:7s}  {out[0]:>13s}  {out[1]:>11s}  {out[2]:>12s}")


if __name__ == "__main__":
    main()
