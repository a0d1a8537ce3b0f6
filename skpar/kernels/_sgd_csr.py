"""Local mini-batch SGD on one block of CSR rows: :func:`sgd_csr`, the twin of :func:`skpar.kernels._sgd.sgd_dense`
(same arguments, same steps, same result; the objective and the step are written there).

A step costs the non-zeros of its batch, not ``K d``: the l2 shrink is a scalar, the l1 proximal steps and Polyak's
average are applied lazily, and the model is held feature-major inside a call (:func:`sgd_csr` says how). One row a
step with one output, scikit-learn's SGD on sparse rows, runs a loop of its own (:func:`_sgd_csr_rows`), mini-batches
and several outputs another (:func:`_sgd_csr_batches`).
"""

import numpy as np
from numba import njit

from .._penalties import soft_threshold as _soft
from ._indices import row_span
from ._loss import SOFTMAX, softmax_terms, target_loss
from ._prefetch import prefetch_distance, prefetch_row
from ._schedule import batch_step, n_batches
from ._sgd import _add_scaled, _finite, _lazy_mean, _scale_all, intercept_step


@njit(inline="always", nogil=True, cache=True)
def _catch_up_fm(V, j, wscale, pending):
    # apply to feature j of the feature-major model V (d, K) the l1 thresholds it missed since it was last read
    for k in range(V.shape[1]):
        V[j, k] = _soft(V[j, k] * wscale, pending) / wscale


@njit(nogil=True, cache=True)
def _transposed(A):
    """A C-ordered copy of ``A.T``: the (K, d) model feature-major as (d, K), and back."""
    m, n = A.shape
    out = np.empty((n, m))
    for i in range(m):
        for j in range(n):
            out[j, i] = A[i, j]
    return out


@njit(inline="always", nogil=True, cache=True)
def _row_scores(data, indices, a, z, V, T, pk, pak, averaging):
    """A CSR row's scores by output at the iterate (``pk``) and, when ``averaging``, the average's sum (``pak``)
    from the feature-major ``V`` and ``T``."""
    K = V.shape[1]
    if K == 1:  # one output (regression, two classes): the sums in registers, no loop over outputs
        s = 0.0
        sa = 0.0
        if averaging:
            for r in range(a, z):
                j = indices[r]
                s += data[r] * V[j, 0]
                sa += data[r] * T[j, 0]
        else:
            for r in range(a, z):
                s += data[r] * V[indices[r], 0]
        pk[0] = s
        pak[0] = sa
        return
    for k in range(K):
        pk[k] = 0.0
        pak[k] = 0.0
    if averaging:
        for r in range(a, z):
            j = indices[r]
            x = data[r]
            for k in range(K):
                pk[k] += x * V[j, k]
                pak[k] += x * T[j, k]
    else:
        for r in range(a, z):
            j = indices[r]
            x = data[r]
            for k in range(K):
                pk[k] += x * V[j, k]


@njit(inline="always", nogil=True, cache=True)
def _row_step(data, indices, a, z, V, T, g, c, A, act):
    """Move ``V`` by ``-c g_k x`` over a CSR row's non-zeros, for every output ``k``, and the lazy average's ``T``
    by ``A`` times that (``A = 0``: nothing to add, before averaging or without the lazy sum); ``act`` is a
    scratch array of K output indices.

    One output gets loops of its own: the sums in registers and no inner loop of length one (the same results bit
    for bit, and faster epochs: docs/benchmarks.md)."""
    K = V.shape[1]
    if K == 1:
        cg = c * g[0]
        if cg == 0.0:
            return
        if A != 0.0:
            for r in range(a, z):
                j = indices[r]
                delta = cg * data[r]
                V[j, 0] -= delta
                T[j, 0] += A * delta
        else:
            for r in range(a, z):
                V[indices[r], 0] -= cg * data[r]
        return
    # the outputs with a gradient, gathered once: one-vs-rest rows step few of their outputs (the hinge's rows
    # outside the margin step none), and a test of every output at every non-zero cost more than the steps
    n_act = 0
    for k in range(K):
        if g[k] != 0.0:
            act[n_act] = k
            n_act += 1
    if n_act == 0:
        return
    for r in range(a, z):
        j = indices[r]
        cx = c * data[r]
        for q in range(n_act):
            k = act[q]
            delta = cx * g[k]
            V[j, k] -= delta
            if A != 0.0:
                T[j, k] += A * delta


