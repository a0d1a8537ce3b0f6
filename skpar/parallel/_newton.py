"""A primal Newton method for the squared-hinge SVM, data-parallel over blocks of rows, certified by the dual.

For each output ``k`` the primal (see :mod:`skpar.kernels._newton`) is piecewise quadratic and once
differentiable; its generalised Hessian :math:`H_k = I + 2 \\sum_{i \\in I} c_{ik} \\tilde x_i \\tilde x_i^T` over the
rows inside the margin gives Newton steps that converge in a handful of iterations (Keerthi and DeCoste 2005; the
trust-region Newton method of liblinear, Lin, Weng and Keerthi 2008, which scikit-learn's ``LinearSVC`` runs when
there are more rows than features). An iteration is a few rounds over the blocks, each a sum of the blocks' parts:

1. the margins, the loss and the share of :math:`w(\\alpha) = \\sum_i \\alpha_{ik} t_{ik} \\tilde x_i` at the
   dual variables :math:`\\alpha_{ik} = 2 c_{ik} \\max(0, 1 - t_{ik} w_k \\cdot \\tilde x_i)` that the primal point
   gives; the gradient is :math:`w_k - w_k(\\alpha)` and the duality gap :math:`P(w) - D(\\alpha)` certifies the
   iterate, as the dual solvers' certificate does;
2. the Newton direction: with few features and short rows the blocks send their parts of :math:`H_k` (a pass
   costs the sum of the rows' squared non-zeros) and the driver solves the system; otherwise conjugate gradients,
   one round a Hessian-vector product (every output in one pass), preconditioned by the first iteration's Hessian
   diagonal;
3. a line search: every trial step's loss in one round, from the margins of the direction.

The margins stay on the blocks between rounds (declared solver state, so they travel when Dask moves a block),
with a token of the iteration they belong to; the first round of an iteration computes them from ``w`` where a
block lacks them, but the rounds after it need them: a block lost mid-iteration ends the fit with an error (the
dual, which checkpoints, is what ``solver='auto'`` picks on a cluster). A GPU block's rounds run the same tasks on
the device (:mod:`skpar.parallel._newton_device`).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg

from .._device import cupy_module
from .._losses import make_loss
from .._report import record, stop_requested
from ..kernels import sparse_arrays, w_of_alpha_csr, w_of_alpha_dense
from ..kernels._newton import (
    gram_csr,
    hess_vec_csr,
    hess_vec_dense,
    margins_csr,
    margins_dense,
    step_losses,
    transposed_product_csr,
)
from . import _newton_device

#: the squared hinge's compiled scalar function, which the line search's kernel takes
SQUARED_HINGE = make_loss("squared_hinge").kernel
#: trial steps of the line search, all priced in one round
LINE_STEPS = 0.5 ** np.arange(12)
#: Armijo's sufficient decrease
ARMIJO = 1e-2
#: conjugate gradients stop at this residual relative to the gradient (liblinear's choice), or after CG_MAX_ITER
CG_RTOL = 0.1
CG_MAX_ITER = 200
#: the Hessian's parts are sent (and the system solved) for at most this many weights per output, and always for
#: at most ALWAYS_GRAM_WEIGHTS
MAX_GRAM_WEIGHTS = 2048
ALWAYS_GRAM_WEIGHTS = 64


def _margins(block, W, bias):
    X = block.X
    out = np.empty((W.shape[0], block.n_rows))
    if block.is_sparse:
        margins_csr(*sparse_arrays(X), W, bias, out)
    elif X.dtype == np.float64:  # BLAS (float32 rows would be copied to float64 first: the kernel reads them)
        d = X.shape[1]
        np.matmul(W[:, :d], X.T, out=out)
        if bias != 0.0:
            out += bias * W[:, d:]
    else:
        margins_dense(X, W, bias, out)
    return out


def _targets_and_costs(block, K, C, pos_weight, neg_weight):
    """``T[k, i] = +-1`` and the costs ``c_ik = C s_i (class weight of t_ik)``, as the dual kernels take them."""
    y = np.asarray(block.y, dtype=np.float64)
    classes = np.array([1.0]) if K == 1 else np.arange(K, dtype=np.float64)
    T = np.where(y[None, :] == classes[:, None], 1.0, -1.0)
    Cst = C * np.asarray(block.sample_weight, dtype=np.float64)[None, :] * np.where(
        T > 0, pos_weight[:, None], neg_weight[:, None])
    return T, np.maximum(Cst, 0.0)


def block_margins(block, W, step, prev, C, pos_weight, neg_weight, bias):
    """The block's Newton state (targets ``T``, costs ``C``, margins ``P`` and ``Z``, token), made on first use,
    and the margins at ``W``: the previous iteration's moved by ``step`` along the direction's margins where the
    block holds those of iteration ``prev``, else computed."""
    st = getattr(block, "newton", None)
    if st is None:
        T, Cst = _targets_and_costs(block, W.shape[0], C, pos_weight, neg_weight)
        st = block.newton = {"T": T, "C": Cst, "token": None, "P": None, "Z": None}
    if st["token"] == prev and st["Z"] is not None and step is not None:
        return st, st["P"] + step[:, None] * st["Z"]
    return st, _margins(block, W, bias)


def newton_cost_task(block):
    """``(sum of the rows' squared non-zeros, non-zeros)``: what a Hessian part and a Hessian-vector pass cost."""
    X = block.X
    if block.is_sparse:
        nnz = np.diff(X.indptr).astype(np.float64)
        return float(nnz @ nnz), float(nnz.sum())
    n, d = X.shape
    return float(n) * d * d, float(n) * d


def newton_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram, live):
    """Round 1 of an iteration at ``W``: per output the loss, the dual terms ``sum_i alpha_ik - c_ik r_ik^2`` and
    the block's share of ``w(alpha)``, plus its parts of the outputs' Hessians when ``gram`` (up to date for
    the live outputs).

    The margins at ``W`` are the last ones moved by ``step`` along the direction's margins when the block holds
    those of iteration ``prev``, else computed. The block keeps the margins, its dual variables ``alpha`` (for
    ``dual_coef_``) and the Hessian's row coefficients, under ``token``.
    """
    if getattr(block, "on_gpu", False):
        return _newton_device.newton_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram,
                                                live)
    K = W.shape[0]
    st, P = block_margins(block, W, step, prev, C, pos_weight, neg_weight, bias)
    T, Cst = st["T"], st["C"]
    R = np.maximum(1.0 - T * P, 0.0)
    cr = Cst * R
    alpha = 2.0 * cr
    loss = (cr * R).sum(axis=1)
    dual_terms = alpha.sum(axis=1) - loss  # alpha^2 / (4 c) = c r^2
    share = np.zeros(W.shape)
    X = block.X
    if block.is_sparse:
        w_of_alpha_csr(*sparse_arrays(X), block.y, alpha, bias, share)
    else:
        w_of_alpha_dense(X, block.y, alpha, bias, share)
    coef = np.where(R > 0.0, 2.0 * Cst, 0.0)
    parts = None
    if gram:
        # the block's Hessian parts are kept and moved by the rows that entered or left the margin: late
        # iterations change few rows (Keerthi and DeCoste 2005), so they cost a pass over the margins only
        if "gram" not in st:
            st["gram"], st["gram_coef"] = np.zeros((K, W.shape[1], W.shape[1])), np.zeros_like(coef)
        parts, held = st["gram"], st["gram_coef"]
        for k in np.flatnonzero(live):
            gram_part(block, coef[k] - held[k], bias, parts[k])
            held[k] = coef[k]
    else:
        # conjugate gradients' preconditioner, from the first iteration's Hessian (any positive diagonal is a
        # valid one, and what it fixes, the features' scales, stays): one pass a fit, not one an iteration
        if "diagonal" not in st:
            st["diagonal"] = _hessian_diagonal(block, coef, bias)
        parts = st["diagonal"]
    st.update(token=token, P=P, Z=None, coef=coef)
    block.alpha = alpha
    block.persist("newton", "alpha")
    return loss, dual_terms, share, parts


