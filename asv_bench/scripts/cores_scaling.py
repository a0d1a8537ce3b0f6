"""Each estimator with its defaults on every core against the same script on 2 cores: the same model, faster.

A user who moves a script from a 2-core laptop to a 16-core box runs the same defaults. The low-core side is so a
child process confined to 2 cores (``os.sched_setaffinity`` before NumPy loads, so BLAS, numba and skpar's
``n_jobs=None`` all see 2 cores), not ``n_jobs=2`` in a process whose BLAS still spans every core (that made
ShotgunLasso's Gram products use all 16 cores on both sides). The blocks come from the data (``n_blocks='auto'``),
never from the machine, so both sides run the same steps on the same blocks and return the same coefficients to the
bit (checked here, from a hash of each side's coefficients); the ratio of their times is what the extra cores buy.
Problems, each estimator's benchmark problem (``--scale`` multiplies the rows):

- ``ParallelSGDRegressor()`` on dense 2,000,000 x 100 (condition number 1e4; its default solver there is the normal
  equations, whose Gram matrix the blocks sum), and ``solver='sgd'`` on the same data;
- ``AveragedSGDClassifier()`` (hinge, SGD) and ``AveragedSGDClassifier(loss='log_loss')`` (L-BFGS) on dense
  1,000,000 x 100 ``make_classification``;
- ``DualCoordinateAscentSVM(C=1/(n 1e-5), fit_intercept=False, tol=1e-3)`` on dense 500,000 x 100, the SVM issue's
  problem (its default solver there is Newton's method on the primal);
- ``ShotgunLasso(alpha=0.05 alpha_max)`` on dense 50,000 x 2,000.

Each side first measures how fast its cores read memory (a compiled sum of 1 GB on as many threads as it has
cores): the ratio of the two is the ceiling of a fit whose passes over X are bound by memory. Each side is a fresh
process that makes the data, compiles the kernels on a small fit, then times ``--repeats`` fits
of every estimator; the sides alternate ``--rounds`` times (all cores, 2 cores, all cores, ...). Prints, per
estimator, the blocks, the epochs (or iterations), the median seconds on every core and on 2 cores, their ratio,
and whether the coefficients are bit-identical.

Usage: python asv_bench/scripts/cores_scaling.py [--scale 1.0] [--repeats 3] [--rounds 1] [--low 2]
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time


def _problems(scale):
    import numpy as np
    from sklearn.datasets import make_classification

    from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso
    from skpar.datasets import make_correlated_regression

    n = lambda rows: max(2000, int(rows * scale))  # noqa: E731
    Xr, yr, _ = make_correlated_regression(n(2_000_000), 100, random_state=0)
    Xc, yc = make_classification(n(1_000_000), 100, n_informative=20, random_state=0)
    Xs, ys = make_classification(n(500_000), 100, n_informative=20, flip_y=0.01, random_state=0)
    rng = np.random.default_rng(0)
    Xl = rng.normal(size=(n(50_000), 2000))
    yl = Xl[:, :100] @ rng.normal(size=100) + rng.normal(size=Xl.shape[0])
    alpha_max = float(np.max(np.abs(Xl.T @ (yl - yl.mean())))) / Xl.shape[0]
    return [
        ("ParallelSGDRegressor()", lambda: ParallelSGDRegressor(random_state=0), Xr, yr),
        ("ParallelSGDRegressor(solver='sgd')", lambda: ParallelSGDRegressor(solver="sgd", random_state=0), Xr, yr),
        ("AveragedSGDClassifier()", lambda: AveragedSGDClassifier(random_state=0), Xc, yc),
        ("AveragedSGDClassifier(loss='log_loss')", lambda: AveragedSGDClassifier(loss="log_loss", random_state=0),
         Xc, yc),
        ("DualCoordinateAscentSVM(C=1/(n 1e-5))",
         lambda: DualCoordinateAscentSVM(C=1.0 / (len(ys) * 1e-5), fit_intercept=False, tol=1e-3, random_state=0),
         Xs, ys),
        ("ShotgunLasso(alpha=0.05 alpha_max)", lambda: ShotgunLasso(alpha=0.05 * alpha_max, random_state=0), Xl, yl),
    ]


def _read_bandwidth(n_threads, gigabytes=1.0, repeats=5):
    """GB/s at which ``n_threads`` threads read a float64 array of ``gigabytes`` once (a compiled, vectorised sum of
    a range of it a thread; the median of ``repeats``): the ceiling of any fit whose passes over X are bound by
    memory, on this side's cores."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from numba import njit

    @njit(nogil=True, fastmath=True, cache=False)
    def range_sum(a, lo, hi):
        s = 0.0
        for i in range(lo, hi):
            s += a[i]
        return s

    a = np.ones(int(gigabytes * 2 ** 30) // 8)
    bounds = np.linspace(0, a.size, 4 * n_threads + 1).astype(np.int64)
    range_sum(a, 0, 10)
    times = []
    with ThreadPoolExecutor(n_threads) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            total = sum(pool.map(lambda k: range_sum(a, bounds[k], bounds[k + 1]), range(bounds.size - 1)))
            times.append(time.perf_counter() - start)
    assert total == a.size
    return a.nbytes / statistics.median(times) / 1e9


def _child(args):
    """One side: every estimator's fits in this process, as JSON on the last line of stdout."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from skpar.backend import resolve_n_jobs

    warnings.simplefilter("ignore", ConvergenceWarning)
    out = {"cores": resolve_n_jobs(None), "fits": {}}
    out["read_gb_s"] = _read_bandwidth(out["cores"])
    with threadpool_limits(1):  # the same data on both sides: BLAS's sums (alpha_max's X^T y) follow its threads
        problems = _problems(args.scale)
    for name, make, X, y in problems:
        make().fit(X[:2000], y[:2000])  # compile and load the kernels outside the timings
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            est = make().fit(X, y)
            times.append(time.perf_counter() - start)
        digest = hashlib.sha256(np.ascontiguousarray(est.coef_).tobytes()
                                + np.ascontiguousarray(est.intercept_).tobytes()).hexdigest()
        out["fits"][name] = {"times": times, "blocks": getattr(est, "n_blocks_", "-"),
                             "iters": int(np.max(est.n_iter_)), "coef": digest}
    print(json.dumps(out), flush=True)


def _side(args, cores):
    """Runs one side in a fresh process whose every thread (BLAS's too) is confined to ``cores``."""
    cmd = [sys.executable, __file__, "--child", "--scale", str(args.scale), "--repeats", str(args.repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, cores))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1, help="alternations of the two sides")
    p.add_argument("--low", type=int, default=2, help="cores of the low side")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args)
    every = sorted(os.sched_getaffinity(0))
    low = every[:args.low]
    print(f"{len(every)} cores against {len(low)}; every fit with its defaults", flush=True)
    sides = {"all": [], "low": []}
    for _ in range(args.rounds):
        for key, cores in (("all", every), ("low", low)):
            sides[key].append(_side(args, cores))
            print(f"  side {key} done ({sides[key][-1]['cores']} cores seen)", flush=True)
    n_all, n_low = sides["all"][0]["cores"], sides["low"][0]["cores"]
    bw = {k: statistics.median([s["read_gb_s"] for s in sides[k]]) for k in sides}
    print(f"\nreading memory: {bw['all']:.1f} GB/s on {n_all} cores, {bw['low']:.1f} GB/s on {n_low} "
          f"({bw['all'] / bw['low']:.2f}x: the most that passes bound by memory can gain)")
    print(f"\n| estimator (defaults) | blocks | epochs / iterations | s, {n_all} cores | s, {n_low} cores | speed-up | "
          "same coefficients |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, fit in sides["all"][0]["fits"].items():
        t = {k: statistics.median([x for s in sides[k] for x in s["fits"][name]["times"]]) for k in sides}
        same = len({s["fits"][name]["coef"] for k in sides for s in sides[k]}) == 1
        print(f"| `{name}` | {fit['blocks']} | {fit['iters']} | {t['all']:.3f} | {t['low']:.3f} | "
              f"{t['low'] / t['all']:.2f}x | {same} |", flush=True)


if __name__ == "__main__":
    main()
