"""A Lasso path of ``--n-alphas`` alphas from alpha_max down to ``--eps`` alpha_max, on the real sets.

Rows: ``shotgun_lasso_path`` with ShotgunLasso's defaults, scikit-learn's ``lasso_path`` with its defaults, and
skglm's ``Lasso`` warm-started down the same alphas. Each at its own default tolerance, so the path's last objective
is printed too, relative to the lowest of the three (0 for the lowest): the times are not at the same gap. Median of
``--repeats`` runs, alternated.

Usage: python asv_bench/scripts/lasso_path.py [--sets mug05_12_12,dorothea,arcene] [--repeats 3]
(skglm is in the bench extra: pip install -e ".[bench]")
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lasso_path

from skpar import shotgun_lasso_path
from skpar.linear_model import alpha_max

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def _skglm_path(X, y, alphas):
    from skglm import Lasso as SkglmLasso

    est, coefs = SkglmLasso(alpha=alphas[0], warm_start=True), []
    for a in alphas:
        est.alpha = a
        coefs.append(est.fit(X, y).coef_.copy())
    return alphas, np.array(coefs).T


def _objective(X, y, w, alpha):
    """(1/2n)||y - ybar - (X - xbar) w||^2 + alpha ||w||_1 (the intercept at its optimum)."""
    r = y - np.asarray(X @ w).ravel()
    r = r - r.mean()
    return 0.5 * float(r @ r) / len(y) + alpha * float(np.abs(w).sum())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="mug05_12_12,dorothea,arcene")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n-alphas", type=int, default=30)
    p.add_argument("--eps", type=float, default=1e-2)
    args = p.parse_args()
    for name in args.sets.split(","):
        X, y = load(name)[:2]
        y = np.asarray(y, dtype=float)
        alphas = alpha_max(X, y) * np.logspace(0, np.log10(args.eps), args.n_alphas)
        runs = {"skpar shotgun_lasso_path": lambda X=X, y=y, a=alphas: shotgun_lasso_path(X, y, alphas=a)[:2],
                "scikit-learn lasso_path": lambda X=X, y=y, a=alphas: lasso_path(X, y, alphas=a)[:2],
                "skglm Lasso, warm-started": lambda X=X, y=y, a=alphas: _skglm_path(X, y, a)}
        times, last = {k: [] for k in runs}, {}
        for run in runs.values():  # warm: compilation, caches
            run()
        for _ in range(args.repeats):
            for k, run in runs.items():
                t = time.perf_counter()
                a, coefs = run()
                times[k].append(time.perf_counter() - t)
                i = int(np.argmin(a))
                last[k] = _objective(X, y, coefs[:, i], float(a[i]))
        best = min(last.values())
        base = statistics.median(times["skpar shotgun_lasso_path"])
        for k in runs:
            med = statistics.median(times[k])
            print(f"{name:12s} {k:28s} {med:8.3f} s  speed {med / base:5.2f}x  last objective above the lowest "
                  f"{(last[k] - best) / best:.1e}")


if __name__ == "__main__":
    main()