def _hessian_diagonal(block, coef, bias):
    """The diagonals of the block's parts of the outputs' Hessian terms, ``sum_i coef[k, i] x~_i^2``: taken once a
    fit, by matrix products over chunks of the rows' squares (a chunk's copy at a time, not the whole block's)."""
    X = block.X
    K, d = coef.shape[0], X.shape[1]
    out = np.zeros((K, d + (1 if bias != 0.0 else 0)))
    if block.is_sparse:  # one compiled pass over the squared values (scipy's slices and products copied them)
        _, indices, indptr = sparse_arrays(X)
        transposed_product_csr(np.square(X.data, dtype=np.float64), indices, indptr, coef, out[:, :d])
        if bias != 0.0:
            out[:, d] = bias * bias * coef.sum(axis=1)
        return out
    for a in range(0, block.n_rows, DIAGONAL_CHUNK):
        rows = X[a:a + DIAGONAL_CHUNK]
        sq = rows.multiply(rows) if block.is_sparse else np.square(rows, dtype=np.float64)
        out[:, :d] += (sq.T @ coef[:, a:a + DIAGONAL_CHUNK].T).T
    if bias != 0.0:
        out[:, d] = bias * bias * coef.sum(axis=1)
    return out


#: rows squared at a time for the preconditioner
DIAGONAL_CHUNK = 4096


