"""Dual coordinate ascent on a GPU block, in the manner of TPA-SCD (Parnell et al. 2017): a warp per dual
coordinate, atomic adds of its step into the shared ``w``.

The CPU kernel (:func:`skpar.kernels.dcd_dense`) visits the rows one after another; here up to
:func:`concurrency` warps visit rows at once, each reading ``w`` as it is (possibly missing the steps of the rows
in flight beside it) and adding its own step atomically, so no step is lost and ``w`` stays exactly
``w(alpha)`` up to rounding. Dense rows use ``dcd_warps``, which keeps a warp's own steps in registers and adds them
every :func:`flush_rows` rows (every dense row touches every weight: per-row atomics on the same ``d`` addresses
serialise). Stale reads make the steps in flight interfere, as in Shotgun: the concurrency is about ``4 d`` rows in
flight (the whole GPU for wide sparse data), fewer where the rows share a direction (:func:`in_flight`), and each
step's curvature is scaled by :func:`_damping`, the safe factor for that many rows stepped at once, measured on the
block's own rows (:func:`batch_spread`).
"""

from __future__ import annotations

import os

import numpy as np

from .._device import array_module, cupy_module, resident_warps
from ._cuda import ctype, f64, i32, i64, kernel, launch

#: rows in flight per column for sparse rows (see the module docstring)
SPARSE_WARPS_PER_COLUMN = 4
#: warps at once on dense rows: measured on an H100 (asv_bench/scripts/gpu_benchmark.py --parts dcd_sweep, dense
#: 2,000,000 x 100), 32 warps reached a relative gap of 1e-3 in 93 rounds; 128 and more, or flushes of 8 rows, did
#: not within 150 (the damped steps of many rows in flight are too short)
DENSE_WARPS = 32
#: dense rows a warp steps through before it adds its pending steps to the shared w (``dcd_warps``)
FLUSH_ROWS = 1
#: the largest damping a launch may need: fewer rows go in flight where that many would need more (:func:`in_flight`)
MAX_SPREAD = 8.0
#: random batches of rows whose spread :func:`batch_spread` measures, and its power iterations on each
SPREAD_BATCHES, SPREAD_ITERS = 3, 30


def concurrency(block) -> int:
    """Warps that run dual coordinate steps at once on ``block`` (``SKPAR_DCD_WARPS`` overrides, for studies)."""
    env = os.environ.get("SKPAR_DCD_WARPS")
    if env:
        return max(1, int(env))
    if not block.is_sparse:
        return DENSE_WARPS
    return int(min(resident_warps(), max(32, SPARSE_WARPS_PER_COLUMN * block.X.shape[1])))


def flush_rows() -> int:
    """Rows between a warp's flushes of its pending steps (``SKPAR_DCD_FLUSH`` overrides, for studies)."""
    return max(1, int(os.environ.get("SKPAR_DCD_FLUSH", FLUSH_ROWS)))


def dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed):
    """:func:`skpar.parallel._dcd_tasks._dcd` on the device: ``n_epochs`` passes for every output, ``Wl`` (host,
    (K, d + [bias])) and ``A`` (device, (K, n)) updated in place; returns ``(primal_sum, dual_sum)`` at the
    incoming ``(W, A)``. The round's model goes to the device and back once (on one H100 the transfers of 500,000
    weights cost 4.4 ms where the pass over 500,000 sparse rows cost 0.5)."""
    cp = cupy_module()
    K = W.shape[0]
    n_warps, damp = in_flight(block, bias)
    primal, dual = 0.0, 0.0
    for k in range(K):
        cls = 1.0 if K == 1 else float(k)
        w0 = cp.asarray(W[k], dtype=cp.float64)
        wl = cp.asarray(Wl[k], dtype=cp.float64)
        for epoch in range(n_epochs):
            sums = dcd_pass(block, w0, wl, A[k], C, loss, cls, pos_weight[k], neg_weight[k], bias, sigma, n_warps,
                            damp, seed, epoch == 0)
            if epoch == 0:
                s = sums.reshape(-1, 2).sum(axis=0).get()
                primal += float(s[0])
                dual += float(s[1])
        Wl[k] = wl.get()
    _after_round(block, damp, dual - 0.5 * float(np.vdot(W, W)))
    return primal, dual


