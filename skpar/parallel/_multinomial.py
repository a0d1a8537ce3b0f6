"""Multinomial (softmax) logistic regression by L-BFGS over blocks: each function evaluation is one round.

For ``K >= 3`` classes, weights :math:`W` (K, d) and intercepts :math:`b` (K,), the objective is the mean softmax
cross-entropy plus the l2 penalty (the SGD estimators' scale),

.. math::

    \\frac{1}{n} \\sum_{i=1}^n s_i c_{y_i} \\Big( \\log \\sum_k e^{w_k^\\top x_i + b_k} - w_{y_i}^\\top x_i - b_{y_i}
    \\Big) + \\frac{\\alpha}{2} \\|W\\|_F^2,

with sample weights :math:`s_i` and class weights :math:`c_k`, the intercepts unpenalised. Each block returns its
loss sum and gradient sums at the round's :math:`(W, b)`, in one pass over its rows (the K outputs together: one
product with X for the scores, one for the gradient, dense or CSR alike); the driver adds them in block order and
steps with scipy's L-BFGS-B, so the rounds are exact sums and the result does not depend on where the blocks run
(to the last bit on threads; to rounding on a cluster's worker processes, whose BLAS may sum in another order).

With intercepts, L-BFGS steps in centred coordinates: it moves :math:`(W, b')` with :math:`b = b' - W \\mu`,
:math:`\\mu` the rows' weighted mean, so that its scores are :math:`W (x_i - \\mu) + b'`. The objective and its
optimum are the same (the intercepts absorb the shift, and the penalty is on :math:`W` alone); the blocks still
score their own rows at :math:`(W, b)` and the driver moves the gradient, :math:`\\nabla_W - \\nabla_b \\mu^\\top`.
Uncentred rows of non-negative features (pixels, tf-idf) share a large common direction, the mean, that makes the
problem ill conditioned: centred, L-BFGS took 186 iterations on Fashion-MNIST where it took 387 (20 Newsgroups: 48
and 55; docs/benchmarks.md).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize
from sklearn.utils.extmath import safe_sparse_dot

from .._report import record, stop_requested
from ..kernels._softmax import softmax_terms_csr
from . import _multinomial_device
from ._blas import _blas_controller


def softmax_terms_task(block, W, B, class_weight):
    """``(loss sum, gradient sum for W, gradient sum for B)`` of the weighted softmax cross-entropy over the block's
    training rows at ``(W, B)``; ``block.y`` holds class indices. BLAS runs one thread here wherever the block is (a
    worker's cores belong to its blocks' tasks, and the sums do not move with a thread count): the same to the bit on
    any number of threads; in another process (a Dask worker) BLAS may take the unpickled arrays by another path,
    and the sums agree to about 1e-16 (tests/test_multinomial.py), not to the bit as the compiled kernels' do."""
    if getattr(block, "on_gpu", False):  # a CuPy array of dense rows: the same sums on its device
        return _multinomial_device.softmax_terms_task(block, W, B, class_weight)
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _softmax_terms(block, W, B, class_weight)


def softmax_sums(xp, Z, t, s):
    """The weighted softmax cross-entropy of the scores ``Z`` (K, m; class-major) of ``m`` rows of classes ``t``
    and weights ``s``: ``(loss sum, G)``, ``G`` (K, m) the gradient of each row's loss in its scores, softmax minus
    the one-hot target, weighted (``Z`` is overwritten). ``xp`` is NumPy or CuPy, wherever the rows are."""
    top = Z.max(axis=0)
    idx = xp.arange(t.shape[0])
    picked = Z[t, idx]
    Z -= top
    xp.exp(Z, out=Z)  # the one exponential: the log-sum-exp and the softmax both come from it
    total = Z.sum(axis=0)
    loss = s @ (top + xp.log(total) - picked)
    Z /= total
    Z[t, idx] -= 1.0
    Z *= s
    return loss, Z