def _gram_dense(X, coef, bias, out):
    """``out += sum_i coef[i] x~_i x~_i^T`` over the dense rows whose ``coef`` is not 0, by BLAS (the parts are
    assembled for few features only, so a copy of the rows is small; none is made when every row counts)."""
    rows = np.flatnonzero(coef)
    if not rows.size:
        return
    Xr = np.asarray(X if rows.size == X.shape[0] else X[rows], dtype=np.float64)
    CX = coef[rows, None] * Xr
    d = Xr.shape[1]
    out[:d, :d] += Xr.T @ CX
    if bias != 0.0:
        v = bias * CX.sum(axis=0)
        out[:d, d] += v
        out[d, :d] += v
        out[d, d] += bias * bias * coef[rows].sum()


def gram_part(block, coef, bias, out):
    """``out += sum_i coef[i] x~_i x~_i^T`` over the block's rows: BLAS on dense rows, the compiled pairs of each
    row's non-zeros on sparse ones (BLAS on a dense copy of even well-filled sparse rows was no faster;
    docs/benchmarks.md)."""
    if block.is_sparse:
        gram_csr(*sparse_arrays(block.X), coef, bias, out)
    else:
        _gram_dense(block.X, coef, bias, out)


def newton_hess_vec_task(block, V, bias):
    """The block's part of every output's Hessian term times ``V[k]`` (rows of ``V`` that are 0 are skipped)."""
    if getattr(block, "on_gpu", False):
        return _newton_device.newton_hess_vec_task(block, V, bias)
    coef = block.newton["coef"]
    out = np.zeros(V.shape)
    go = V.any(axis=1)
    if block.is_sparse:
        hess_vec_csr(*sparse_arrays(block.X), coef, V, go, bias, out)
    else:
        hess_vec_dense(block.X, coef, V, go, bias, out)
    return out


def newton_line_task(block, S, steps, bias):
    """The block's loss of every output at ``W + steps[m] S`` for every trial step; keeps the margins of ``S``."""
    if getattr(block, "on_gpu", False):
        return _newton_device.newton_line_task(block, S, steps, bias)
    st = block.newton
    Z = _margins(block, S, bias)
    st["Z"] = Z
    out = np.zeros((S.shape[0], steps.shape[0]))
    step_losses(SQUARED_HINGE, st["P"], Z, st["T"], st["C"], steps, out)
    return out


