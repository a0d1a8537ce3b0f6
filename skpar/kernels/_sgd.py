"""Local mini-batch SGD on one in-memory block: the inner loop of every data-parallel strategy.

One call runs ``n_steps`` mini-batch steps over ``rows`` (a slice of the block's shuffled training rows) from a given
model and returns the new model. The model has ``K`` outputs, ``W`` of shape (K, d) and ``B`` of shape (K,): one
for regression, one per class for one-vs-rest classification (one for binary), so one pass over the block trains
every class; with the ``margin`` code ``SOFTMAX`` the K outputs share one loss, the softmax cross-entropy of the row's
K scores (``multi_class='multinomial'``), and the steps are otherwise the same. The update of step ``t`` with the
mini-batch ``B_t`` is the proximal step, for every output ``k``,

.. math::

    w_k \\leftarrow \\operatorname{prox}_{\\eta_t \\alpha \\rho \\|\\cdot\\|_1}\\Big((1 - \\eta_t \\alpha (1 - \\rho))
    w_k - \\frac{\\eta_t}{|B_t|} \\sum_{i \\in B_t} s_i\\, l_k'(x_i \\cdot w_k + b_k, y_i)\\, x_i\\Big)

with sample weights :math:`s_i`. The l1 proximal step of the **last** step of a call is left to the caller, who
applies it once after combining the blocks' models; so one step per round and block, combined by a weighted
average, is exactly one proximal step of synchronous mini-batch SGD on the global batch.

Kernels are pure functions (inputs are not modified), compiled with ``nogil=True`` so that threads run them in
parallel, and accept float32 or float64 data; the model is kept in float64. This file holds the dense kernel and the
whole-array helpers; the CSR kernel, whose steps cost the batch's non-zeros, is :mod:`skpar.kernels._sgd_csr`.
"""

import math

import numpy as np
from numba import njit

from .._penalties import soft_threshold as _soft
from ._loss import SOFTMAX, softmax_terms, target_loss
from ._schedule import batch_step, n_batches

# Whole-array updates as loops over a contiguous array's values, not NumPy expressions (``V *= s``, ``T + A * V``,
# ``np.isfinite(V).all()``): numba lowers each array expression into a function of its own, compiled again in every
# specialisation of the kernels; the loops took a third off the lowering of ``sgd_csr`` (3.9 -> 2.6 s of a first
# fit's compile, docs/benchmarks.md). They run once a call or on a rare fold of the scale: their speed is moot.


@njit(inline="always", nogil=True, cache=True)
def _scale_all(V, s):
    # V *= s
    v = V.reshape(-1)
    for i in range(v.shape[0]):
        v[i] *= s


@njit(inline="always", nogil=True, cache=True)
def _add_scaled(T, A, V):
    # T += A * V
    t, v = T.reshape(-1), V.reshape(-1)
    for i in range(t.shape[0]):
        t[i] += A * v[i]


@njit(inline="always", nogil=True, cache=True)
def _finite(V):
    # np.isfinite(V).all()
    v = V.reshape(-1)
    for i in range(v.shape[0]):
        if not math.isfinite(v[i]):
            return False
    return True


@njit(inline="always", nogil=True, cache=True)
def _lazy_mean(T, A, V, n):
    # (T + A * V) / n, the lazy average's value
    out = np.empty(T.shape)
    o, t, v = out.reshape(-1), T.reshape(-1), V.reshape(-1)
    for i in range(t.shape[0]):
        o[i] = (t[i] + A * v[i]) / n
    return out


@njit(inline="always", nogil=True, cache=True)
def intercept_step(B, gb, scale, fit_intercept):
    # the intercepts take their step from the batch's summed gradients, which start again from 0; ``fit_intercept``
    # is the step's factor (0: no intercept; scikit-learn's intercept_decay where a drop-in fits sparse rows)
    for k in range(B.shape[0]):
        if fit_intercept:
            B[k] -= scale * gb[k] * fit_intercept
        gb[k] = 0.0


@njit(inline="always", nogil=True, cache=True)
def _dense_softmax_row(X, i, yi, swi, W, B, Wbar, Bbar, G, gb, averaging, pos_weight, batch_loss, loss_sum):
    """:func:`_dense_row` for the softmax cross-entropy over the K outputs at once (``margin == SOFTMAX``); the row
    weighs its sample weight times its class's weight (``pos_weight[yi]``)."""
    K, d = W.shape
    P, Pa, g = np.empty(K), np.empty(K), np.empty(K)
    for k in range(K):
        p = B[k]
        for j in range(d):
            p += X[i, j] * W[k, j]
        P[k] = p
        if averaging:
            pa = Bbar[k]
            for j in range(d):
                pa += X[i, j] * Wbar[k, j]
            Pa[k] = pa
    w = swi * pos_weight[int(yi)]
    lv = softmax_terms(P, yi, w, g)
    batch_loss += lv
    loss_sum += softmax_terms(Pa, yi, w, P) if averaging else lv
    for k in range(K):
        if g[k] != 0.0:
            gb[k] += g[k]
            for j in range(d):
                G[k, j] += g[k] * X[i, j]
    return batch_loss, loss_sum