def _softmax_terms(block, W, B, class_weight):
    if block.is_sparse:  # a compiled pass over the CSR rows, without the GIL
        gWT, gB = np.zeros((W.shape[1], W.shape[0])), np.zeros(W.shape[0])
        loss = softmax_terms_csr(*block.kernel_X, block.train_rows, block.y, block.sample_weight, class_weight,
                                 np.ascontiguousarray(W.T), np.asarray(B, dtype=np.float64), gWT, gB)
        return loss, gWT.T, gB
    rows = block.train_rows
    X, y, s = block.X, block.y, block.sample_weight
    if rows.shape[0] != block.n_rows:  # validation rows held out
        X, y, s = X[rows], y[rows], s[rows]
    t = np.asarray(y, dtype=np.intp)
    s = np.asarray(s, dtype=np.float64) * class_weight[t]
    # the scores class-major, (K, n): BLAS forms W X^T (a wide product) in 25 ms where X W^T (a thin one) took 38
    # (Fashion-MNIST, 30,000 rows, one thread); the softmax and the gradient's product G X stay in that layout
    loss, G = softmax_sums(np, np.asarray(W @ X.T, dtype=np.float64) + B[:, None], t, s)
    return float(loss), np.asarray(G @ X, dtype=np.float64), G.sum(axis=1)


def weighted_sum_task(block, class_weight):
    """``(sum_i w_i x_i, sum_i w_i)`` over the block's training rows, ``w_i = s_i c_{y_i}`` (the objective's row
    weights)."""
    if getattr(block, "on_gpu", False):
        return _multinomial_device.weighted_sum_task(block, class_weight)
    rows = block.train_rows
    w = np.asarray(block.sample_weight[rows], dtype=np.float64) * class_weight[np.asarray(block.y[rows], np.intp)]
    X = block.X if rows.shape[0] == block.n_rows else block.X[rows]
    return np.asarray(safe_sparse_dot(w, X, dense_output=True), dtype=np.float64).ravel(), float(w.sum())


def multinomial_lbfgs(rounds, n_classes, d, *, alpha, fit_intercept, class_weight, n, max_iter, gtol, history,
                      start_time=None):
    """Minimise the module's objective from zero; returns ``(W, B, n_iter, converged)``.

    ``n``: the training rows (the objective's scale). ``gtol``: L-BFGS-B's bound on the projected gradient's largest
    entry. Every iteration adds a ``history`` row (``objective``, ``gradient``); a callback's stop
    (:func:`skpar._report.stop_requested`) ends the fit after that iteration.
    """
    start_time = time.perf_counter() if start_time is None else start_time
    K = n_classes
    size = K * d
    cw = np.asarray(class_weight, dtype=np.float64)
    mu = np.zeros(d)
    if fit_intercept:  # the centre of the coordinates L-BFGS steps in (the module's docstring); one round
        sums = rounds.run(weighted_sum_task, cw).results
        mu = sum(s[0] for s in sums) / max(sum(s[1] for s in sums), 1e-300)

    def unpack(x):
        """The model ``(W, b)`` at L-BFGS's point ``(W, b')``: ``b = b' - W mu``."""
        W = x[:size].reshape(K, d)
        return W, (x[size:] - W @ mu if fit_intercept else np.zeros(K))

    def objective(x):
        W, B = unpack(x)
        parts = rounds.run(softmax_terms_task, W, B, cw).results
        loss = sum(p[0] for p in parts) / n + 0.5 * alpha * float((W * W).sum())
        gW = sum(p[1] for p in parts) / n + alpha * W
        if not fit_intercept:
            grad = gW.ravel()
        else:
            gB = sum(p[2] for p in parts) / n
            grad = np.concatenate([(gW - np.outer(gB, mu)).ravel(), gB])
        if not np.isfinite(loss):
            raise FloatingPointError("the multinomial log loss became non-finite")
        return loss, grad

    def each_iteration(intermediate_result):
        record(history, {"round": len(history), "epoch": len(history), "time": time.perf_counter() - start_time,
                         "objective": float(intermediate_result.fun)}, model=lambda: unpack(intermediate_result.x))
        if stop_requested(history):
            raise StopIteration  # scipy ends the minimisation at this iterate

    x0 = np.zeros(size + (K if fit_intercept else 0))
    res = minimize(objective, x0, jac=True, method="L-BFGS-B", callback=each_iteration,
                   options={"maxiter": int(max_iter), "gtol": float(gtol)})
    W, B = unpack(res.x)
    return W, np.array(B, dtype=np.float64), int(res.nit), bool(res.success)
