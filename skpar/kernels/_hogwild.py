"""Hogwild! (Niu et al. 2011) on one block's CSR rows: lock-free steps into a weight vector that threads share.

The synchronous kernels of :mod:`skpar.kernels._sgd` return a new model; these write the shared ``W`` and ``B`` in
place, touching only the coordinates of a step's non-zeros, and spread the separable penalty over the steps that
touch a coordinate.
"""

import numpy as np
from numba import njit

from .._penalties import soft_threshold as _soft
from ._loss import SOFTMAX, softmax_terms, target_loss
from ._prefetch import prefetch_write
from ._schedule import batch_step, n_batches, step_size
from ._sgd import intercept_step


@njit(nogil=True, cache=True)
def _hogwild_csr_rows(data, indices, indptr, y, sw, rows, W, B, inv_q, t0, n_steps, loss, margin, eps, pos_weight,
                      neg_weight, l2, l1, fit_intercept, schedule, eta, power_t, samples_per_step, warmup_steps,
                      eta_start, blowup, prefetch=False):
    """:func:`hogwild_csr` with one row a step (the Hogwild! paper's setting) on rows without repeated columns: the
    step goes straight into ``W`` over the row's non-zeros. The batch path's gradient buffer and column marks (two
    more d-long arrays visited at random) made the working set outgrow the core's cache (docs/benchmarks.md,
    "Measurements behind the code's choices").

    ``prefetch`` (other threads write ``W`` too): while a row's dot products are summed, the weights of the next
    row are prefetched for writing, so that the lines the other cores took come back while this row is worked on
    (it pays on many cores, not on two: docs/benchmarks.md). Prefetching is a hint: the steps are the same to the
    bit.

    With the softmax (``margin == SOFTMAX``) the row's K scores are taken first, then :func:`softmax_terms` gives
    its gradient by output, and the step is the same as for one-vs-rest."""
    K, d = W.shape
    gk, P = np.zeros(K), np.zeros(K)
    n_rows = rows.shape[0]
    loss_sum = 0.0
    steps = 0
    diverged = False
    last_eta = 0.0
    for s in range(min(n_steps, n_rows)):
        i = rows[s]
        a, z = indptr[i], indptr[i + 1]
        # the next row's non-zeros (none past the last row), prefetched for writing during this row's dot products
        a2 = z2 = 0
        if prefetch and s + 1 < min(n_steps, n_rows):
            a2, z2 = indptr[rows[s + 1]], indptr[rows[s + 1] + 1]
        m = min(z - a, z2 - a2)
        row_loss = 0.0
        for k in range(K):
            wk = W[k]
            p = B[k]
            for q in range(m):
                p += data[a + q] * wk[indices[a + q]]
                prefetch_write(wk, indices[a2 + q])
            for r in range(a + m, z):
                p += data[r] * wk[indices[r]]
            for r in range(a2 + m, z2):
                prefetch_write(wk, indices[r])
            if margin == SOFTMAX:  # the K scores first (below)
                P[k] = p
                continue
            lv, g = target_loss(loss, margin, p, y[i], k, K, eps, pos_weight, neg_weight)
            row_loss += sw[i] * lv
            gk[k] = g * sw[i]
        if margin == SOFTMAX:
            row_loss = softmax_terms(P, y[i], sw[i] * pos_weight[int(y[i])], gk)
        loss_sum += row_loss
        if not np.isfinite(row_loss) or row_loss > blowup:
            diverged = True
            return loss_sum, s + 1, steps, diverged, last_eta
        e = step_size(t0 + s, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        el2, el1 = e * l2, e * l1
        # an output at a time, its step a scalar: with the output loop inside the non-zero loop the compiler
        # reloaded gk[k] after every store into W (they might alias) and tested the l1 threshold per non-zero
        for k in range(K):
            eg = e * gk[k]
            wk = W[k]
            if l1 > 0.0:
                for r in range(a, z):
                    j = indices[r]
                    wk[j] = _soft(max(0.0, 1.0 - el2 * inv_q[j]) * wk[j] - eg * data[r], el1 * inv_q[j])
            else:
                for r in range(a, z):
                    j = indices[r]
                    wk[j] = max(0.0, 1.0 - el2 * inv_q[j]) * wk[j] - eg * data[r]
            if fit_intercept:
                B[k] -= eg * fit_intercept
        steps += 1
        last_eta = e
    return loss_sum, steps, steps, diverged, last_eta


@njit(nogil=True, cache=True)
def hogwild_csr(data, indices, indptr, y, sw, rows, W, B, inv_q, t0, batch_size, n_steps,
                loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept,
                schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, blowup, distinct=False,
                prefetch=False):
    """Hogwild! (Niu et al. 2011) on CSR rows: mini-batch steps that write the shared ``W`` and ``B`` in place,
    without locks, touching only the coordinates of the batch's non-zeros (the softmax's rows, ``margin ==
    SOFTMAX``: their K scores first, then their gradient by output from :func:`softmax_terms`).

    The separable penalty is split over the steps as the paper does: a coordinate in the batch gets the penalty
    step scaled by ``inv_q[j] = 1 / P(j in a batch)``, so that its expected penalty per step is the full one and no
    step writes all d coordinates (which would make every pair of threads conflict). Returns
    ``(loss_sum, n_seen, steps, diverged, last_eta)``; the l1 step of the last step is applied here too (each
    thread's model is the shared one: there is no average to defer it to). ``distinct``: no row repeats a column
    (scipy's canonical format), which lets one-row steps take :func:`_hogwild_csr_rows`; ``prefetch`` (other
    threads write ``W`` too) is passed on to it.
    """
    if batch_size == 1 and distinct:
        return _hogwild_csr_rows(data, indices, indptr, y, sw, rows, W, B, inv_q, t0, n_steps, loss, margin, eps,
                                 pos_weight, neg_weight, l2, l1, fit_intercept, schedule, eta, power_t,
                                 samples_per_step, warmup_steps, eta_start, blowup, prefetch)
    K, d = W.shape
    G, gb = np.zeros((K, d)), np.zeros(K)
    P, gk = np.zeros(K), np.zeros(K)  # a row's scores and its gradient by output
    mark = np.full(d, -1, dtype=np.int64)
    touched = np.empty(d, dtype=np.int64)
    n_rows = rows.shape[0]
    loss_sum, n_seen, steps, diverged, last_eta = 0.0, 0, 0, False, 0.0
    for s in range(n_batches(n_steps, batch_size, n_rows)):
        pos, stop = s * batch_size, min((s + 1) * batch_size, n_rows)
        m = stop - pos
        batch_loss, nt = 0.0, 0  # the batch's loss and how many columns it touched
        for q in range(pos, stop):
            i = rows[q]
            a, z = indptr[i], indptr[i + 1]
            for k in range(K):
                p = B[k]
                for r in range(a, z):
                    p += data[r] * W[k, indices[r]]
                P[k] = p
            if margin == SOFTMAX:
                batch_loss += softmax_terms(P, y[i], sw[i] * pos_weight[int(y[i])], gk)
            for k in range(K):
                if margin == SOFTMAX:
                    g = gk[k]
                else:
                    lv, g = target_loss(loss, margin, P[k], y[i], k, K, eps, pos_weight, neg_weight)
                    batch_loss += sw[i] * lv
                    g *= sw[i]
                if g != 0.0:
                    gb[k] += g
                    for r in range(a, z):
                        G[k, indices[r]] += g * data[r]
            for r in range(a, z):
                j = indices[r]
                if mark[j] != s:
                    mark[j] = s
                    touched[nt] = j
                    nt += 1
        n_seen += m
        loss_sum += batch_loss
        e = batch_step(batch_loss, m, blowup, t0 + s, schedule, eta, power_t, samples_per_step, warmup_steps,
                       eta_start)
        if e < 0.0:
            diverged = True
            break
        scale = e / m
        for r in range(nt):
            j = touched[r]
            thr = e * l1 * inv_q[j]
            for k in range(K):
                v = max(0.0, 1.0 - e * l2 * inv_q[j]) * W[k, j] - scale * G[k, j]
                G[k, j] = 0.0
                W[k, j] = _soft(v, thr) if thr > 0.0 else v
        intercept_step(B, gb, scale, fit_intercept)
        steps += 1
        last_eta = e
    return loss_sum, n_seen, steps, diverged, last_eta
