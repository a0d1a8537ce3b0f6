"""Ridge regression by the normal equations, data-parallel over blocks of rows: one round, then one solve.

The squared-error objective of :class:`~skpar.ParallelSGDRegressor` with an l2 penalty (or none),

.. math::

    \\min_{w, b} \\; \\frac{1}{n} \\sum_{i=1}^n s_i \\, \\tfrac12 (y_i - x_i^\\top w - b)^2
    + \\frac{\\lambda_2}{2} \\|w\\|_2^2,

is minimised where :math:`(C + n \\lambda_2 I) w = c` and :math:`b = \\bar y - \\bar x^\\top w`, with :math:`C` the
weighted scatter matrix of the rows about their weighted mean :math:`\\bar x`, and :math:`c` that of the rows with
the targets (no centring without an intercept). Every block sends its own scatter about its own mean, and the
driver combines them exactly (the pairwise update of Chan, Golub and LeVeque 1979, for matrices), so no block
ever forms a sum of squares far from its centre: the cancellation of subtracting :math:`n \\bar x \\bar x^\\top`
from raw sums is confined to sparse blocks, whose zeros a centred copy would fill, as scikit-learn's sparse
``Ridge`` does. A round costs a pass of BLAS products over dense rows, or half the square of each sparse row's
non-zeros; with few features that is less than the epochs SGD needs, and the answer is exact.

A GPU block (one GPU's rows, local or a dask-cuda worker's) forms the same scatters on its device, in float64
chunks through cuBLAS: the float32 rows are widened a chunk at a time, so the sums are float64's, as on the host.

The round keeps nothing on the blocks, so a block lost with its worker is placed again and the round rerun, as
SGD's rounds are.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from .._device import cupy_module
from .._report import record
from ..kernels import sparse_arrays
from ..kernels._newton import gram_csr

#: dense values centred and multiplied at a time: a chunk of rows' float64 copy (1 MB, a core's L2 cache), centred
#: on its own mean and multiplied while in cache, then merged (:func:`_merge_scatter`). Chunks of 32 MB centred on
#: the block's mean read the rows twice and the copy through memory: on 2,000,000 x 100 in 16 blocks, 1.50 s on one
#: thread and 0.80 s on two, against 1.23 and 0.73 s in cache-sized chunks (docs/benchmarks.md)
SCATTER_VALUES = 1 << 17
#: dense values widened to float64 and multiplied at a time on a GPU (512 MB): on an H200, 10,000,000 x 100 float32
#: took 42 ms in chunks of 16M values and 22 ms in chunks of 64M or 256M (docs/gpu.md)
DEVICE_SCATTER_VALUES = 1 << 26
#: sparse blocks at least this full take the dense path, a chunk of rows densified at a time: BLAS on a few
#: columns beats pairing each row's non-zeros (LIBSVM's cpusmall, 8,192 x 12 and full, stored sparse)
DENSE_FILL = 0.25


def scatter_task(block, center):
    """The block's weighted moments over its training rows: total weight ``S``, means ``mx`` and ``my`` (zeros
    without ``center``), the scatters ``Cxx``, ``cxy`` and ``syy`` about them, in float64, and the row count."""
    if getattr(block, "on_gpu", False):
        return _device_scatter(block, center)
    rows = block.train_rows
    X, y, s = block.X, block.y, block.sample_weight
    if rows.shape[0] != block.n_rows:  # validation rows held out
        X, y, s = X[rows], y[rows], s[rows]
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    unit = bool((s == 1.0).all())  # unit weights (the default) skip the products with them
    S = float(s.shape[0]) if unit else float(s.sum())
    d = X.shape[1]
    scale = 1.0 / S if center and S > 0 else 0.0
    sy = y if unit else s * y
    my = float(sy.sum()) * scale
    if block.is_sparse and X.nnz < DENSE_FILL * X.shape[0] * d:
        mx = np.asarray(X.T @ s, dtype=np.float64).ravel() * scale
        Cxx = np.zeros((d, d))
        data, indices, indptr = sparse_arrays(X)
        gram_csr(data, indices, indptr, s, 0.0, Cxx)
        Cxx -= S * np.outer(mx, mx)
        cxy = np.asarray(X.T @ sy, dtype=np.float64).ravel() - S * mx * my
        r = y - my
        syy = float(r @ r if unit else np.dot(s, r * r))
    else:
        S, mx, my, Cxx, cxy, syy = _dense_scatter(X, y, s, unit, center, block.is_sparse)
    return S, mx, my, Cxx, cxy, syy, rows.shape[0]


def _dense_scatter(X, y, s, unit, center, densify):
    """The weighted moments of dense rows (or of sparse rows made dense a chunk at a time, ``densify``): each chunk
    of :data:`SCATTER_VALUES` values is centred on its own mean and multiplied while it is in cache, and merged into
    the running moments (:func:`_merge_scatter`), so the rows are read from memory once."""
    n, d = X.shape
    step = max(1, min(n, SCATTER_VALUES // d))
    # one buffer: a fresh one a chunk paid page faults on every chunk. The centred targets are its last column, so
    # one product gives the chunk's Cxx, cxy and syy (BLAS's matrix-vector products from several threads at once
    # ran one call at a time on a 16-core host: docs/benchmarks.md)
    buf = np.empty((step, d + 1))
    acc = (0.0, np.zeros(d), 0.0, np.zeros((d, d)), np.zeros(d), 0.0)
    for a in range(0, n, step):
        part = X if step >= n else X[a:a + step]  # one chunk: no slice (a sparse slice is a copy)
        part = part.toarray() if densify else part
        yk = y[a:a + step]
        sk = None if unit else s[a:a + step]
        Sk = float(part.shape[0]) if unit else float(sk.sum())
        if Sk <= 0:  # rows of zero weight add nothing
            continue
        if not center:
            mk, myk = np.zeros(d), 0.0
        elif unit:
            mk, myk = part.mean(axis=0, dtype=np.float64), float(yk.mean())
        else:
            mk, myk = np.asarray(sk @ part, dtype=np.float64) / Sk, float(sk @ yk) / Sk
        Zr = buf[:part.shape[0]]
        np.subtract(part, mk, out=Zr[:, :d])
        np.subtract(yk, myk, out=Zr[:, d])
        if not unit:
            Zr *= np.sqrt(sk)[:, None]
        M = Zr.T @ Zr
        acc = _merge_scatter(acc, (Sk, mk, myk, np.ascontiguousarray(M[:d, :d]), M[:d, d].copy(), float(M[d, d])), np)
    return acc


def _merge_scatter(acc, part, xp):
    """The moments ``(S, mx, my, Cxx, cxy, syy)`` of two sets of rows, each given about its own weighted mean, about
    the union's mean: the pairwise update of Chan, Golub and LeVeque (exact; ``acc`` may be updated in place)."""
    S, mx, my, Cxx, cxy, syy = acc
    Sk, mk, myk, Ck, ck, syk = part
    if S == 0.0:
        return part
    total = S + Sk
    dx, dy = mk - mx, myk - my
    f = S * Sk / total
    Cxx += Ck
    Cxx += f * xp.outer(dx, dx)
    cxy += ck + f * dx * dy
    return total, mx + dx * (Sk / total), my + dy * (Sk / total), Cxx, cxy, syy + syk + f * dy * dy