def _conjugate_gradients(rounds, G, M, live, bias, reg=1.0):
    """Solve ``H_k s_k = -g_k`` for the live outputs at once, one round a Hessian-vector product, preconditioned
    by ``M`` (the Hessians' diagonals: Jacobi, which evens out the features' scales). ``H`` is the penalty's
    diagonal ``reg`` plus the loss term. Stops on the residual ``||H s + g|| <= CG_RTOL ||g||``.

    Where every block is a GPU block of this process the vectors live on the device (:func:`_solve_arrays`) and
    only the direction comes back to the host."""
    xp = _solve_arrays(rounds)
    G, M = xp.asarray(G), xp.asarray(M)
    reg = xp.asarray(reg) if np.ndim(reg) else reg
    live = xp.asarray(live)
    S = xp.zeros(G.shape)
    Rs = xp.where(live[:, None], -G, 0.0)
    Zs = Rs / M
    D = Zs.copy()
    rz = (Rs * Zs).sum(axis=1)
    target = CG_RTOL ** 2 * (G * G).sum(axis=1)
    going = live & ((Rs * Rs).sum(axis=1) > target)
    for _ in range(CG_MAX_ITER):
        if not bool(going.any()):
            break
        V = xp.where(going[:, None], D, 0.0)
        HD = reg * V + sum(rounds.run(newton_hess_vec_task, V, bias).results)
        dHd = (V * HD).sum(axis=1)
        a = xp.where(going, rz / xp.where(dHd > 0, dHd, 1.0), 0.0)
        S += a[:, None] * V
        Rs -= a[:, None] * HD
        Zs = Rs / M
        rz_new = (Rs * Zs).sum(axis=1)
        beta = xp.where(going, rz_new / xp.where(rz > 0, rz, 1.0), 0.0)
        D = Zs + beta[:, None] * D
        rz = xp.where(going, rz_new, rz)
        going &= (Rs * Rs).sum(axis=1) > target
    return S if xp is np else xp.asnumpy(S)


def _solve_arrays(rounds):
    """The array module of conjugate gradients' vectors: CuPy where every block is a GPU block in this process (the
    thread backend's one GPU block), whose Hessian-vector products then take and return device arrays; NumPy
    elsewhere (host blocks, and Dask workers, whose results come back as NumPy arrays). On one H100, 500,000 x
    500,000 CSR rows, conjugate gradients on the host took 0.44 s of Newton's 0.52 s, 0.24 s of it the host's own
    arithmetic on the 500,000 weights; on the device 0.08 s of 0.14 s (docs/gpu.md)."""
    if rounds.backend.in_process and rounds.blocks and all(getattr(b, "on_gpu", False) for b in rounds.blocks):
        return cupy_module()
    return np


def _line_search(rounds, W, S, G, primal, live, bias, task=None, reg=1.0, stages=(LINE_STEPS,)):
    """The first trial step that decreases each live output's primal enough (Armijo). Each of ``stages`` is a round
    of ``task`` (the loss at those trial steps; the squared hinge's by default), run while some output has no step
    yet; the penalty is ``0.5 w' diag(reg) w``."""
    steps = np.zeros(W.shape[0])
    pending = live.copy()
    for trial in stages:
        losses = sum(rounds.run(task or newton_line_task, S, trial, bias).results)
        for k in np.flatnonzero(pending):
            w, s = reg * W[k], S[k]
            quad = 0.5 * (w @ W[k] + 2 * trial * (w @ s) + trial ** 2 * ((reg * s) @ s))
            ok = quad + losses[k] <= primal[k] + ARMIJO * trial * (G[k] @ s)
            # a Newton direction of a convex function is a descent direction: a small enough step passes unless
            # rounding ends the progress, and then the step is not taken
            if ok.any():
                steps[k], pending[k] = trial[np.argmax(ok)], False
        if not pending.any():
            break
    return steps


