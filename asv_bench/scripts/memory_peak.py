"""Peak memory of a fit against the size of X, on the thread backend (issue 8: at most 1.3x for dense float64).

Each estimator runs in a fresh process: imports and a tiny warm-up fit (numba compiles) first, then the resident set
size is noted (the base), X is made (dense, float64 or float32), and a sampling thread records the largest resident
set size while the fit runs. The ratio is (peak - base) / X.nbytes: X itself counts 1.0, so anything above is what
the fit added (blocks, copies, work arrays). Linux only (reads /proc/self/statm).

ShotgunLasso is also run on F-ordered X ("F"): its coordinate steps read columns; on C-ordered X a small working set's
columns are copied to F order, and a large one (here all 100 columns) is solved on its Gram matrix instead.

Usage: python asv_bench/scripts/memory_peak.py [--rows 1000000] [--features 100] [--n-jobs 2]
"""

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys, threading, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

name, n, d, n_jobs, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
order = sys.argv[6]
page = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page

make = {
    "ParallelSGDRegressor": lambda: ParallelSGDRegressor(max_iter=2, tol=None, n_jobs=n_jobs, random_state=0),
    "AveragedSGDClassifier": lambda: AveragedSGDClassifier(max_iter=2, tol=None, n_jobs=n_jobs, random_state=0),
    "ShotgunLasso": lambda: ShotgunLasso(alpha=0.1, max_iter=3, n_jobs=n_jobs, random_state=0),
    "DualCoordinateAscentSVM": lambda: DualCoordinateAscentSVM(max_iter=3, n_jobs=n_jobs, random_state=0),
}[name]
rng = np.random.default_rng(0)
Xs = rng.normal(size=(500, d)).astype(dtype)
make().fit(Xs, (Xs[:, 0] > 0).astype(int))  # compile outside the measurement
base = rss()
X = rng.standard_normal((n, d), dtype=np.float64 if dtype == "float64" else np.float32)
if order == "F":
    X = np.asfortranarray(X)
y = (X[:, 0] > 0).astype(int) if name in ("AveragedSGDClassifier", "DualCoordinateAscentSVM") else X[:, 0] + 0.1
peak = [rss()]
stop = threading.Event()

def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)

t = threading.Thread(target=sample)
t.start()
make().fit(X, y)
stop.set()
t.join()
peak[0] = max(peak[0], rss())
print(json.dumps({"name": name, "dtype": dtype + (" F" if order == "F" else ""), "X_MB": X.nbytes / 1e6,
                  "ratio": (peak[0] - base) / X.nbytes}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=100)
    p.add_argument("--n-jobs", type=int, default=2)
    args = p.parse_args()
    rows = []
    cases = [(dt, name, "C") for dt in ("float64", "float32")
             for name in ("ParallelSGDRegressor", "AveragedSGDClassifier", "ShotgunLasso", "DualCoordinateAscentSVM")]
    cases += [(dt, "ShotgunLasso", "F") for dt in ("float64", "float32")]  # column access wants F order
    for dtype, name, order in cases:
        out = subprocess.run([sys.executable, "-c", CHILD, name, str(args.rows), str(args.features),
                              str(args.n_jobs), dtype, order], capture_output=True, text=True, env=os.environ)
        if out.returncode:
            print(out.stderr[-2000:])
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\npeak memory during fit / size of X, {args.rows:,} x {args.features}, {args.n_jobs} threads")
    print(f"{'estimator':<26} {'X':<10} {'X MB':>8} {'peak / X':>9}")
    for r in rows:
        print(f"{r['name']:<26} {r['dtype']:<10} {r['X_MB']:>8.0f} {r['ratio']:>9.2f}")


if __name__ == "__main__":
    main()
