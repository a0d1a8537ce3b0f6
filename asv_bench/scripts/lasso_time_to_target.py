"""Time to a relative duality gap of 1e-6 for the Lasso, dense and sparse, against scikit-learn, skglm and celer.

Problems (as in the ShotgunLasso issue): dense 50,000 x 2,000 Gaussian design with 100 true non-zeros, and sparse
CSR 20,000 x 200,000 with 100 non-zeros a row and 100 true non-zeros; alpha = 0.05 alpha_max; objective
(1/2n)||y - Xw - b||^2 + alpha ||w||_1. The gap is relative to the objective at zero, ||y - ybar||^2 / (2n), and is
computed here for every method's answer with the same formula (scikit-learn's dual point), so every solver is held to
the same certificate whatever its own stopping rule. For each peer the tolerance is tightened tenfold until its
answer meets the target; the time is the median of 3 fits at the first tolerance that does.

``--sets mug05_12_12,arcene,dorothea`` runs the real Lasso problems of ``asv_bench/benchmarks/datasets.py`` instead
(dorothea's labels as targets, as ``realdata.py`` does), at ``alpha = --alpha-frac * alpha_max``. With ``--target
2e-4`` every solver is held to the gap that ``ShotgunLasso()``'s default ``tol=1e-4`` certifies (its rule is
``gap <= tol ||y - ybar||^2 / n``, twice this script's relative gap), so skpar runs with its defaults there while a
peer whose default stops short of that gap is run tighter.

Usage: python asv_bench/scripts/lasso_time_to_target.py [--scale 1.0] [--target 1e-6]
       python asv_bench/scripts/lasso_time_to_target.py --sets mug05_12_12,arcene,dorothea --target 2e-4
(needs the bench extra: pip install -e ".[bench]")
"""

import argparse
import os
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from skpar import ShotgunLasso
from skpar.datasets import make_sparse_design
from skpar.linear_model import alpha_max
from skpar.parallel import LassoData, duality_gap

sys.path.insert(0, os.path.dirname(__file__))
from _timing import print_table, timed_fit  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def relative_gap(data, est, alpha):
    w = np.asarray(est.coef_, dtype=float).ravel()
    r = data.residual(w)
    return duality_gap(data, w, r, data.gradient(r), alpha, 0.0) / (0.5 * float(data.yc @ data.yc) / data.n)


def peers():
    out = [("scikit-learn Lasso", lambda a, tol: Lasso(alpha=a, tol=tol, max_iter=100_000))]
    try:
        from skglm import Lasso as SkglmLasso

        out.append(("skglm Lasso", lambda a, tol: SkglmLasso(alpha=a, tol=tol, max_iter=1000)))
    except ImportError:
        print("skglm not installed: skipped")
    try:
        from celer import Lasso as CelerLasso

        out.append(("celer Lasso", lambda a, tol: CelerLasso(alpha=a, tol=tol, max_iter=1000)))
    except ImportError:
        print("celer not installed: skipped")
    return out


def run(name, X, y, target, alpha_frac=0.05):
    data = LassoData.build(X, y, None, True)
    alpha = alpha_frac * alpha_max(X, y)
    print(f"\n{name}: {X.shape[0]:,} x {X.shape[1]:,}, alpha = {alpha_frac:g} alpha_max = {alpha:.4g}")
    rows = []
    for _, make in [("skpar", lambda a, tol: ShotgunLasso(alpha=a, tol=tol)), *peers()]:
        make(alpha, 1e-4).fit(X[:200], y[:200])  # compile (numba: skpar, skglm, celer) outside the timings
    for label, make in [("skpar ShotgunLasso", lambda a, tol: ShotgunLasso(alpha=a, tol=tol)), *peers()]:
        result = None
        for tol in [target / 2 * 10.0 ** -k for k in range(6)]:
            seconds, est = timed_fit(lambda tol=tol, make=make: make(alpha, tol), X, y)
            g = relative_gap(data, est, alpha)
            if g <= target:
                seconds, est = timed_fit(lambda tol=tol, make=make: make(alpha, tol), X, y, repeats=3)
                result = (label, seconds, tol, relative_gap(data, est, alpha), int((est.coef_ != 0).sum()))
                break
        rows.append(result or (label, None, "never", g, None))
    print_table(rows, ["method", "seconds", "tol used", "relative gap", "non-zeros"])
    ours = rows[0][1]
    for r in rows[1:]:
        if r[1] is not None and ours:
            print(f"ratio {r[0]} / skpar: {r[1] / ours:.2f}x")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the rows (and columns) to use")
    p.add_argument("--target", type=float, default=1e-6)
    p.add_argument("--sets", default="", help="real Lasso problems (mug05_12_12, arcene, dorothea) instead")
    p.add_argument("--alpha-frac", type=float, default=None,
                   help="alpha as a fraction of alpha_max (default 0.05 generated, 0.01 real, as realdata.py)")
    args = p.parse_args()
    if args.sets:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        from benchmarks.datasets import load

        for name in args.sets.split(","):
            Xtr, ytr, Xte, yte, _ = load(name)
            if name == "dorothea":  # the classification set as a p >> n Lasso: its labels as targets
                import scipy.sparse as sp

                Xtr, ytr = sp.vstack([Xtr, Xte]).tocsc(), np.concatenate([ytr, yte])
            run(name, Xtr, ytr, args.target, args.alpha_frac or 0.01)
        return
    rng = np.random.default_rng(0)
    n, d = int(50_000 * args.scale), int(2_000 * args.scale)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[rng.choice(d, 100, replace=False)] = rng.standard_normal(100)
    y = X @ w + 0.5 * rng.standard_normal(n)
    run("dense", X, y, args.target, args.alpha_frac or 0.05)
    del X
    n, d = int(20_000 * args.scale), int(200_000 * args.scale)
    X = make_sparse_design(n, d, 100, random_state=1)
    w = np.zeros(d)
    w[rng.choice(d, 100, replace=False)] = rng.standard_normal(100)
    y = X @ w + 0.5 * rng.standard_normal(n)
    run("sparse", X, y, args.target, args.alpha_frac or 0.05)


if __name__ == "__main__":
    main()
