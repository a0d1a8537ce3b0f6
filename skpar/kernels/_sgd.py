"""Local mini-batch SGD on one in-memory block: the inner loop of every data-parallel strategy.

One call runs ``n_steps`` mini-batch steps over ``rows`` (a slice of the block's shuffled training rows) from a given
model and returns the new model. The update of step ``t`` with the mini-batch ``B_t`` is the proximal step

.. math::

    w \\leftarrow \\operatorname{prox}_{\\eta_t \\alpha \\rho \\|\\cdot\\|_1}\\Big((1 - \\eta_t \\alpha (1 - \\rho)) w
    - \\frac{\\eta_t}{|B_t|} \\sum_{i \\in B_t} s_i\\, l'(x_i \\cdot w + b, y_i)\\, x_i\\Big)

with sample weights :math:`s_i`. The l1 proximal step of the **last** step of a call is left to the caller, who
applies it once after combining the blocks' models; so one step per round and block, combined by a weighted
average, is exactly one proximal step of synchronous mini-batch SGD on the global batch.

Kernels are pure functions (inputs are not modified), compiled with ``nogil=True`` so that threads run them in
parallel, and accept float32 or float64 data; the model is kept in float64.
"""

import numpy as np
from numba import njit

from ._loss import loss_and_derivative
from ._schedule import step_size


@njit(inline="always", nogil=True, cache=True)
def _soft(v, t):
    if v > t:
        return v - t
    if v < -t:
        return v + t
    return 0.0


@njit(nogil=True, cache=True)
def sgd_dense(X, y, sw, rows, w, b, wbar, bbar, n_avg, t0, batch_size, n_steps,
              loss, eps, l2, l1, fit_intercept,
              schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, avg_start, blowup):
    """Run ``n_steps`` mini-batch steps over ``rows`` of the dense block ``X``.

    Returns ``(w, b, wbar, bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta)``: the new model and its
    Polyak average (averaging starts at global step ``avg_start``), the sum of the weighted losses of the samples
    seen, each evaluated just before its step (a free, progressive estimate of the objective), how many samples and
    steps were taken, whether the loss blew up (non-finite, or more than ``blowup`` per sample) and the step size
    of the last step, whose l1 proximal step is the caller's.
    """
    d = X.shape[1]
    w = w.copy()
    wbar = wbar.copy()
    G = np.zeros(d)
    n_rows = rows.shape[0]
    loss_sum = 0.0
    n_seen = 0
    steps = 0
    diverged = False
    last_eta = 0.0
    pos = 0
    for s in range(n_steps):
        if pos >= n_rows:
            break
        stop = min(pos + batch_size, n_rows)
        m = stop - pos
        batch_loss = 0.0
        gb = 0.0
        for q in range(pos, stop):
            i = rows[q]
            p = b
            for j in range(d):
                p += X[i, j] * w[j]
            lv, g = loss_and_derivative(loss, p, y[i], eps)
            batch_loss += sw[i] * lv
            g *= sw[i]
            if g != 0.0:
                gb += g
                for j in range(d):
                    G[j] += g * X[i, j]
        pos = stop
        loss_sum += batch_loss
        n_seen += m
        if not np.isfinite(batch_loss) or batch_loss > blowup * m:
            diverged = True
            break
        t = t0 + s
        e = step_size(t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        last = s == n_steps - 1 or pos >= n_rows
        scale = e / m
        shrink = 1.0 - e * l2
        thr = 0.0 if last else e * l1
        for j in range(d):
            v = shrink * w[j] - scale * G[j]
            G[j] = 0.0
            w[j] = _soft(v, thr) if thr > 0.0 else v
        if fit_intercept:
            b -= scale * gb
        if t >= avg_start:
            n_avg += 1
            mu = 1.0 / n_avg
            for j in range(d):
                wbar[j] += (w[j] - wbar[j]) * mu
            bbar += (b - bbar) * mu
        steps += 1
        last_eta = e
    for j in range(d):
        if not np.isfinite(w[j]):
            diverged = True
    return w, b, wbar, bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta


@njit(nogil=True, cache=True)
def sgd_csr(data, indices, indptr, y, sw, rows, w, b, wbar, bbar, n_avg, t0, batch_size, n_steps,
            loss, eps, l2, l1, fit_intercept,
            schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, avg_start, blowup):
    """The CSR twin of :func:`sgd_dense`: same arguments (the block as ``data, indices, indptr``), same result.

    A step costs O(non-zeros of the batch), not O(d): the l2 shrink is a scalar ``wscale`` (``w = wscale * v``),
    and the l1 proximal steps are applied lazily, a feature catching up on the thresholds it missed when it is next
    read (the cumulative-penalty scheme of Tsuruoka et al. 2009, as scikit-learn's SGD does). Polyak averaging needs
    every coordinate each step and so costs O(d) a step.
    """
    d = w.shape[0]
    v = w.copy()
    wscale = 1.0
    wbar = wbar.copy()
    G = np.zeros(d)
    mark = np.full(d, -1, dtype=np.int64)
    touched = np.empty(d, dtype=np.int64)
    u = 0.0  # l1 threshold accumulated so far, in units of w
    seen_u = np.zeros(d)  # value of u when each coordinate last caught up
    n_rows = rows.shape[0]
    loss_sum = 0.0
    n_seen = 0
    steps = 0
    diverged = False
    last_eta = 0.0
    pos = 0
    for s in range(n_steps):
        if pos >= n_rows:
            break
        stop = min(pos + batch_size, n_rows)
        m = stop - pos
        batch_loss = 0.0
        gb = 0.0
        nt = 0
        for q in range(pos, stop):
            i = rows[q]
            p = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if seen_u[j] < u:
                    v[j] = _soft(v[j] * wscale, u - seen_u[j]) / wscale
                    seen_u[j] = u
                p += data[k] * v[j]
            p = p * wscale + b
            lv, g = loss_and_derivative(loss, p, y[i], eps)
            batch_loss += sw[i] * lv
            g *= sw[i]
            if g != 0.0:
                gb += g
                for k in range(indptr[i], indptr[i + 1]):
                    j = indices[k]
                    G[j] += g * data[k]
                    if mark[j] != s:
                        mark[j] = s
                        touched[nt] = j
                        nt += 1
        pos = stop
        loss_sum += batch_loss
        n_seen += m
        if not np.isfinite(batch_loss) or batch_loss > blowup * m:
            diverged = True
            break
        t = t0 + s
        e = step_size(t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        last = s == n_steps - 1 or pos >= n_rows
        scale = e / m
        wscale *= 1.0 - e * l2
        if wscale < 1e-6:
            # fold the scale back into v before it underflows (rare: O(d) once per many steps)
            for j in range(d):
                v[j] *= wscale
            wscale = 1.0
        for r in range(nt):
            j = touched[r]
            v[j] -= scale * G[j] / wscale
            G[j] = 0.0
        if fit_intercept:
            b -= scale * gb
        if not last:
            u += e * l1
        if t >= avg_start:
            n_avg += 1
            mu = 1.0 / n_avg
            for j in range(d):
                if seen_u[j] < u:
                    v[j] = _soft(v[j] * wscale, u - seen_u[j]) / wscale
                    seen_u[j] = u
                wbar[j] += (v[j] * wscale - wbar[j]) * mu
            bbar += (b - bbar) * mu
        steps += 1
        last_eta = e
    for j in range(d):
        if seen_u[j] < u:
            v[j] = _soft(v[j] * wscale, u - seen_u[j]) / wscale
        v[j] *= wscale
        if not np.isfinite(v[j]):
            diverged = True
    return v, b, wbar, bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta
