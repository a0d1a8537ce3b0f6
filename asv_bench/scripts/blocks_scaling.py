"""Passes (or epochs) to a target as the number of blocks K grows, on the thread backend, on real sets.

``n_blocks=K`` cuts the data into K blocks, run on the machine's threads (they hold many blocks on 2 cores: this
counts passes, not seconds). Rows, one per estimator, set and K:

- ``DualCoordinateAscentSVM(solver='dual', n_blocks=K, tol=1e-3, max_iter=2000)`` with each ``combine``
  (``'line_search'``, the default, and ``'add'``, CoCoA+ with sigma' = K): the passes (``n_iter_``) to the relative
  duality gap 1e-3, and the gap reached (a row at 2,000 passes did not converge);
- ``ParallelSGDRegressor(solver='sgd', n_blocks=K, tol=None)``: the fewest epochs (doubling, then bisection) whose
  fit is within ``--target`` (relative) of the optimum of its objective ``(1/2n)||y - Xw - b||^2 + (alpha/2)||w||^2``
  (Ridge's exact solution);
- ``AveragedSGDClassifier(loss='log_loss', solver='sgd', n_blocks=K, tol=None)``: the fewest epochs within
  ``--target`` of the logistic objective's optimum (``LogisticRegression(C=1/(alpha n), tol=1e-10)``).

The SGD target is 1e-2 by default: the default constant step leaves the iterates' average about 1e-3 above the
optimum whatever the epochs (cpusmall: 8.2e-4 after 8 epochs, 6.0e-3 after 16, 1.4e-3 after 64), where "the fewest
epochs that reach it" has no meaning.

All with ``random_state=0``. The last column is the passes over K = 1's: issue 22 asks for at most 2 at K = 16 and
4 at K = 64.

- ``ShotgunLasso(alpha=0.1 alpha_max, n_blocks=K, max_iter=3000)`` (``--only lasso``, on the Lasso sets and
  dorothea): the rounds of its column blocks to its default duality gap ("-": not in 3,000).

``--batch-size B`` sets the SGD rows' ``batch_size`` (a block's batch; the estimators' default ``'auto'`` otherwise):
on a9a at K = 16, 4 reached the target in 4 epochs where 16 took 16 (docs/benchmarks.md, issue 22).

``--sets bench`` (alone or beside real sets) runs each estimator on its benchmark problem, generated
(``--scale`` times the rows): the regressor's SGD on ``make_correlated_regression(200_000, 100)`` (condition number
1e4); the classifier's on ``make_classification(200_000, 50)`` to 2e-2 (constant-step averaged SGD stops 1.3e-2 above
that optimum on one block); the SVM on dense ``make_classification(200_000, 100)`` with ``C = 1/(n 1e-5)``, its
default solver and the dual's line search; the Lasso on a Gaussian 50,000 x 2,000 design with 100 true non-zeros.
Regression sets and the Lasso sets get the regressor's rows. A last table gives, per row, the passes at K = 16 and
K = 64 over K = 2's against issue 22's bounds.

``--combine average`` combines the SGD rows' blocks by their average instead of the default line search (the rows
before it, docs/benchmarks.md).

Usage: python asv_bench/scripts/blocks_scaling.py [--sets a9a,ijcnn1,reuters,cpusmall] [--blocks 1,2,4,8,16]
       [--only svm,regressor,classifier,lasso] [--target 1e-2] [--batch-size 16] [--combine line_search]
       [--scale 1.0]
       python asv_bench/scripts/blocks_scaling.py --sets bench,a9a,ijcnn1,reuters,cpusmall,mug05_12_12,arcene
       --blocks 1,2,4,8,16,64 --only svm,regressor,classifier,lasso   (every cell of issue 22's table)
"""

import argparse
import os
import sys
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso
from skpar.datasets import make_correlated_regression
from skpar.linear_model import alpha_max

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from _timing import print_table, real_sets, time_to_target  # noqa: E402
from benchmarks.datasets import SETS  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)

ALPHA = 1e-4
MAX_EPOCHS = 512


def _svm_rows(name, X, y, blocks, combines=("line_search", "add"), default=False, **params):
    """The dual's passes to the gap 1e-3 with each of ``combines``; with ``default``, the default solver's first."""
    rows = []
    if default:
        for K in blocks:
            est = DualCoordinateAscentSVM(n_blocks=K, tol=1e-3, max_iter=2000, random_state=0, **params).fit(X, y)
            rows.append((name, f"SVM default ({est.solver_})", K, int(est.n_iter_), est.duality_gap_))
    for combine in combines:
        for K in blocks:
            est = DualCoordinateAscentSVM(solver="dual", combine=combine, n_blocks=K, tol=1e-3, max_iter=2000,
                                          random_state=0, **params).fit(X, y)
            rows.append((name, f"SVM dual, combine={combine!r}", K, int(est.n_iter_), est.duality_gap_))
    return rows


def _lasso_rows(name, X, y, blocks):
    """ShotgunLasso's column blocks (Hydra rounds on threads): rounds to its default gap at ``0.1 alpha_max``."""
    y = np.asarray(y, dtype=np.float64)
    alpha = 0.1 * alpha_max(X, y)
    rows = []
    for K in blocks:
        est = ShotgunLasso(alpha=alpha, n_blocks=K, max_iter=3000, random_state=0).fit(X, y)
        rows.append((name, "Lasso column blocks", K, int(est.n_iter_) if est.n_iter_ < 3000 else None,
                     est.dual_gap_))
    return rows


def _sgd_rows(name, X, y, blocks, target, classifier, batch_size=None, combine=None):
    n = X.shape[0]
    batch = {} if batch_size is None else {"batch_size": batch_size}
    if combine is not None:
        batch["combine"] = combine
    if classifier:
        from sklearn.preprocessing import LabelEncoder

        t = LabelEncoder().fit_transform(y)
        if t.max() > 1:
            return []  # the binary logistic objective only
        ref = LogisticRegression(C=1.0 / (ALPHA * n), tol=1e-10, max_iter=10_000).fit(X, t)
        sign = 2.0 * t - 1.0

        def objective(coef, b):
            z = sign * (X @ np.ravel(coef) + b)
            return float(np.logaddexp(0.0, -z).mean()) + 0.5 * ALPHA * float(np.ravel(coef) @ np.ravel(coef))

        best = objective(ref.coef_, ref.intercept_[0])
        goal = target
        label = "classifier SGD (log loss)"

        def make(k, K):
            return AveragedSGDClassifier(loss="log_loss", solver="sgd", n_blocks=K, tol=None, max_iter=k,
                                         random_state=0, **batch)
    else:
        ref = Ridge(alpha=ALPHA * n).fit(X, y)

        def objective(coef, b):
            r = y - X @ np.ravel(coef) - b
            return 0.5 * float(r @ r) / n + 0.5 * ALPHA * float(np.ravel(coef) @ np.ravel(coef))

        best = objective(ref.coef_, ref.intercept_)
        goal = target
        label = "regressor SGD"

        def make(k, K):
            return ParallelSGDRegressor(solver="sgd", n_blocks=K, tol=None, max_iter=k, random_state=0, **batch)

    def reached(est):
        return (objective(est.coef_, np.ravel(est.intercept_)[0]) - best) / abs(best) <= goal

    rows = []
    for K in blocks:
        found = time_to_target(lambda k, K=K: make(k, K), X, y, reached, MAX_EPOCHS, repeats=1)
        rows.append((name, label, K, found[1] if found else None, goal))
    return rows


