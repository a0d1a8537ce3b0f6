"""The GPU SGD kernel's geometry on what the defaults run: GPU-only time to target of the regressor and the classifier
(``gpu_benchmark.py``'s 10,000,000-row problems) and their fits with default settings, under the geometry the
environment sets (``SKPAR_SGD_TEAM``, ``SKPAR_SGD_GROUP``, ...; ``TAG`` labels the lines).

Usage (one process per geometry: the kernels read the environment when they are built)::

    TAG=default python asv_bench/scripts/gpu_sgd_geometry.py
    TAG=team8 SKPAR_SGD_TEAM=8 SKPAR_SGD_GROUP=2 python asv_bench/scripts/gpu_sgd_geometry.py
"""

import os
import sys
import warnings

import cupy as cp
import numpy as np
from scipy.optimize import minimize
from sklearn.datasets import make_classification

sys.path.insert(0, os.path.dirname(__file__))
import gpu_benchmark as gb  # noqa: E402
from _timing import time_to_target, timed_fit  # noqa: E402

from skpar import AveragedSGDClassifier, ParallelSGDRegressor  # noqa: E402

warnings.simplefilter("ignore")

tag = os.environ.get("TAG", "default")
n = 10_000_000
alpha = 1e-4
X, y, Xg, yg, subopt = gb._regression_problem(n, alpha)
ParallelSGDRegressor(max_iter=1).fit(Xg[:10_000], yg[:10_000])
g = time_to_target(lambda k: ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=True,
                   max_iter=k, tol=None, random_state=0), Xg, yg, lambda e: subopt(e) <= 1e-3, 64)
print(tag, "reg ttt", g[:2] if g else None, flush=True)
s, est = timed_fit(lambda: ParallelSGDRegressor(solver="sgd", random_state=0), Xg, yg, repeats=3)
print(tag, "reg defaults sgd", round(s, 4), est.n_iter_, f"{subopt(est):.2e}", flush=True)
del X, y, Xg, yg
Xc, yc = make_classification(n, 50, n_informative=20, random_state=0)
Xc = Xc.astype(np.float32)
Xg, yg = cp.asarray(Xc), cp.asarray(yc)
t = 2.0 * yg.astype(cp.float64) - 1.0
Xl = Xg.astype(cp.float64)
def f_log(theta, grad=True):
    th = cp.asarray(theta)
    z = t * (Xl @ th[:-1] + th[-1])
    f = float(cp.logaddexp(0, -z).mean()) + 0.5 * alpha * float(th[:-1] @ th[:-1])
    if not grad:
        return f
    s_ = -t / (1.0 + cp.exp(z)) / n
    return f, cp.concatenate([Xl.T @ s_ + alpha * th[:-1], s_.sum()[None]]).get()
fl = minimize(f_log, np.zeros(51), jac=True, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-10}).fun
def reached(est):
    th = np.append(est.coef_.ravel(), est.intercept_[0]).astype(float)
    return (f_log(th, False) - fl) / fl <= 1e-2
AveragedSGDClassifier(loss="log_loss", max_iter=1).fit(Xg[:10_000], yg[:10_000])
g = time_to_target(lambda k: AveragedSGDClassifier(loss="log_loss", solver="sgd", alpha=alpha, max_iter=k, tol=None,
                   random_state=0), Xg, yg, reached, 64)
print(tag, "clf ttt log", g[:2] if g else None, flush=True)
s, est = timed_fit(lambda: AveragedSGDClassifier(solver="sgd", random_state=0), Xg, yg, repeats=3)
print(tag, "clf hinge defaults sgd", round(s, 4), est.n_iter_, float((est.predict(Xg) == yg).mean()), flush=True)