def _device_scatter(block, center):
    """:func:`scatter_task` on a GPU block's dense rows: each chunk's scatter about its own mean, in float64 on the
    device, merged into the running one by the same exact pairwise update as :func:`combine_scatters` (the
    chunk's rows are a block of their own), so no sum of squares is formed far from its centre."""
    cp = cupy_module()
    if block.is_sparse:
        raise TypeError("the normal equations on a GPU take dense rows; sparse GPU rows are fitted by SGD")
    X, y, s = block.X, block.y, block.sample_weight
    n, d = X.shape
    unit = bool((s == 1.0).all())  # the default: no scaling by the weights' roots
    step = max(1, min(n, DEVICE_SCATTER_VALUES // d))
    acc = (0.0, cp.zeros(d), cp.zeros(()), cp.zeros((d, d)), cp.zeros(d), cp.zeros(()))
    for a in range(0, n, step):
        Z = X[a:a + step].astype(cp.float64)
        r = y[a:a + step].astype(cp.float64, copy=True)
        sk = s[a:a + step]
        Sk = float(Z.shape[0]) if unit else float(sk.sum())
        if Sk <= 0:
            continue
        if center:
            # sums over rows as products with the weights (cuBLAS gemv): CuPy's reduction along axis 0 of a
            # C-ordered chunk ran d outputs at a time and was 40x slower than the scatter itself
            mk = (sk @ Z) / Sk
            myk = (sk @ r) / Sk
            Z -= mk
            r -= myk
        else:
            mk, myk = cp.zeros(d), cp.zeros(())
        if not unit:
            root = cp.sqrt(sk)
            Z *= root[:, None]
            r *= root
        acc = _merge_scatter(acc, (Sk, mk, myk, Z.T @ Z, Z.T @ r, r @ r), cp)
    S, mx, my, Cxx, cxy, syy = acc
    return (S, cp.asnumpy(mx), float(my), cp.asnumpy(Cxx), cp.asnumpy(cxy), float(syy), n)


def combine_scatters(parts):
    """The scatters of the union of the blocks, from each block's about its own mean (exact), and its rows."""
    S = sum(p[0] for p in parts)
    w = np.array([p[0] for p in parts]) / S if S > 0 else np.zeros(len(parts))
    mx = sum(wk * p[1] for wk, p in zip(w, parts, strict=True))
    my = float(sum(wk * p[2] for wk, p in zip(w, parts, strict=True)))
    Cxx, cxy, syy = 0.0, 0.0, 0.0
    for Sk, mxk, myk, Ck, ck, syk, _ in parts:
        dx, dy = mxk - mx, myk - my
        Cxx = Cxx + Ck + Sk * np.outer(dx, dx)
        cxy = cxy + ck + Sk * dx * dy
        syy += syk + Sk * dy * dy
    return S, mx, my, Cxx, cxy, syy, sum(p[6] for p in parts)


def ridge_normal_equations(rounds, *, l2, fit_intercept, history, start_time=None):
    """Solve the l2-penalised least squares over the blocks of ``rounds`` exactly (one round).

    The objective's mean is over the training rows, weights or not. Appends one ``history`` row (the objective at
    the solution). Returns ``(w, b)``. Without a penalty a singular system gets the least-norm solution, as
    :class:`~sklearn.linear_model.LinearRegression` gives.
    """
    start_time = time.perf_counter() if start_time is None else start_time
    res = rounds.run(scatter_task, bool(fit_intercept))  # (under the fit's one_blas_thread_each)
    S, mx, my, Cxx, cxy, syy, n_samples = combine_scatters(res.results)
    A = Cxx + (n_samples * l2) * np.eye(Cxx.shape[0])
    w = None
    if l2 > 0:
        try:
            w = scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, check_finite=False), cxy, check_finite=False)
        except np.linalg.LinAlgError:  # not positive definite in floating point: fall through to least squares
            w = None
    if w is None:
        w = scipy.linalg.lstsq(A, cxy, check_finite=False)[0]
    if not np.isfinite(w).all():
        raise FloatingPointError("the normal equations gave non-finite coefficients")
    b = my - float(mx @ w) if fit_intercept else 0.0
    # the objective at w from the scatters: sum s (y - xw - b)^2 = syy - 2 w.c + w' C w at the optimal intercept
    sse = max(syy - 2.0 * float(w @ cxy) + float(w @ Cxx @ w), 0.0)
    objective = 0.5 * sse / max(n_samples, 1) + 0.5 * l2 * float(w @ w)
    record(history, {"round": 0, "epoch": 1, "time": time.perf_counter() - start_time, "objective": objective,
                     "n_samples": int(n_samples), "bytes_sent": res.bytes_sent},
           model=lambda: (w[None, :], np.array([b], dtype=np.float64)))
    return w, b

