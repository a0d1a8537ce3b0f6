"""Every skpar estimator with its defaults against the scikit-learn estimators a user would otherwise pick, with
theirs, on the real benchmark sets (``asv_bench/benchmarks/datasets.py`` says where the files are and what is done
to each set).

For each set that fits an estimator's task, one table row per pair: the test score (accuracy or R^2; for the Lasso
problems, which have no test split, the objective's excess over the best of the solvers, relative), the median fit
time of warm fits alternated in one run (every estimator fits once untimed first, then the round of all of them
repeats ``--repeats`` times), the epochs (``n_iter_``) and the speed, the peer's time over skpar's (above 1: skpar is
faster). The machine's cores are skpar's (its default ``n_jobs``); scikit-learn's estimators use one.

Pairs (defaults on both sides):
- binary and multiclass sets: ``AveragedSGDClassifier()`` vs ``SGDClassifier()``,
  ``AveragedSGDClassifier(loss='log_loss')`` vs ``LogisticRegression()`` and vs
  ``LogisticRegression(C=1/(alpha n))`` (the same objective as the classifier's default ``alpha=1e-4``),
  ``DualCoordinateAscentSVM()`` vs ``LinearSVC()``;
- regression sets: ``ParallelSGDRegressor()`` vs ``SGDRegressor()`` and ``Ridge()``;
- ``--only dropin``: skpar's drop-in ``SGDClassifier()`` and ``SGDRegressor()`` (scikit-learn's defaults on skpar's
  estimators: one block, a sample a step) vs scikit-learn's, same ``random_state``;
- Lasso problems (mug05_12_12, arcene, dorothea): ``ShotgunLasso(alpha)`` vs ``Lasso(alpha)``, skglm's and celer's
  ``Lasso(alpha)`` where installed (the ``bench`` extra), at ``alpha = --alpha-frac * alpha_max`` (alpha is the
  problem, not a solver setting).

Usage: python asv_bench/scripts/realdata.py [--sets a9a,ijcnn1,...] [--only sgd,svm,lasso,dropin] [--repeats 3]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.svm import LinearSVC

import skpar
from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso
from skpar.linear_model import alpha_max

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from _timing import print_table  # noqa: E402
from benchmarks.datasets import SETS, available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", FutureWarning)

def pairs(task, family, alpha=None, n_train=None):
    """``[(skpar name, make, [(peer name, make), ...]), ...]`` for a task."""
    if task in ("binary", "multiclass"):
        out = []
        if "sgd" in family:
            # LogisticRegression() minimises C = 1 (alpha = 1/n); the second peer minimises the classifier's own
            # objective (its default alpha = 1e-4), so the score difference measures the solver alone
            same = 1.0 / (1e-4 * n_train) if n_train else 1.0
            out += [("AveragedSGDClassifier()", AveragedSGDClassifier, [("SGDClassifier()", SGDClassifier)]),
                    ("AveragedSGDClassifier(loss='log_loss')", lambda: AveragedSGDClassifier(loss="log_loss"),
                     [("LogisticRegression()", LogisticRegression),
                      ("LogisticRegression(C=1/(alpha n))", lambda: LogisticRegression(C=same))])]
        if "svm" in family:
            out += [("DualCoordinateAscentSVM()", DualCoordinateAscentSVM, [("LinearSVC()", LinearSVC)])]
        if "dropin" in family:
            out += [("skpar.SGDClassifier()", lambda: skpar.SGDClassifier(random_state=0),
                     [("SGDClassifier()", lambda: SGDClassifier(random_state=0))])]
        return out
    if task == "regression":
        out = [("ParallelSGDRegressor()", ParallelSGDRegressor,
                [("SGDRegressor()", SGDRegressor), ("Ridge()", Ridge)])] if "sgd" in family else []
        if "dropin" in family:
            out += [("skpar.SGDRegressor()", lambda: skpar.SGDRegressor(random_state=0),
                     [("SGDRegressor()", lambda: SGDRegressor(random_state=0))])]
        return out
    if task == "lasso":
        if "lasso" not in family:
            return []
        peers = [("Lasso()", lambda: Lasso(alpha=alpha))]
        try:
            from skglm import Lasso as SkglmLasso

            peers.append(("skglm Lasso()", lambda: SkglmLasso(alpha=alpha)))
        except ImportError:
            pass
        try:
            from celer import Lasso as CelerLasso

            peers.append(("celer Lasso()", lambda: CelerLasso(alpha=alpha)))
        except ImportError:
            pass
        return [("ShotgunLasso()", lambda: ShotgunLasso(alpha=alpha), peers)]
    return []


def lasso_objective(est, X, y, alpha):
    r = y - X @ np.ravel(est.coef_) - np.ravel(est.intercept_)[0]
    return 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(est.coef_).sum())


def _epochs(est):
    """``n_iter_`` (the most over one-vs-rest outputs); None for direct solvers such as Ridge's."""
    n = getattr(est, "n_iter_", None)
    return None if n is None else int(np.max(n))