@njit(inline="always", nogil=True, cache=True)
def _catch_up_row(indices, a, z, V, seen_u, u, wscale):
    # the row's features take the l1 thresholds they missed since they were last read
    for r in range(a, z):
        j = indices[r]
        if seen_u[j] < u:
            _catch_up_fm(V, j, wscale, u - seen_u[j])
            seen_u[j] = u


@njit(inline="always", nogil=True, cache=True)
def _softmax_row(pk, pak, wscale, A, n_avg, lazy, B, Bbar, averaging, yi, w, g, gb, batch_loss, loss_sum):
    """A CSR row's softmax cross-entropy (weight ``w``) from its raw scores ``pk`` (and the average's ``pak``):
    its gradient by output into ``g``, the intercepts' sums into ``gb``; returns the running ``(batch_loss,
    loss_sum)``. ``pk`` and ``pak`` are overwritten with the scores."""
    K = pk.shape[0]
    for k in range(K):
        if averaging:
            pak[k] = ((pak[k] + A * pk[k]) / n_avg if lazy else pak[k]) + Bbar[k]
        pk[k] = pk[k] * wscale + B[k]
    lv = softmax_terms(pk, yi, w, g)
    batch_loss += lv
    if averaging:
        loss_sum += softmax_terms(pak, yi, w, pk)  # pk is free now: scratch for the average's gradient
    else:
        loss_sum += lv
    for k in range(K):
        gb[k] += g[k]
    return batch_loss, loss_sum


@njit(inline="always", nogil=True, cache=True)
def _batch_gradients(data, indices, indptr, y, sw, rows, pos, stop, V, T, B, Bbar, pk, pak, gb, gbuf, grow, seen_u,
                     u, wscale, A, n_avg, lazy, averaging, loss, margin, eps, pos_weight, neg_weight, loss_sum):
    """The scores and gradients of the batch ``rows[pos:stop]``: each row's gradients by output into ``gbuf`` (the
    rows with one into ``grow``), the intercepts' sums into ``gb``. Returns ``(batch_loss, loss_sum, ng)``: the
    batch's loss at the iterate, the running progressive loss (at the average once averaging), the rows with a
    gradient."""
    K = V.shape[1]
    n_rows = rows.shape[0]
    batch_loss = 0.0
    ng = 0
    distance = prefetch_distance(indptr)
    for q in range(pos, stop):
        i = rows[q]
        if q + distance < n_rows:  # a shuffled order makes each short row a miss: ask for the rows ahead
            prefetch_row(data, indices, indptr, rows[q + distance])
        a, z = row_span(indptr, i)
        if u > 0.0:  # no l1 threshold yet (or no l1 at all): nothing to catch up, no read of seen_u
            _catch_up_row(indices, a, z, V, seen_u, u, wscale)
        # the row's non-zeros outermost, its outputs innermost (one cache line of V a feature); every output
        # still sums its terms in the row's order
        _row_scores(data, indices, a, z, V, T, pk, pak, averaging)
        if margin == SOFTMAX:  # the K outputs' scores at once: the row's gradient by output into gbuf[ng]
            batch_loss, loss_sum = _softmax_row(pk, pak, wscale, A, n_avg, lazy, B, Bbar, averaging, y[i],
                                                sw[i] * pos_weight[int(y[i])], gbuf[ng], gb, batch_loss, loss_sum)
            grow[ng] = i
            ng += 1
            continue
        any_g = False
        for k in range(K):
            p = pk[k] * wscale + B[k]
            lv, g = target_loss(loss, margin, p, y[i], k, K, eps, pos_weight, neg_weight)
            batch_loss += sw[i] * lv
            if averaging:
                pa = ((pak[k] + A * pk[k]) / n_avg if lazy else pak[k]) + Bbar[k]
                la, _ = target_loss(loss, margin, pa, y[i], k, K, eps, pos_weight, neg_weight)
                loss_sum += sw[i] * la
            else:
                loss_sum += sw[i] * lv
            g *= sw[i]
            gbuf[ng, k] = g
            if g != 0.0:
                gb[k] += g
                any_g = True
        if any_g:  # rows without a gradient (outside the hinge's margin) take no part in the step
            grow[ng] = i
            ng += 1
    return batch_loss, loss_sum, ng


