"""Shotgun coordinate descent for the (elastic-net) Lasso on one GPU (Bradley et al. 2011).

Each parallel step updates ``P`` coordinates at once from one gradient, the closed-form coordinate minimiser of

.. math::

    \\min_w \\frac{1}{2n} \\sum_i s_i (y_i - \\bar y - (x_i - \\bar x)^\\top w)^2 + \\lambda_1 \\|w\\|_1
    + \\frac{\\lambda_2}{2} \\|w\\|_2^2,

as :mod:`skpar.parallel._shotgun` does on CPU threads. On the GPU a step is two cuBLAS (or cuSPARSE) products
over X: ``z = (X - xbar)^T (s * r) / n`` for all coordinates and ``r -= (X - xbar) delta`` for the ``P`` that
moved (centring stays implicit: X is never copied). ``P`` starts at ``d / rho`` (``rho`` the spectral radius of the
normalised Gram matrix, Shotgun's ``P*``) and is halved whenever an epoch raises the objective, so a ``P`` past
``P*`` costs an undone epoch, never a diverged fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._lasso_objective import duality_gap
from .._penalties import Penalty
from ._namespace import cupy_module, is_sparse_gpu

#: rows sampled for the spectral radius estimate
RHO_ROWS = 20_000


@dataclass
class GPULassoData:
    """The centred problem on the device: what :class:`skpar.parallel._lasso_data.LassoData` holds on the host."""

    X: object
    yc: object
    s: object
    xbar: object
    L: object
    ybar: float

    @property
    def n(self):
        return int(self.X.shape[0])

    @property
    def d(self):
        return int(self.X.shape[1])

    @classmethod
    def build(cls, X, y, sample_weight, fit_intercept):
        cp = cupy_module()
        n, d = X.shape
        s = cp.ones(n) if sample_weight is None else sample_weight * (n / float(sample_weight.sum()))
        if is_sparse_gpu(X):
            sq = X.multiply(X).T @ s.astype(X.dtype)
            colsum = X.T @ s.astype(X.dtype)
        else:
            sq = cp.zeros(d)
            step = max(1, (1 << 24) // max(d, 1))  # row chunks: no n x d temporary for X * X
            for a in range(0, n, step):
                xa = X[a:a + step].astype(cp.float64)
                sq += (xa * xa).T @ s[a:a + step]
            colsum = X.T @ s.astype(X.dtype)
        sq, colsum = cp.asarray(sq, dtype=cp.float64).ravel(), cp.asarray(colsum, dtype=cp.float64).ravel()
        if not fit_intercept:
            colsum = cp.zeros(d)
        xbar = colsum / n
        ybar = float(s @ y / n) if fit_intercept else 0.0
        L = cp.maximum(sq / n - xbar * xbar, 0.0)
        return cls(X, y - ybar, s, xbar, L, ybar)

    def matvec(self, w):
        """``(X - xbar) w`` as float64."""
        return (self.X @ w.astype(self.X.dtype)).astype(np.float64).ravel() - float(self.xbar @ w)

    def residual(self, w):
        return self.yc - self.matvec(w)

    def gradient(self, r):
        sr = self.s * r
        return ((self.X.T @ sr.astype(self.X.dtype)).astype(np.float64).ravel() - self.xbar * float(sr.sum())) \
            / self.n


def spectral_radius_gpu(data, seed, n_iter=30):
    """Largest eigenvalue of the column-normalised centred Gram matrix, by power iteration on a row sample."""
    cp = cupy_module()
    rs = cp.random.RandomState(seed)
    rows = cp.unique(rs.randint(0, data.n, size=RHO_ROWS, dtype=cp.int64)) if data.n > RHO_ROWS \
        else cp.arange(data.n)
    Xs = data.X[rows]
    Xs = Xs.toarray() if is_sparse_gpu(Xs) else Xs
    Xs = Xs.astype(cp.float64) - data.xbar
    scale = 1.0 / cp.sqrt(cp.maximum(data.L, 1e-300))
    scale[data.L <= 0] = 0.0
    v = rs.standard_normal(data.d)
    lam = 1.0
    for _ in range(n_iter):
        u = Xs.T @ (Xs @ (scale * v)) * scale / rows.shape[0]
        nrm = float(cp.linalg.norm(u))
        if nrm == 0.0:
            return 1.0
        lam, v = float(v @ u) / float(v @ v), u / nrm
    return max(lam, 1.0)


def _primal(data, w, r, l1, l2):
    return 0.5 * float(data.s @ (r * r)) / data.n + Penalty(l1, l2).value(w)


def shotgun_lasso_gpu(data, w, l1, l2, *, P, rho, max_epochs, tol, positive=False, selection="cyclic", seed=0,
                      history=None, start_time=None, verbose=0, refresh=10):
    """Minimise the (elastic-net) Lasso on the GPU; returns ``(w, gap, epochs, converged, P)`` like
    :func:`skpar.parallel._shotgun.shotgun_lasso` (``w`` a host array), ``history`` one row per epoch."""
    cp = cupy_module()
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    rng = np.random.default_rng(seed)
    d = data.d
    w = cp.asarray(w, dtype=cp.float64)
    r = data.residual(w)
    p = max(1, min(d, int(P) if P is not None else int(d / rho)))
    L = data.L
    denom = L + l2
    live = denom > 0
    epochs, steps, converged, gap = 0, 0, False, np.inf
    prev = _primal(data, w, r, l1, l2)
    while True:
        z = data.gradient(r)
        gap = duality_gap(data, w, r, z, l1, l2, positive)
        history.append({"round": len(history), "time": time.perf_counter() - start_time, "epochs": epochs,
                        "steps": steps, "primal": _primal(data, w, r, l1, l2), "gap": gap, "P": p})
        if verbose:
            print(f"-- epoch {epochs}: gap {gap:.3e}, P {p}")
        if gap <= tol:
            converged = True
            break
        if epochs >= max_epochs:
            break
        order = rng.permutation(d) if selection == "random" else np.arange(d)
        snapshot = (w.copy(), r.copy())
        for a in range(0, d, p):
            B = cp.asarray(order[a:a + p])
            if a > 0:
                z = data.gradient(r)
            zb, wb, Lb, db = z[B], w[B], L[B], denom[B]
            u = Lb * wb + zb
            new = cp.sign(u) * cp.maximum(cp.abs(u) - l1, 0.0) if not positive else cp.maximum(u - l1, 0.0)
            new = cp.where(live[B], new / cp.where(live[B], db, 1.0), 0.0)
            delta = cp.zeros(d)
            delta[B] = new - wb
            w[B] = new
            r -= data.matvec(delta)
            steps += 1
        epochs += 1
        if epochs % refresh == 0:
            r = data.residual(w)  # drop the rounding drift of many updates
        cur = _primal(data, w, r, l1, l2)
        if not np.isfinite(cur) or cur > prev * (1 + 1e-12) + 1e-300:
            # P past P*: the simultaneous updates interfered; undo the epoch, halve P and go at once to the P* of
            # the estimated rho if smaller (as the CPU solver does, skpar.parallel._shotgun)
            w, r = snapshot
            p_new = max(1, min(p // 2, int(d / rho)))
            history.append({"round": len(history), "time": time.perf_counter() - start_time, "epochs": epochs,
                            "steps": steps, "primal": prev, "gap": np.nan, "P": p,
                            "event": f"objective rose: P {p} -> {p_new}"})
            if p == 1:
                break
            p = p_new
            continue
        prev = cur
    return w.get(), gap, epochs, converged, p