def primal_newton(rounds, W, *, C, pos_weight, neg_weight, bias, tol, max_iter, gram, history, start_time=None):
    """Newton's method on the squared-hinge primal over the blocks of ``rounds``, until the relative duality gap
    ``(P(w) - D(alpha(w))) / P(w)`` is at most ``tol`` or ``max_iter`` iterations are done.

    ``gram``: the Newton system is assembled from the blocks' Hessian parts and solved exactly, else solved by
    conjugate gradients. An output whose own relative gap is at most ``tol`` takes no more steps. Every iteration
    adds a ``history`` row, as the dual solvers' rounds do. Returns ``(W, relative_gap, n_iter, converged)``; the
    blocks keep the dual variables of ``W`` (``alpha``).
    """
    start_time = time.perf_counter() if start_time is None else start_time
    W = np.array(W, dtype=np.float64)
    K, dw = W.shape
    live = np.ones(K, dtype=bool)
    step, it, rel = None, 0, np.inf
    while True:
        res = rounds.run(newton_state_task, W, step, it - 1, it, C, pos_weight, neg_weight, bias, gram, live)
        sums = (sum(part) if part[0] is not None else None for part in zip(*res.results, strict=True))
        loss, dual_terms, share, parts = sums
        primal = 0.5 * (W * W).sum(axis=1) + loss
        dual = dual_terms - 0.5 * (share * share).sum(axis=1)
        rel = (primal.sum() - dual.sum()) / max(abs(primal.sum()), 1e-300)
        record(history, {"round": it, "time": time.perf_counter() - start_time, "primal": float(primal.sum()),
                         "dual": float(dual.sum()), "gap": float(primal.sum() - dual.sum()), "relative_gap": rel,
                         "bytes_sent": res.bytes_sent, "passes": it}, model=lambda W=W: W)
        if not np.isfinite(primal).all():
            raise FloatingPointError("the primal Newton method produced a non-finite primal objective")
        live &= primal - dual > tol * np.abs(primal)
        if rel <= tol or it >= max_iter or not live.any() or stop_requested(history):
            return W, rel, it, rel <= tol
        G = W - share
        S = np.zeros_like(W)
        if gram:
            for k in np.flatnonzero(live):
                H = parts[k]
                H[np.diag_indices(dw)] += 1.0
                S[k] = newton_direction(H, G[k])
        else:
            S = _conjugate_gradients(rounds, G, 1.0 + parts, live, bias)
        step = _line_search(rounds, W, S, G, primal, live, bias)
        live &= step > 0.0  # rounding ended this output's progress
        if not live.any():
            return W, rel, it, rel <= tol
        W = W + step[:, None] * S
        it += 1


def newton_direction(H, g):
    """``-H^{-1} g`` for an assembled Newton system: Cholesky, or least squares where ``H`` is not positive definite
    in floating point. Both solvers' ``H`` are the identity (or the penalty's diagonal) plus a curvature, positive
    definite in exact arithmetic; features of magnitude 1e8 make the curvature's entries 1e16 and that identity
    vanish under rounding (seen: Cholesky's "leading minor is not positive definite" on a two-feature SVM). The
    line search keeps whatever direction comes back a descent."""
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(H, check_finite=False), -g, check_finite=False)
    except np.linalg.LinAlgError:
        return scipy.linalg.lstsq(H, -g, check_finite=False)[0]


def use_gram(rounds, n_weights):
    """Whether to assemble the Newton system from Hessian parts: with few weights, and rows short enough that a
    pass over their squared non-zeros costs less than the ten or so Hessian-vector passes of conjugate gradients
    it replaces (a9a: 14 non-zeros a row; dense rows of hundreds of features are not). Up to
    :data:`ALWAYS_GRAM_WEIGHTS` weights the system is small and a dense block's parts one BLAS product; the exact
    direction also takes the same path for sample weights as for repeated rows, where conjugate gradients' stops
    move with rounding."""
    if n_weights > MAX_GRAM_WEIGHTS:
        return False
    if n_weights <= ALWAYS_GRAM_WEIGHTS:
        return True
    costs = rounds.run(newton_cost_task).results
    return sum(c[0] for c in costs) <= 20.0 * sum(c[1] for c in costs)