@njit(inline="always", nogil=True, cache=True)
def _fold_scale(V, T, A, wscale, lazy):
    """Fold the l2 scale back into ``V`` before it underflows (rare: O(K d) once per many steps); the lazy sum
    starts again from its value, so that ``A`` stays of the order of the steps since the fold. Returns
    ``(A, wscale)``."""
    if lazy and A > 0.0:
        _add_scaled(T, A, V)
        A = 0.0
    _scale_all(V, wscale)
    return A, 1.0


@njit(inline="always", nogil=True, cache=True)
def _penalty_decay(V, T, A, wscale, shrink, lazy):
    """The l2 penalty's step on the scaled weights: the scale times ``1 - shrink`` (``shrink = eta l2``), folded
    into ``V`` when it falls under 1e-6. Returns ``(A, wscale)``."""
    decay = 1.0 - shrink
    if decay > 0.0:
        wscale *= decay
        if wscale < 1e-6:
            A, wscale = _fold_scale(V, T, A, wscale, lazy)
    else:  # a step of 1 / alpha or more: the weights go to zero, not past it (see sgd_dense); the lazy sum
        A, wscale = _fold_scale(V, T, A, wscale, lazy)  # keeps what they were, folded into T first
        _scale_all(V, 0.0)
    return A, wscale


@njit(inline="always", nogil=True, cache=True)
def _average_step(V, T, B, Bbar, seen_u, u, wscale, A, n_avg, lazy):
    """Add the iterate to the average (``n_avg`` iterates with it): lazily, ``A`` takes the scale; with an l1
    penalty over every coordinate, after its catch-up. Returns the new ``A``."""
    K = V.shape[1]
    mu = 1.0 / n_avg
    if lazy:
        A += wscale
    else:
        for j in range(V.shape[0]):
            if seen_u[j] < u:
                _catch_up_fm(V, j, wscale, u - seen_u[j])
                seen_u[j] = u
            for k in range(K):
                T[j, k] += (V[j, k] * wscale - T[j, k]) * mu
    for k in range(K):
        Bbar[k] += (B[k] - Bbar[k]) * mu
    return A


@njit(inline="always", nogil=True, cache=True)
def _finished(V, T, A, wscale, seen_u, u, Wbar, n_avg, n0, lazy):
    """The model and its average at the end of a call, as ``(W, Wbar, finite)``: every feature caught up on its l1
    thresholds, the scale folded in, the lazy sum divided out."""
    for j in range(V.shape[0]):
        if seen_u[j] < u:
            _catch_up_fm(V, j, wscale, u - seen_u[j])
    if lazy:
        Wbar = _transposed(_lazy_mean(T, A, V, n_avg)) if n_avg > n0 else Wbar.copy()
    else:
        Wbar = _transposed(T)
    _scale_all(V, wscale)
    return _transposed(V), Wbar, _finite(V)