def run_set(name, task, family, repeats, alpha_frac):
    Xtr, ytr, Xte, yte, _ = load(name)
    if name == "dorothea" and task == "lasso":  # the classification set as a p >> n Lasso: labels as targets
        import scipy.sparse as sp

        Xtr, ytr = sp.vstack([Xtr, Xte]).tocsc(), np.concatenate([ytr, yte])
    alpha = alpha_frac * alpha_max(Xtr, ytr) if task == "lasso" else None
    groups = pairs(task, family, alpha, Xtr.shape[0])
    if not groups:
        return []
    makers = {}
    for skname, make, peers in groups:
        makers[skname] = make
        for pname, pmake in peers:
            makers[pname] = pmake
    times = {k: [] for k in makers}
    fitted = {}
    for k, make in makers.items():  # warm: imports, numba caches, first-touch of the data
        fitted[k] = make().fit(Xtr, ytr)
    for _ in range(repeats):
        for k, make in makers.items():
            est = make()
            t = time.perf_counter()
            est.fit(Xtr, ytr)
            times[k].append(time.perf_counter() - t)
            fitted[k] = est
    if task == "lasso":
        objs = {k: lasso_objective(e, Xtr, ytr, alpha) for k, e in fitted.items()}
        best = min(objs.values())
        score = {k: (v - best) / abs(best) for k, v in objs.items()}
    else:
        score = {k: float(e.score(Xte, yte)) for k, e in fitted.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for skname, _, peers in groups:
        for pname, _ in peers:
            diff = score[skname] - score[pname]
            rows.append((name, skname, pname, med[pname] / med[skname], diff, score[skname], med[skname],
                         med[pname], _epochs(fitted[skname]), _epochs(fitted[pname])))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    parser.add_argument("--only", default="sgd,svm,lasso", help="estimator families: sgd, svm, lasso, dropin")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--alpha-frac", type=float, default=0.01, help="Lasso alpha as a fraction of alpha_max")
    args = parser.parse_args()
    family = set(args.only.split(","))
    rows = []
    for name in args.sets.split(","):
        if not available(name):
            print(f"{name}: files not found under {os.environ.get('SKPAR_DATA', '../shared/data')}; skipped")
            continue
        tasks = [SETS[name][0]] + (["lasso"] if name == "dorothea" else [])
        for task in tasks:
            new = run_set(name, task, family, args.repeats, args.alpha_frac)
            rows += new
            for r in new:  # as it goes: the slow sets take minutes
                print("  ".join(str(v) if not isinstance(v, float) else f"{v:.4g}" for v in r), flush=True)
    print()
    print("score: test accuracy or R^2; Lasso problems: objective above the best solver's, relative.")
    print("speed: peer time / skpar time (above 1: skpar faster); diff: skpar score - peer score.")
    print_table(rows, ["set", "skpar", "peer", "speed", "score diff", "skpar score", "skpar s", "peer s",
                       "skpar epochs", "peer epochs"])


if __name__ == "__main__":
    main()