def _bench_rows(blocks, only, scale, args):
    """Each estimator's benchmark problem, generated, ``scale`` times its rows (200,000, or 50,000 for the Lasso)."""
    n = lambda rows: max(2000, int(rows * scale))  # noqa: E731
    sgd = {"batch_size": args.batch_size, "combine": args.combine}
    rows = []
    if "regressor" in only:
        X, y, _ = make_correlated_regression(n(200_000), 100, random_state=0)
        rows += _sgd_rows("correlated regression x 100", X, y, blocks, args.target, classifier=False, **sgd)
    if "classifier" in only:
        X, y = make_classification(n(200_000), 50, n_informative=25, flip_y=0.02, random_state=0)
        # constant-step averaged SGD stops 1.3e-2 above this optimum on one block: 1e-2 is out of reach for any K
        rows += _sgd_rows("classification x 50", X, y, blocks, max(args.target, 2e-2), classifier=True, **sgd)
    if "svm" in only:
        X, y = make_classification(n(200_000), 100, n_informative=20, flip_y=0.01, random_state=0)
        rows += _svm_rows("SVM dense x 100, C = 1/(n 1e-5)", X, y, blocks, combines=("line_search",), default=True,
                          C=1.0 / (len(y) * 1e-5), fit_intercept=False)
    if "lasso" in only:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n(50_000), 2000))
        w = np.zeros(2000)
        w[rng.choice(2000, 100, replace=False)] = rng.standard_normal(100)
        rows += _lasso_rows("Gaussian x 2,000", X, X @ w + 0.5 * rng.standard_normal(X.shape[0]), blocks)
    return rows


def _bounds(rows):
    """Per (set, method): the passes at K = 16 and K = 64 over K = 2's, and whether issue 22's 2x and 4x hold."""
    by = {}
    for r in rows:
        by.setdefault((r[0], r[1]), {})[r[2]] = r[3]
    out = []
    for (name, method), got in by.items():
        if 2 not in got:
            continue
        base = got[2]
        r16 = got[16] / base if base and got.get(16) else None
        r64 = got[64] / base if base and got.get(64) else None
        ok = (16 not in got or (r16 is not None and r16 <= 2)) and (64 not in got or (r64 is not None and r64 <= 4))
        out.append((name, method, r16, r64, "yes" if base and ok else "no"))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="a9a,ijcnn1,reuters,cpusmall")
    p.add_argument("--blocks", default="1,2,4,8,16")
    p.add_argument("--only", default="svm,regressor,classifier")
    p.add_argument("--target", type=float, default=1e-2, help="the SGD estimators' relative suboptimality")
    p.add_argument("--batch-size", type=int, default=None, help="the SGD rows' batch_size (default: theirs)")
    p.add_argument("--combine", default=None, choices=["line_search", "average"],
                   help="the SGD rows' combine (default: theirs, 'line_search')")
    p.add_argument("--scale", type=float, default=1.0, help="the benchmark problems' rows (set 'bench')")
    args = p.parse_args()
    blocks = [int(k) for k in args.blocks.split(",")]
    only = set(args.only.split(","))
    rows = []
    names = args.sets.split(",")
    if "bench" in names:
        rows += _bench_rows(blocks, only, args.scale, args)
        for r in rows:
            print("  ".join(str(v) for v in r), flush=True)
    for name, data in real_sets(",".join(s for s in names if s != "bench")) if names != ["bench"] else ():
        X, y = data[:2]
        task = SETS[name][0]
        new = []
        if task in ("binary", "multiclass"):
            if "svm" in only:
                new += _svm_rows(name, X, y, blocks)
            if "classifier" in only:
                new += _sgd_rows(name, X, y, blocks, args.target, classifier=True, batch_size=args.batch_size,
                                     combine=args.combine)
        elif task in ("regression", "lasso") and "regressor" in only:
            new += _sgd_rows(name, X, y, blocks, args.target, classifier=False, batch_size=args.batch_size,
                                 combine=args.combine)
        if (task == "lasso" or name == "dorothea") and "lasso" in only:
            new += _lasso_rows(name, X, y, blocks)
        for r in new:  # as it goes
            print("  ".join(str(v) for v in r), flush=True)
        rows += new
    first = {(r[0], r[1]): r[3] for r in rows if r[2] == blocks[0]}
    table = [(*r, (r[3] / first[(r[0], r[1])]) if r[3] and first.get((r[0], r[1])) else None) for r in rows]
    print()
    print_table(table, ["set", "method", "K", "passes to target", "gap reached or goal",
                        f"over K = {blocks[0]}"])
    bounds = _bounds(rows)
    if bounds:
        print()
        print_table(bounds, ["set", "method", "K = 16 over K = 2", "K = 64 over K = 2", "within 2x and 4x"])


if __name__ == "__main__":
    main()