@njit(nogil=True, cache=True)
def _sgd_csr_rows(data, indices, indptr, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, n_steps, loss, margin, eps,
                  pos_weight, neg_weight, l2, fit_intercept, schedule, eta, power_t, samples_per_step, warmup_steps,
                  eta_start, avg_start, blowup):
    """:func:`sgd_csr` with one row a step, one output and no l1 penalty (scikit-learn's SGD on sparse rows, as the
    drop-in classes run it): the same steps and results to the bit, in a loop with no batch buffers. Through the
    batch path a row cost 170 ns on a9a against scikit-learn's 40 (docs/benchmarks.md)."""
    d = W.shape[1]
    V = W[0].copy()
    T = Wbar[0].copy()
    _scale_all(T, float(n_avg))
    b, bbar = B[0], Bbar[0]
    n0 = n_avg
    wscale, A = 1.0, 0.0
    n_rows = rows.shape[0]
    distance = prefetch_distance(indptr)
    loss_sum, n_seen, steps, diverged, last_eta = 0.0, 0, 0, False, 0.0
    for s in range(min(n_steps, n_rows)):
        i = rows[s]
        if s + distance < n_rows:
            prefetch_row(data, indices, indptr, rows[s + distance])
        a, z = row_span(indptr, i)
        t = t0 + s
        averaging = t >= avg_start and n_avg > 0
        sv = 0.0
        sa = 0.0
        if averaging:
            for r in range(a, z):
                j = indices[r]
                sv += data[r] * V[j]
                sa += data[r] * T[j]
        else:
            for r in range(a, z):
                sv += data[r] * V[indices[r]]
        lv, g = target_loss(loss, margin, sv * wscale + b, y[i], 0, 1, eps, pos_weight, neg_weight)
        row_loss = sw[i] * lv
        if averaging:
            la, _ = target_loss(loss, margin, (sa + A * sv) / n_avg + bbar, y[i], 0, 1, eps, pos_weight,
                                neg_weight)
            loss_sum += sw[i] * la
        else:
            loss_sum += row_loss
        g *= sw[i]
        n_seen += 1
        e = batch_step(row_loss, 1, blowup, t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        if e < 0.0:
            diverged = True
            break
        A, wscale = _penalty_decay(V, T, A, wscale, e * l2, True)  # the batch path's (one output's V is (d,))
        cg = e / wscale * g  # (the batch path's c = e / m / wscale, then c g: the same rounding)
        if cg != 0.0:
            if A != 0.0:
                for r in range(a, z):
                    j = indices[r]
                    delta = cg * data[r]
                    V[j] -= delta
                    T[j] += A * delta
            else:
                for r in range(a, z):
                    V[indices[r]] -= cg * data[r]
        if fit_intercept:
            b -= e * g * fit_intercept
        if t >= avg_start:
            n_avg += 1
            A += wscale
            bbar += (b - bbar) * (1.0 / n_avg)
        steps += 1
        last_eta = e
    Wa = _lazy_mean(T, A, V, n_avg).reshape(1, d) if n_avg > n0 else Wbar.copy()  # from the unscaled V
    _scale_all(V, wscale)
    Wn = V.reshape(1, d)
    return (Wn, np.full(1, b), Wa, np.full(1, bbar), n_avg, loss_sum, n_seen, steps,
            diverged or not _finite(Wn), last_eta)


def sgd_csr(data, indices, indptr, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, batch_size, n_steps,
            loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept,
            schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, avg_start, blowup):
    """The CSR twin of :func:`sgd_dense`: same arguments (the block as ``data, indices, indptr``), same result.

    A step costs O(K x non-zeros of the batch), not O(K d): the l2 shrink is a scalar ``wscale``
    (``W = wscale * V``), and the l1 proximal steps are applied lazily, a feature catching up on the thresholds it
    missed when it is next read (the cumulative-penalty scheme of Tsuruoka et al. 2009, as scikit-learn's SGD does).
    Polyak averaging is lazy too when ``l1 == 0`` (Xu 2011): the sum of the averaged iterates is ``T + A V``, ``T``
    starting as ``n_avg`` times the incoming average and the scalar ``A`` summing this call's scales; a step that
    moves ``V[j]`` by ``-delta`` adds ``A delta`` to ``T[j]`` (:func:`_row_step`), and a row's score at the average
    is ``(x . T + A x . V) / n_avg``, one more array read beside ``V``. With an l1 penalty the iterates' values
    between reads are unknown, and the average is updated over all O(K d) coordinates each step.

    Inside the call the model is held feature-major, ``V[j, k]`` (d, K): with the K outputs of a feature on one
    cache line a row's non-zeros cost a few lines instead of K scattered ones (docs/benchmarks.md). A batch's
    step goes into ``V`` row by row from its rows' gradients, after all their scores are taken (a d-long gradient
    buffer, with marks of its features, cost one more pass and two more arrays visited at random).

    One row a step with one output and no l1 penalty runs :func:`_sgd_csr_rows`, the batches
    :func:`_sgd_csr_batches`; the choice is made here, in Python, so that numba compiles only the loop a fit runs
    (a compiled choice compiled both for every loss: 2 of the 10 s a first fit of ``AveragedSGDClassifier()`` on
    sparse rows spent compiling, docs/benchmarks.md).
    """
    if batch_size == 1 and W.shape[0] == 1 and l1 == 0.0:
        return _sgd_csr_rows(data, indices, indptr, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, n_steps, loss, margin,
                             eps, pos_weight, neg_weight, l2, fit_intercept, schedule, eta, power_t, samples_per_step,
                             warmup_steps, eta_start, avg_start, blowup)
    return _sgd_csr_batches(data, indices, indptr, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, batch_size, n_steps,
                            loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept, schedule, eta, power_t,
                            samples_per_step, warmup_steps, eta_start, avg_start, blowup)


@njit(nogil=True, cache=True)
def _sgd_csr_batches(data, indices, indptr, y, sw, rows, W, B, Wbar, Bbar, n_avg, t0, batch_size, n_steps,
                     loss, margin, eps, pos_weight, neg_weight, l2, l1, fit_intercept,
                     schedule, eta, power_t, samples_per_step, warmup_steps, eta_start, avg_start, blowup):
    """:func:`sgd_csr`'s batch loop (any batch, outputs and penalty)."""
    K, d = W.shape
    V = _transposed(W)
    B = B.copy()
    Bbar = Bbar.copy()
    pk, pak, gb = np.zeros(K), np.zeros(K), np.zeros(K)  # a row's scores (iterate, average), intercept sums
    gbuf = np.zeros((batch_size, K))  # the batch's rows with a gradient, and their gradients by output
    grow = np.empty(batch_size, dtype=np.int64)
    act = np.empty(K, dtype=np.int64)  # a row's outputs with a gradient (_row_step)
    seen_u = np.zeros(d)  # the l1 threshold ``u`` (in units of W) when each column last caught up
    lazy = l1 == 0.0
    n0 = n_avg
    T = _transposed(Wbar)
    if lazy:
        _scale_all(T, float(n0))
    wscale, A, u = 1.0, 0.0, 0.0
    n_rows = rows.shape[0]
    loss_sum, n_seen, steps, diverged, last_eta = 0.0, 0, 0, False, 0.0
    for s in range(n_batches(n_steps, batch_size, n_rows)):
        pos, stop = s * batch_size, min((s + 1) * batch_size, n_rows)
        m = stop - pos
        n_seen += m
        batch_loss, loss_sum, ng = _batch_gradients(
            data, indices, indptr, y, sw, rows, pos, stop, V, T, B, Bbar, pk, pak, gb, gbuf, grow, seen_u, u,
            wscale, A, n_avg, lazy, t0 + s >= avg_start and n_avg > 0, loss, margin, eps, pos_weight, neg_weight,
            loss_sum)
        t = t0 + s
        e = batch_step(batch_loss, m, blowup, t, schedule, eta, power_t, samples_per_step, warmup_steps, eta_start)
        if e < 0.0:
            diverged = True
            break
        A, wscale = _penalty_decay(V, T, A, wscale, e * l2, lazy)
        c = e / m / wscale
        for h in range(ng):
            i = grow[h]
            a, z = row_span(indptr, i)
            _row_step(data, indices, a, z, V, T, gbuf[h], c, A if lazy else 0.0, act)
        intercept_step(B, gb, e / m, fit_intercept)
        if not (s == n_steps - 1 or stop >= n_rows):  # the last step's l1 proximal step is the caller's
            u += e * l1
        if t >= avg_start:
            n_avg += 1
            A = _average_step(V, T, B, Bbar, seen_u, u, wscale, A, n_avg, lazy)
        steps += 1
        last_eta = e
    W, Wbar, finite = _finished(V, T, A, wscale, seen_u, u, Wbar, n_avg, n0, lazy)
    return W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps, diverged or not finite, last_eta