@njit(inline="always", nogil=True, cache=True)
def _dense_row(X, i, yi, swi, W, B, Wbar, Bbar, G, gb, averaging, loss, margin, eps, pos_weight, neg_weight,
               batch_loss, loss_sum):
    """A dense row's losses and gradients, by output, added to ``G`` and ``gb``; returns the running
    ``(batch_loss, loss_sum)`` (the progressive loss at the average once averaging)."""
    K, d = W.shape
    if margin == SOFTMAX:
        return _dense_softmax_row(X, i, yi, swi, W, B, Wbar, Bbar, G, gb, averaging, pos_weight, batch_loss,
                                  loss_sum)
    for k in range(K):
        p = B[k]
        pa = Bbar[k]
        if averaging:
            for j in range(d):
                p += X[i, j] * W[k, j]
                pa += X[i, j] * Wbar[k, j]
            lv, _ = target_loss(loss, margin, pa, yi, k, K, eps, pos_weight, neg_weight)
            loss_sum += swi * lv
        else:
            for j in range(d):
                p += X[i, j] * W[k, j]
        lv, g = target_loss(loss, margin, p, yi, k, K, eps, pos_weight, neg_weight)
        batch_loss += swi * lv
        if not averaging:
            loss_sum += swi * lv
        g *= swi
        if g != 0.0:
            gb[k] += g
            for j in range(d):
                G[k, j] += g * X[i, j]
    return batch_loss, loss_sum


@njit(nogil=True, cache=True)
def sgd_dense(X, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, batch_size, n_steps,
              loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept,
              schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, avg_start, blowup, inplace):
    """Run ``n_steps`` mini-batch steps over ``rows`` of the dense block ``X``.

    Returns ``(W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta)``: the new model and its
    Polyak average (averaging starts at global step ``avg_start``), the sum of the weighted losses of the samples
    seen, each evaluated just before its step at the model the fit returns (the average once averaging has begun,
    else the iterate: a progressive estimate of the objective that costs no pass; the constant-step iterate
    plateaus while its average still improves, so stopping on the iterate's loss would stop too early), how many
    samples and steps were taken, whether the loss blew up (non-finite, or more than ``blowup`` per sample) and
    the step size of the last step, whose l1 proximal step is the caller's.

    ``loss`` is the loss's compiled function (``Loss.kernel`` of :mod:`skpar._losses`), ``margin`` whether it is a
    classification loss of the margin and ``eps`` its parameter (``Loss.param``).

    With ``inplace=True`` the model arrays are updated where they are instead of copied: Hogwild!, where threads
    pass the same arrays and write them without locks.
    """
    K, d = W.shape
    if not inplace:
        W = W.copy()
        B = B.copy()
        Wbar = Wbar.copy()
        Bbar = Bbar.copy()
    G, gb = np.zeros((K, d)), np.zeros(K)  # the batch's gradient sums
    n_rows = rows.shape[0]
    loss_sum, n_seen, steps, diverged, last_eta = 0.0, 0, 0, False, 0.0
    for s in range(n_batches(n_steps, batch_size, n_rows)):
        pos, stop = s * batch_size, min((s + 1) * batch_size, n_rows)
        m = stop - pos
        batch_loss = 0.0
        averaging = t0 + s >= avg_start and n_avg > 0
        for q in range(pos, stop):
            i = rows[q]
            batch_loss, loss_sum = _dense_row(X, i, y[i], sw[i], W, B, Wbar, Bbar, G, gb, averaging, loss, margin,
                                              eps, pos_weight, neg_weight, batch_loss, loss_sum)
        n_seen += m
        t = t0 + s
        e = batch_step(batch_loss, m, blowup, t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        if e < 0.0:
            diverged = True
            break
        last = s == n_steps - 1 or stop >= n_rows
        scale = e / m
        # a step of 1 / alpha or more takes the weights to zero and not past it (scikit-learn's max(0, .)): a
        # negative factor flipped their sign every step, and the average kept the swings (alpha = 1e5 on iris)
        shrink = max(0.0, 1.0 - e * l2)
        thr = 0.0 if last else e * l1
        for k in range(K):
            for j in range(d):
                v = shrink * W[k, j] - scale * G[k, j]
                G[k, j] = 0.0
                W[k, j] = _soft(v, thr) if thr > 0.0 else v
        intercept_step(B, gb, scale, fit_intercept)
        if t >= avg_start:
            n_avg += 1
            mu = 1.0 / n_avg
            for k in range(K):
                for j in range(d):
                    Wbar[k, j] += (W[k, j] - Wbar[k, j]) * mu
                Bbar[k] += (B[k] - Bbar[k]) * mu
        steps += 1
        last_eta = e
    if not _finite(W):
        diverged = True
    return W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta
