"""A Lasso path of ``--n-alphas`` alphas from alpha_max down to ``--eps`` alpha_max, on the real sets.

Rows: ``shotgun_lasso_path`` with ShotgunLasso's defaults, scikit-learn's ``lasso_path`` with its defaults, and
skglm's ``Lasso`` warm-started down the same alphas. Each at its own default tolerance, so the path's last objective
is printed too, relative to the lowest of the three (0 for the lowest): the times are not at the same gap. Median of
``--repeats`` runs, alternated.

With ``--target G`` every path is held to the same certificate instead: the problem without an intercept (what
``lasso_path`` solves; skpar and skglm are given ``fit_intercept=False``), and at every alpha of the path the
duality gap at scikit-learn's dual point over the objective at zero, ``||y||^2 / (2n)``, at most ``G``. Each solver
starts at its default tolerance and is run again with it ten times smaller until its whole path meets ``G``; the
time is the median of ``--repeats`` runs at the first tolerance that does. ``--target 2e-4`` is what
``ShotgunLasso()``'s default ``tol=1e-4`` certifies (its rule is ``gap <= tol ||y||^2 / n``).

Usage: python asv_bench/scripts/lasso_path.py [--sets mug05_12_12,dorothea,arcene] [--repeats 3] [--target 2e-4]
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


def _worst_gap(data, alphas, coefs):
    """The largest relative duality gap over the path (gap over ``||y||^2 / (2n)``)."""
    from skpar.parallel import duality_gap

    scale = 0.5 * float(data.yc @ data.yc) / data.n
    worst = 0.0
    for a, w in zip(alphas, coefs.T, strict=True):
        w = np.asarray(w, dtype=float)
        r = data.residual(w)
        worst = max(worst, duality_gap(data, w, r, data.gradient(r), float(a), 0.0) / scale)
    return worst


def same_gap(name, X, y, alphas, target, repeats):
    """The ``--target`` mode: each path at the first tolerance whose every fit meets ``target`` (see above)."""
    from skglm import Lasso as SkglmLasso

    from skpar.parallel import LassoData

    data = LassoData.build(X, y, None, False)

    def skglm_path(tol):
        est, coefs = SkglmLasso(alpha=alphas[0], warm_start=True, fit_intercept=False, tol=tol), []
        for a in alphas:
            est.alpha = a
            coefs.append(est.fit(X, y).coef_.copy())
        return alphas, np.array(coefs).T

    solvers = {"skpar shotgun_lasso_path": (1e-4, lambda tol: shotgun_lasso_path(X, y, alphas=alphas, tol=tol,
                                                                                   fit_intercept=False)[:2]),
               "scikit-learn lasso_path": (1e-4, lambda tol: lasso_path(X, y, alphas=alphas, tol=tol)[:2]),
               "skglm Lasso, warm-started": (1e-4, skglm_path)}
    rows = {}
    for label, (tol, run) in solvers.items():
        run(tol)  # warm: compilation, caches
        for _ in range(6):
            a, coefs = run(tol)
            worst = _worst_gap(data, a, coefs)
            if worst <= target:
                times = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    run(tol)
                    times.append(time.perf_counter() - t)
                rows[label] = (statistics.median(times), tol, worst)
                break
            tol /= 10.0
        else:
            rows[label] = (None, tol * 10.0, worst)
    base = rows["skpar shotgun_lasso_path"][0]
    for label, (sec, tol, worst) in rows.items():
        speed = f"{sec / base:5.2f}x" if sec and base else "    -"
        when = f"{sec:8.3f} s" if sec else "  missed"
        print(f"{name:12s} {label:28s} {when}  speed {speed}  tol {tol:.0e}  worst relative gap {worst:.1e}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="mug05_12_12,dorothea,arcene")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n-alphas", type=int, default=30)
    p.add_argument("--eps", type=float, default=1e-2)
    p.add_argument("--target", type=float, default=None, help="hold every path to this relative gap (see above)")
    args = p.parse_args()
    for name in args.sets.split(","):
        X, y = load(name)[:2]
        y = np.asarray(y, dtype=float)
        if args.target is not None:
            alphas = alpha_max(X, y, fit_intercept=False) * np.logspace(0, np.log10(args.eps), args.n_alphas)
            same_gap(name, X, y, alphas, args.target, args.repeats)
            continue
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
