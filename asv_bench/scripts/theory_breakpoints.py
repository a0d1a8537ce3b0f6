"""The diagnostics' predictions of where parallelism stops paying, against the breakpoints measured on real sets.

Three predictions, each checked on five problems (real sets from ``../shared/data`` among them):

- ``pstar``: Shotgun's P* = d / rho (``rho`` the spectral radius of the column-normalised X^T X on every row), the
  coordinates updated at once past which the simultaneous updates may make the objective rise (Bradley et al. 2011),
  and the typical breakpoint 1 + (d - 1) / (rho_typ - 1) with rho_typ = tr(A^2) / tr(A), the curvature along a
  typical gradient (both from :func:`skpar.diagnostics.shotgun_parallelism`). Measured: ``ShotgunLasso(alpha=0.05
  alpha_max, fit_intercept=False, n_parallel=P, working_set=False, tol=1e-5, max_iter=2000)`` for P = 1, 2, 4, ...,
  d; the breakpoint is the smallest P whose fit had an epoch that raised the objective (the P-guard's event in
  ``history_``), then bisected three times between it and the power of two below. Sets: Mug32 (shipped), mug05_12_12,
  arcene, dorothea (its 0/1 rows, the labels as targets) and a dense correlated 2,000 x 500 problem
  (``make_correlated_regression``, condition number 1e4).
- ``kappa``: one-shot averaging (Zhang, Duchi and Wainwright 2013) is as good as one fit on all the data while each
  block holds about ``kappa = max ||x||^2 / (lambda_min + alpha)`` rows or more (the bound behind
  :class:`~skpar.exceptions.SmallBlockWarning`), so it predicts a loss past ``K* = n / kappa`` blocks. Measured:
  ``AveragedSGDClassifier(loss='log_loss', solver='sgd', averaging='oneshot', n_blocks=K, random_state=0)`` for
  K = 1, 2, 4, ..., 1,024 (at least 20 rows a block); the breakpoint is the smallest K whose averaged model's
  training objective (the mean log loss plus ``alpha/2 ||w||^2``) is more than 1% above the one-block fit's. Sets:
  a9a, ijcnn1, Reuters, dorothea and ``make_classification(100_000, 20)``. A second prediction reads the blocks:
  ``K* = n / (ROWS_PER_PARAMETER min(n, d + 1))``, or 1 where the two blocks the fit cuts are not exchangeable (the
  mean squared z-score of their column means above ``HETEROGENEOUS_Z2``).

- ``batch``: the critical batch size ``E||x||^2 / lambda_max`` (``critical_batch_size(X).lower``, McCandlish et al.
  2018), past which the largest stable step of mini-batch SGD on the square loss stops growing with the batch. For
  the square loss the step's stability limit is about ``2 b / (E||x||^2 + (b - 1) lambda_max)``, so the largest stable
  step at batch ``b`` falls to half of linear growth (``b`` times the one-row step, halved) at ``b = 1 + E||x||^2 /
  lambda_max``: the prediction is ``1 + lower``, and ``1 + typical`` where heavy rows set the one-row step (see
  :class:`skpar.diagnostics.CriticalBatchSize`). Measured: ``ParallelSGDRegressor(solver='sgd', alpha=1e-4,
  learning_rate='constant', average=False, scaling_rule=None, warmup=0, n_blocks=1, max_iter=2, tol=None)`` with
  ``batch_size=b`` for b = 1, 2, 4, ..., 4,096, the largest stable ``eta0`` (no DivergenceWarning in two epochs)
  bisected in the log to a factor 2^(1/8); the breakpoint is where ``eta(b) / eta(1) = b / 2``, interpolated in the
  logs between the two batches around it. Sets: digits (standardised, the digit as the target), cpusmall (the
  target standardised), a9a, ijcnn1 and Reuters (the labels as targets +-1).

Prints one table per part: the prediction, the measured breakpoint, their ratio, and whether they are within 2x.

Usage: python asv_bench/scripts/theory_breakpoints.py [--parts pstar,kappa,batch]
"""

import argparse
import os
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder

from skpar import AveragedSGDClassifier, ParallelSGDRegressor, ShotgunLasso, critical_batch_size
from skpar.datasets import load_mug32, make_correlated_regression
from skpar.diagnostics import shotgun_parallelism
from skpar.exceptions import DivergenceError, DivergenceWarning
from skpar.linear_model import alpha_max
from skpar.parallel._cocoa import HETEROGENEOUS_Z2, blocks_z2

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def _lasso_problems():
    A, y = load_mug32()
    yield "Mug32", A, y
    for name in ("mug05_12_12", "arcene", "dorothea"):
        if available(name):
            X, y = load(name)[:2]
            yield name, X, np.asarray(y, dtype=float)
        else:
            print(f"{name}: files not found; skipped", flush=True)
    X, y, _ = make_correlated_regression(2000, 500, random_state=0)
    yield "dense correlated 2,000 x 500", X, y


def _rises(X, y, alpha, P):
    """``(rose, steps)``: whether Shotgun with ``P`` coordinates at once had an epoch that raised the objective (the
    P-guard's event in ``history_``), and its steps."""
    est = ShotgunLasso(alpha=alpha, fit_intercept=False, n_parallel=P, working_set=False, tol=1e-5, max_iter=2000,
                       random_state=0).fit(X, y)
    return any("event" in h for h in est.history_), est.history_[-1].get("steps"), est


def pstar_rows():
    """One row per problem: ``(name, P*, typical P, measured breakpoint, d, steps by P)``. The breakpoint is the first
    power of two whose fit rose, then bisected three times between it and the power below (whose fit did not)."""
    rows = []
    for name, X, y in _lasso_problems():
        d = X.shape[1]
        alpha = 0.05 * alpha_max(X, y, fit_intercept=False)
        diag = shotgun_parallelism(X, fit_intercept=False, random_state=0)
        first, steps, P = None, [], 1
        while P <= d:
            rose, n_steps, est = _rises(X, y, alpha, P)
            steps.append((P, n_steps))
            if rose:
                first = P
                break  # past the first rise every larger P rises too (the guard halves it back)
            P *= 2
        if first is not None and first > 2:
            lo, hi = first // 2, first
            for _ in range(3):
                mid = (lo + hi) // 2
                if mid in (lo, hi):
                    break
                if _rises(X, y, alpha, mid)[0]:
                    hi = mid
                else:
                    lo = mid
            first = hi
        rows.append((name, diag.pstar, diag.typical, first, d, steps))
        print(f"{name}: P* {diag.pstar:.1f} (rho {diag.rho:.2f}; ShotgunLasso's row-sample estimate "
              f"{d / est.spectral_radius_:.1f}), typical P {diag.typical:.1f} (rho_typ {diag.rho_typical:.2f}), first "
              f"P whose objective rose: {first} (d = {d}); steps by P {steps}", flush=True)
    return rows


def _classification_problems():
    for name in ("a9a", "ijcnn1", "reuters", "dorothea"):
        if available(name):
            yield name, *load(name)[:2]
        else:
            print(f"{name}: files not found; skipped", flush=True)
    yield "make_classification 100,000 x 20", *make_classification(100_000, 20, n_informative=10, random_state=0)


def _log_objective(est, X, sign):
    """The mean log loss plus ``alpha/2 ||w||^2`` of a binary fit."""
    z = sign * (X @ np.ravel(est.coef_) + est.intercept_[0])
    w = np.ravel(est.coef_)
    return float(np.logaddexp(0.0, -z).mean()) + 0.5 * est.alpha * float(w @ w)


def _oneshot(X, y, K):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SmallBlockWarning is the prediction this measures
        return AveragedSGDClassifier(loss="log_loss", solver="sgd", averaging="oneshot", n_blocks=K,
                                     random_state=0).fit(X, y)


#: the rows a block needs for one-shot averaging to cost under 1%, per effective parameter: the rule of
#: ``n_blocks='auto'`` for averaged models (skpar.linear_model._n_blocks), read here as a prediction
ROWS_PER_PARAMETER = 20
def _block_z2(X, y):
    """The library's test of whether blocks are samples of the same rows (``skpar.parallel._cocoa.blocks_z2``, the
    mean squared z-score of the blocks' column means against the whole's: about 1 where they are) on the two blocks
    the fit cuts (``row_groups``). For two halves it is the squared z-score of the halves' difference."""
    from skpar.backend._base import row_groups
    from skpar.backend._block import make_block
    from skpar.parallel._dcd_tasks import column_stats_task

    X = sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X)
    stats = [column_stats_task(make_block(X[g], np.asarray(y)[g], None, k, 0, 0.0), 0.0)
             for k, g in enumerate(row_groups(y, 2))]
    return blocks_z2(stats)


def kappa_rows():
    rows = []
    for name, X, y in _classification_problems():
        sign = 2.0 * LabelEncoder().fit_transform(y) - 1.0
        n, d = X.shape
        one = _oneshot(X, y, 1)
        base, predicted = _log_objective(one, X, sign), n / one.kappa_
        z2 = _block_z2(X, y)
        # rows per block at least ROWS_PER_PARAMETER a parameter (at most n of them: past n rows the parameters are
        # pinned by the penalty); blocks that differ already lose at the first split
        by_rows = n / (ROWS_PER_PARAMETER * min(n, d + 1)) if z2 <= HETEROGENEOUS_Z2 else 1.0
        first, seen, K = None, [], 2
        while K <= 1024 and n // K >= 20:
            rise = _log_objective(_oneshot(X, y, K), X, sign) / base - 1.0
            seen.append((K, round(rise, 4)))
            if rise > 0.01:
                first = K
                break
            K *= 2
        rows.append((name, predicted, first, K // 2 if first is None else None, by_rows, z2, seen))
        print(f"{name}: kappa {one.kappa_:.3g}, K* = n / kappa {predicted:.3g}; blocks' mean z^2 {z2:.3g}, "
              f"K* by rows per parameter {by_rows:.3g}; first K more than 1% above one block: {first}; rises {seen}",
              flush=True)
    return rows


def _batch_problems():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    yield "digits", StandardScaler().fit_transform(X), y.astype(float)
    for name in ("cpusmall", "a9a", "ijcnn1", "reuters"):
        if not available(name):
            print(f"{name}: files not found; skipped", flush=True)
            continue
        X, y = load(name)[:2]
        y = np.asarray(y, dtype=float)
        y = (y - y.mean()) / y.std() if name == "cpusmall" else np.where(y == y.max(), 1.0, -1.0)
        yield name, X, y


def _stable(X, y, b, eta):
    """Two epochs of plain mini-batch SGD (batch ``b``, step ``eta``) without a DivergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        try:
            ParallelSGDRegressor(solver="sgd", alpha=1e-4, learning_rate="constant", eta0=eta, average=False,
                                 scaling_rule=None, warmup=0, batch_size=b, n_blocks=1, max_iter=2, tol=None,
                                 random_state=0).fit(X, y)
        except (DivergenceWarning, DivergenceError):
            return False
    return True


def _largest_step(X, y, b, guess):
    """The largest stable step at batch ``b``, within a factor 2^(1/8), searched from ``guess``."""
    if _stable(X, y, b, guess):
        lo, hi = guess, 2.0 * guess
        while _stable(X, y, b, hi):
            lo, hi = hi, 2.0 * hi
    else:
        lo, hi = guess / 2.0, guess
        while not _stable(X, y, b, lo):
            lo, hi = lo / 2.0, lo
    while hi / lo > 2 ** 0.125:
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if _stable(X, y, b, mid) else (lo, mid)
    return lo


def _mean_square_batch(X, n_iter=300):
    """``1 + E[||x||^2 (v.x)^2] / lambda^2`` (x extended by a 1, ``(lambda, v)`` the top eigenpair of E[x x^T]): the
    batch at which the mean-square stability limit along ``v``, ``2 lambda / (lambda^2 + (M - lambda^2) / b)``,
    is half of linear growth. For rows of equal norm it is ``1 + E||x||^2 / lambda``; heavy rows raise it."""
    n = X.shape[0]
    X1 = sp.hstack([X, np.ones((n, 1))]).tocsr() if sp.issparse(X) else np.hstack([X, np.ones((n, 1))])
    v = np.asarray(X1.mean(axis=0)).ravel()
    lam = 0.0
    for _ in range(n_iter):
        u = np.asarray(X1.T @ (X1 @ v)).ravel() / n
        lam = float(np.linalg.norm(u))
        v = u / lam
    p = np.asarray(X1 @ v).ravel()
    sq = np.asarray(X1.multiply(X1).sum(axis=1)).ravel() if sp.issparse(X1) else (X1 * X1).sum(axis=1)
    return 1.0 + float(np.mean(sq * p * p)) / lam ** 2


def batch_rows():
    rows = []
    for name, X, y in _batch_problems():
        cbs = critical_batch_size(X, random_state=0, client="threads", n_jobs=1)
        eta1 = _largest_step(X, y, 1, 2.0 / cbs.mean_sq_norm)
        ratios, first, b, eta = [(1, 1.0)], None, 2, eta1
        while b <= 4096 and b <= X.shape[0] // 4:
            eta = _largest_step(X, y, b, 2.0 * eta)
            ratios.append((b, eta / eta1))
            if eta / eta1 <= b / 2:
                # interpolate log(ratio / b) between the batch before and this one to where it is log(1/2)
                (b0, r0), (b1, r1) = ratios[-2], ratios[-1]
                f0, f1 = np.log(r0 / b0), np.log(r1 / b1)
                t = (np.log(0.5) - f0) / (f1 - f0) if f1 != f0 else 1.0
                first = float(np.exp(np.log(b0) + t * (np.log(b1) - np.log(b0))))
                break
            b *= 2
        predicted = 1.0 + cbs.lower
        rows.append((name, predicted, None if first is None else round(first, 1), b // 2, ratios,
                     _mean_square_batch(X), 1.0 + cbs.typical))
        print(f"{name}: E||x||^2 {cbs.mean_sq_norm:.3g}, lambda_max {cbs.lambda_max:.3g}, predicted 1 + lower "
              f"{predicted:.3g}; largest stable step at batch 1 {eta1:.3g}; eta(b) / eta(1) by b "
              f"{[(bb, round(r, 2)) for bb, r in ratios]}; half of linear at b = {first}", flush=True)
    return rows


def _on_grid(k_star):
    """The first K of the measurement's grid (2, 4, 8, ...) past a predicted breakpoint ``k_star``: the blocks
    lose past ``k_star``, and the grid cannot tell breakpoints between two of its points apart."""
    K = 2
    while K <= k_star:
        K *= 2
    return K


def _table(title, unit, rows):
    print(f"\n{title}\n")
    print(f"| problem | predicted {unit} | measured {unit} | measured / predicted | within 2x |")
    print("| --- | ---: | ---: | ---: | --- |")
    hits = 0
    for name, predicted, measured, limit, *_ in rows:
        if measured is None:
            ratio, within = None, predicted >= limit / 2  # no rise up to the limit: within 2x if P* >= limit / 2
            shown = f"none up to {limit}"
        else:
            ratio = measured / predicted
            within = 0.5 <= ratio <= 2.0
            shown = f"{measured}"
        hits += within
        print(f"| {name} | {predicted:.3g} | {shown} | {'-' if ratio is None else f'{ratio:.2f}'} | "
              f"{'yes' if within else 'no'} |")
    print(f"\nwithin 2x on {hits} of {len(rows)}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="pstar,kappa,batch")
    args = p.parse_args()
    parts = set(args.parts.split(","))
    if "kappa" in parts:
        rows = kappa_rows()
        _table("One-shot averaging: K* = n / kappa against the first K (a power of two) more than 1% above one block",
               "K", rows)
        _table(f"One-shot averaging: K* = n / ({ROWS_PER_PARAMETER} min(n, d + 1)), or 1 where the two blocks' mean "
               f"z^2 is above {HETEROGENEOUS_Z2:g}, against the same (a measured 2 is any breakpoint in (1, 2])",
               "K", [(name, by_rows, first, limit) for name, _, first, limit, by_rows, *_ in rows])
        _table("The same on the measurement's grid: the first power of two above K*, at least 2 (one block is the "
               "reference and cannot lose), against the first power of two measured more than 1% above one block",
               "K", [(name, _on_grid(by_rows), first, limit) for name, _, first, limit, by_rows, *_ in rows])
    if "batch" in parts:
        rows = batch_rows()
        _table("Critical batch size: 1 + E||x||^2 / lambda_max against the batch at which the largest stable step "
               "is half of linear growth", "b", rows)
        _table("The same against 1 + E[||x||^2 (v.x)^2] / lambda_max^2 (mean-square stability along the top "
               "eigenvector)", "b", [(name, ms, first, limit) for name, _, first, limit, _, ms, _ in rows])
        _table("The same against 1 + typical = 1 + E||x||^6 / (E||x||^4 lambda_max) (one-row steps' mean-square "
               "stability along the rows' own directions; skpar.critical_batch_size(X).typical)", "b",
               [(name, typ, first, limit) for name, _, first, limit, _, _, typ in rows])
    if "pstar" in parts:
        rows = pstar_rows()
        _table("Shotgun: P* = d / rho (every row) against the first P whose epoch raised the objective", "P",
               [(name, pstar, first, d) for name, pstar, _, first, d, _ in rows])
        _table("Shotgun: the typical P = 1 + (d - 1) / (rho_typ - 1), rho_typ = tr(A^2) / tr(A), against the same",
               "P", [(name, typical, first, d) for name, _, typical, first, d, _ in rows])


if __name__ == "__main__":
    main()
