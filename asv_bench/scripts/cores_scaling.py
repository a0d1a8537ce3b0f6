"""Each estimator with its defaults on every core against the same fit on 2 threads: the same model, faster.

The blocks come from the data (``n_blocks='auto'``), never from the machine, so a default fit on 16 cores and one
held to 2 threads (``n_jobs=2`` with the default fit's ``n_blocks``) run the same steps on the same blocks and
return the same coefficients to the bit (checked here); the ratio of their times is what the extra cores buy.
Problems, each estimator's benchmark problem (``--scale`` multiplies the rows):

- ``ParallelSGDRegressor()`` on dense 2,000,000 x 100 (condition number 1e4; its default solver there is the normal
  equations, whose Gram matrix the blocks sum), and ``solver='sgd'`` on the same data;
- ``AveragedSGDClassifier()`` (hinge, SGD) and ``AveragedSGDClassifier(loss='log_loss')`` (Newton's method) on dense
  1,000,000 x 100 ``make_classification``;
- ``DualCoordinateAscentSVM(C=1/(n 1e-5), fit_intercept=False, tol=1e-3)`` on dense 500,000 x 100, the SVM issue's
  problem (its default solver there is Newton's method on the primal);
- ``ShotgunLasso(alpha=0.05 alpha_max)`` on dense 50,000 x 2,000 (P2-like: its threads share each step's columns).

Prints, per row, the blocks, the epochs (or iterations), the median seconds of ``--repeats`` fits on every core and
on 2 threads (alternated), their ratio, and whether the coefficients are bit-identical.

Usage: python asv_bench/scripts/cores_scaling.py [--scale 1.0] [--repeats 3]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso
from skpar.backend import resolve_n_jobs
from skpar.datasets import make_correlated_regression

warnings.simplefilter("ignore", ConvergenceWarning)


def _problems(scale):
    n = lambda rows: max(2000, int(rows * scale))  # noqa: E731
    Xr, yr, _ = make_correlated_regression(n(2_000_000), 100, random_state=0)
    Xc, yc = make_classification(n(1_000_000), 100, n_informative=20, random_state=0)
    Xs, ys = make_classification(n(500_000), 100, n_informative=20, flip_y=0.01, random_state=0)
    rng = np.random.default_rng(0)
    Xl = rng.normal(size=(n(50_000), 2000))
    yl = Xl[:, :100] @ rng.normal(size=100) + rng.normal(size=Xl.shape[0])
    alpha_max = float(np.max(np.abs(Xl.T @ (yl - yl.mean())))) / Xl.shape[0]
    return [
        ("ParallelSGDRegressor()", lambda **kw: ParallelSGDRegressor(random_state=0, **kw), Xr, yr),
        ("ParallelSGDRegressor(solver='sgd')", lambda **kw: ParallelSGDRegressor(solver="sgd", random_state=0, **kw),
         Xr, yr),
        ("AveragedSGDClassifier()", lambda **kw: AveragedSGDClassifier(random_state=0, **kw), Xc, yc),
        ("AveragedSGDClassifier(loss='log_loss')",
         lambda **kw: AveragedSGDClassifier(loss="log_loss", random_state=0, **kw), Xc, yc),
        ("DualCoordinateAscentSVM(C=1/(n 1e-5))",
         lambda **kw: DualCoordinateAscentSVM(C=1.0 / (len(ys) * 1e-5), fit_intercept=False, tol=1e-3,
                                              random_state=0, **kw), Xs, ys),
        ("ShotgunLasso(alpha=0.05 alpha_max)", lambda **kw: ShotgunLasso(alpha=0.05 * alpha_max, random_state=0, **kw),
         Xl, yl),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    cores = resolve_n_jobs(None)
    print(f"{cores} cores; every fit with its defaults, then held to n_jobs=2", flush=True)
    rows = []
    for name, make, X, y in _problems(args.scale):
        make(n_jobs=2).fit(X[:2000], y[:2000])  # compile and load the kernels outside the timings
        times = {"all": [], "two": []}
        fits = {}
        for _ in range(args.repeats):
            for key in ("all", "two"):
                # the same blocks on 2 threads: n_jobs=2 alone would also count 2 blocks (n_blocks='auto')
                blocks = getattr(fits.get("all"), "n_blocks_", None)
                kw = {} if key == "all" else {"n_jobs": 2, **({"n_blocks": blocks} if blocks else {})}
                start = time.perf_counter()
                fits[key] = make(**kw).fit(X, y)
                times[key].append(time.perf_counter() - start)
        a, b = fits["all"], fits["two"]
        same = np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
        t_all, t_two = statistics.median(times["all"]), statistics.median(times["two"])
        rows.append((name, getattr(a, "n_blocks_", "-"), a.n_iter_, t_all, t_two, t_two / t_all, same))
        print(f"{name}: blocks {rows[-1][1]}, epochs {a.n_iter_}, {t_all:.3f} s on {cores} cores, {t_two:.3f} s on "
              f"2, {t_two / t_all:.2f}x, bit-identical {same}", flush=True)
    print(f"\n| estimator (defaults) | blocks | epochs / iterations | s, {cores} cores | s, 2 threads | speed-up | "
          "same coefficients |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, blocks, epochs, t_all, t_two, ratio, same in rows:
        print(f"| `{name}` | {blocks} | {epochs} | {t_all:.3f} | {t_two:.3f} | {ratio:.2f}x | {same} |")


if __name__ == "__main__":
    main()