def dcd_pass(block, w0, wl, a, C, loss, cls, pos_weight, neg_weight, bias, sigma, n_warps, damp, seed, first):
    """One pass of ``n_warps`` warps over the block's rows in the order of ``seed``, for the output of class
    ``cls``, on device arrays: ``wl`` (the working weights) and ``a`` (its dual variables) change in place; ``w0``
    is the round's start, at which a ``first`` pass also takes the certificate's sums. Returns the device array of
    each warp's (primal, dual) sums (zeros unless ``first``)."""
    cp = cupy_module()
    X = block.X
    n, d = X.shape
    if block.is_sparse:
        data, indices, indptr = X.data, X.indices, X.indptr
    else:
        data, indices, indptr = X, cp.empty(1, dtype=cp.int32), cp.empty(1, dtype=cp.int32)
    g, blk = launch(n_warps)
    sums = cp.zeros(2 * g[0] * blk[0] // 32)
    common = (i64(n), i32(d), block.row_order(seed), i64(n), w0, wl, a, f64(C), f64(cls), f64(pos_weight),
              f64(neg_weight), f64(bias), f64(sigma), f64(damp), i32(bool(first)))
    if block.registers:
        fn = kernel("dcd_warps", ctype(X.dtype), type(loss), NC=max(1, -(-d // 32)))
        fn(g, blk, (X, block.y, block.sample_weight, *common, i32(flush_rows()), sums))
    else:
        fn = kernel("dcd_wild", ctype(X.dtype), type(loss), CSR=int(block.is_sparse))
        fn(g, blk, (data, indices, indptr, block.y, block.sample_weight, *common, sums))
    return sums


def _after_round(block, damp, dual_share):
    """Keep the round's damping on the block, doubled where the block's dual share fell over the round (see
    :func:`_damping`), and the share to compare the next round's with."""
    before = getattr(block, "gpu_dual", None)
    fell = before is not None and dual_share < before - 1e-12 * abs(before)
    block.gpu_damp = 2.0 * damp if fell else damp
    block.gpu_dual = dual_share


def in_flight(block, bias):
    """``(warps, damping)`` of the block's launches, chosen on its first round and kept on the block.

    Up to :func:`concurrency` warps; where that many rows in flight would need a damping above
    :data:`MAX_SPREAD`, a quarter as many, and so on down to 32. The rows' shared directions set this: the
    intercept's column (``bias`` in every row) or non-negative features put every row in flight on one direction,
    along which ``b`` stale steps add up to about ``b`` times one, where the rows' other directions overlap little.
    Damping every step by ``b`` there slows the other directions ``b`` times, so fewer rows at a smaller
    damping make more progress a pass (on 500,000 x 500,000 CSR rows of 30 values, an intercept and 8,448 warps
    the undamped steps overflowed to inf in one pass).
    """
    cached = getattr(block, "gpu_in_flight", None)
    if cached is not None:
        return cached, _damping(block, cached, bias)
    n = max(1, block.X.shape[0])
    warps = min(concurrency(block), n)
    per_warp = 1 if block.is_sparse else flush_rows()
    fixed = bool(os.environ.get("SKPAR_DCD_WARPS"))
    while True:
        damp = batch_spread(block.X, warps * per_warp, bias) if warps > 1 else 1.0
        if fixed or damp <= MAX_SPREAD or warps <= 32:
            break
        warps = max(32, warps // 4)
    block.gpu_in_flight, block.gpu_damp = warps, damp
    return warps, damp


def batch_spread(X, b, bias, seed=0):
    """The largest eigenvalue of the Gram matrix of ``b`` random rows of ``X``, each ``x~_i = [x_i, bias]``
    scaled to unit norm, the largest of :data:`SPREAD_BATCHES` batches: the safe factor on the curvature of ``b``
    dual steps taken at once against the same ``w`` (Takac et al. 2013; CoCoA+'s sigma' is the same bound for
    blocks). It is 1 for orthogonal rows, about ``(1 + sqrt(b / d))^2`` for rows spread at random over ``d``
    directions, and about ``1 + (b - 1) s`` where a share ``s`` of every row's squared norm lies along one
    direction (the intercept's: ``s = bias^2 / (||x||^2 + bias^2)``). Power iterations from a random start, on the
    device where ``X`` is (NumPy and SciPy arrays too, for tests).

    The batches iterate together: their rows stacked as one matrix ``Z``, each iteration's vectors the columns of
    one ``(rows, batches)`` matrix that is zero outside each batch's rows, so an iteration is two matrix products
    for all batches (on an H100 the batches' 180 separate sparse products and their launches had taken 56 ms of a
    0.11 s fit).
    """
    xp = array_module(X)
    n = X.shape[0]
    b = int(min(max(1, b), n))
    if b == 1:
        return 1.0
    rs = np.random.RandomState(seed)
    batches, starts = [], []
    for _ in range(SPREAD_BATCHES):
        # distinct rows: drawn with replacement and deduplicated where b is a small part of n (a permutation of
        # ten million rows costs a tenth of a second on the host)
        rows = np.unique(rs.randint(0, n, size=b)) if 4 * b < n else np.sort(rs.choice(n, size=b, replace=False))
        batches.append(rows)
        starts.append(rs.standard_normal(len(rows)))
    m = len(batches)
    seg = xp.asarray(np.repeat(np.arange(m), [len(r) for r in batches]))
    at = xp.arange(seg.shape[0])
    Z = X[xp.asarray(np.concatenate(batches))].astype(xp.float64)
    sq = xp.asarray(Z.multiply(Z).sum(axis=1)).ravel() if hasattr(Z, "multiply") else (Z * Z).sum(axis=1)
    # the rows' columns as rows, made once: a product with a transposed CSR matrix is a slower cuSPARSE call at
    # each of the iterations
    Zt = Z.T.tocsr() if hasattr(Z, "tocsr") else Z.T
    inv = 1.0 / xp.sqrt(sq + bias * bias)
    v = xp.asarray(np.concatenate(starts))
    U = xp.zeros((seg.shape[0], m))
    # nothing in the loop is read back to the host: on a GPU its launches queue without a wait (reading the
    # estimate at every iteration cost two synchronisations each)
    for _ in range(SPREAD_ITERS):
        v = v / xp.sqrt(xp.bincount(seg, weights=v * v, minlength=m))[seg]  # each batch's part to unit norm
        U[at, seg] = v * inv  # x~ = Z^T v over each batch's scaled rows; then Z x~
        top = Zt @ U
        tail = bias * U.sum(axis=0)
        v = (xp.asarray(Z @ top)[at, seg] + bias * tail[seg]) * inv
    # ||Z^T v||^2 for each batch's unit v at the last iteration: a lower bound that rises with the iterations
    lam = (xp.asarray(top) ** 2).sum(axis=0) + tail * tail
    return float(max(1.0, float(lam.max())))


def _damping(block, rows, bias=0.0):
    """The factor on each dual step's curvature for ``rows`` rows stepped at once against a stale ``w``.

    ``b`` rows in flight act like a mini-batch of dual coordinates stepped together; the safe factor for such a
    batch is the largest eigenvalue of its normalised Gram matrix (:func:`batch_spread`). It starts there and
    doubles whenever the block's dual objective fell over a round, which safe steps never let happen (with one block
    that is the exact dual; with several, the block's share: a warning light, while the driver's duality gap stays
    the certificate).
    """
    damp = getattr(block, "gpu_damp", None)
    if damp is None:
        damp = batch_spread(block.X, rows, bias) if rows > 1 else 1.0
    return damp


def w_of_alpha_gpu(block, shape, bias):
    """``sum_i alpha_ik t_ik x~_i`` over the block, on the device (see
    ``skpar.parallel._dcd_tasks.w_of_alpha_task``)."""
    cp = cupy_module()
    K = shape[0]
    out = np.zeros(shape)
    X, y = block.X, block.y
    for k in range(K):
        cls = 1.0 if K == 1 else float(k)
        coef = block.alpha[k] * cp.where(y == cls, 1.0, -1.0)
        out[k, :X.shape[1]] = (X.T @ coef.astype(X.dtype)).astype(cp.float64).ravel().get()
        if bias:
            out[k, -1] = bias * float(coef.sum())
    return out
