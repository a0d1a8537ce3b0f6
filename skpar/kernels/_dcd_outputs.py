"""Dual coordinate ascent passes over several one-vs-rest outputs at once: the rows outermost.

:func:`~skpar.kernels.dcd_csr` and :func:`~skpar.kernels.dcd_dense` take the outputs one after another, so a pass
over ``K`` outputs reads the rows ``K`` times and gathers each row's weights from a different ``w_k`` each time.
The kernels here visit a row once for all outputs: the row's values are read once, its margins
:math:`w_k \\cdot \\tilde x_i` for every output come from one sweep in which the weights of
feature ``j`` for all outputs are adjacent in memory (``Wl`` in Fortran order, ``Wl[:, j]`` contiguous), and the
outputs' steps go back in one more sweep. On 20 Newsgroups (20 outputs, 130 values a row) a pass over all outputs
costs about a quarter of the 20 one-output passes (docs/benchmarks.md).

Each output's dual problem is its own: output ``k``'s steps, shrinking flags ``active[k]`` and thresholds
``thresholds[k]`` are exactly what a pass of the one-output kernel in the same order would give (its margins summed
in a different order aside). Two threads each taking half of the outputs gained nothing on 2 cores (the rows' reads
bound the pass), so the drivers run a block's outputs in one call.
"""

import numpy as np
from numba import njit

from ._dcd import _certificate_terms, _coordinate, _cost, _end_pass, _target
from ._indices import row_span
from ._prefetch import prefetch_distance, prefetch_row


@njit(inline="always", nogil=True, cache=True)
def _outputs_start(active, thresholds, K):
    """:func:`skpar.kernels._dcd._pass_start` for each of the ``K`` outputs: ``pg[k]`` holds output ``k``'s largest
    and smallest projected gradients of this pass (none yet), then the previous pass's."""
    shrinking = active.shape[0] > 0
    pg = np.empty((K, 4))
    for k in range(K):
        pg[k, 0], pg[k, 1] = -np.inf, np.inf
        pg[k, 2], pg[k, 3] = (thresholds[k, 0], thresholds[k, 1]) if shrinking else (np.inf, -np.inf)
    return shrinking, pg


@njit(inline="always", nogil=True, cache=True)
def _outputs_end(shrinking, thresholds, pg):
    for k in range(pg.shape[0]):
        _end_pass(shrinking, thresholds[k], pg[k, 0], pg[k, 1])


@njit(inline="always", nogil=True, cache=True)
def _any_active(active, i):
    for k in range(active.shape[0]):
        if active[k, i]:
            return True
    return False


@njit(inline="always", nogil=True, cache=True)
def _bias_scores(p, W, d, bias):
    """Start each output's score ``p[c]`` at its bias term ``bias W[c, d]`` (0 without an intercept)."""
    for c in range(p.shape[0]):
        p[c] = bias * W[c, d] if bias != 0.0 else 0.0


@njit(inline="always", nogil=True, cache=True)
def _bias_steps(Wl, steps, d, bias):
    """Each output's step along the row's bias column."""
    if bias != 0.0:
        for c in range(steps.shape[0]):
            Wl[c, d] += steps[c] * bias


@njit(inline="always", nogil=True, cache=True)
def _row_certificate(i, p0, y, sw, A, C, loss, dual, pos_weight, neg_weight):
    """Row ``i``'s terms of the certificate's primal and dual sums over all outputs, given its margins ``p0``."""
    K = A.shape[0]
    primal, dual_terms = 0.0, 0.0
    for k in range(K):
        t = _target(y[i], k, K)
        Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
        if Ci > 0.0:
            pa, da = _certificate_terms(p0[k], A[k, i], t, Ci, loss, dual)
            primal += pa
            dual_terms += da
    return primal, dual_terms


@njit(inline="always", nogil=True, cache=True)
def _visit_outputs(i, p, p0, steps, y, sw, A, C, loss, dual, pos_weight, neg_weight, certify, shrinking, pg, sigma,
                   sq, active):
    """Visit row ``i``'s dual variable of each output ``k`` given its margins ``p[k]`` (``p0[k]`` at the certified
    point); ``steps[k]`` receives the step the row takes in ``Wl[k]`` (0: none) and ``pg[k]`` the pass's largest
    violations. Returns ``(moved, primal_add, dual_add)``: whether any output stepped, and the row's certificate
    terms."""
    K = A.shape[0]
    moved = False
    primal, dual_terms = 0.0, 0.0
    for k in range(K):
        steps[k] = 0.0
        if shrinking and not active[k, i]:
            continue
        t = _target(y[i], k, K)
        Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
        if Ci <= 0.0:
            continue
        a_new, pa, da, PG, out = _coordinate(p[k], p0[k], A[k, i], t, Ci, loss, dual, certify, shrinking, pg[k, 2],
                                             pg[k, 3], sigma, sq)
        primal += pa
        dual_terms += da
        if out:  # as in skpar.kernels._dcd.dcd_csr
            active[k, i] = False
            continue
        pg[k, 0], pg[k, 1] = max(pg[k, 0], PG), min(pg[k, 1], PG)
        delta = a_new - A[k, i]
        if delta != 0.0:
            A[k, i] = a_new
            steps[k] = sigma * delta * t
            moved = True
    return moved, primal, dual_terms


@njit(nogil=True, cache=True)
def dcd_csr_outputs(data, indices, indptr, sqn, y, sw, order, W, Wl, A, C, loss, dual, pos_weight, neg_weight, bias,
                    sigma, certify, active, thresholds):
    """One pass of dual coordinate ascent for every output over the CSR block in ``order``, the rows outermost;
    ``Wl`` and ``A`` change **in place**.

    The arguments are :func:`~skpar.kernels.dcd_csr`'s, with ``thresholds`` of shape (K, 2 or more), each output
    its own row, and ``y`` the class index of each row. ``Wl`` (and ``W``, read only where ``certify``) should be
    in Fortran order: the kernel reads and writes ``Wl[:, j]`` together. Returns the certificate's ``(primal_sum,
    dual_sum)`` at the incoming ``(W, A)`` with ``certify``, else ``(0, 0)``.
    """
    K, dw = Wl.shape
    d = dw - 1 if bias != 0.0 else dw
    primal_sum = dual_sum = 0.0  # the certificate's sums
    shrinking, pg = _outputs_start(active, thresholds, K)
    p, p0, steps = np.empty(K), np.zeros(K), np.empty(K)
    n_order = order.shape[0]
    distance = prefetch_distance(indptr)
    for q in range(n_order):
        i = order[q]
        if q + distance < n_order:
            prefetch_row(data, indices, indptr, order[q + distance])
        if shrinking and not _any_active(active, i):
            continue
        a, z = row_span(indptr, i)
        _bias_scores(p, Wl, d, bias)
        for r in range(a, z):
            x, j = data[r], indices[r]
            for k in range(K):
                p[k] += x * Wl[k, j]
        if certify:
            _bias_scores(p0, W, d, bias)
            for r in range(a, z):
                x, j = data[r], indices[r]
                for k in range(K):
                    p0[k] += x * W[k, j]
        moved, pa, da = _visit_outputs(i, p, p0, steps, y, sw, A, C, loss, dual, pos_weight, neg_weight, certify,
                                       shrinking, pg, sigma, bias * bias + sqn[i], active)
        primal_sum += pa
        dual_sum += da
        if moved:
            for r in range(a, z):
                x, j = data[r], indices[r]
                for k in range(K):
                    Wl[k, j] += steps[k] * x
            _bias_steps(Wl, steps, d, bias)
    _outputs_end(shrinking, thresholds, pg)
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def dcd_dense_outputs(X, sqn, y, sw, order, W, Wl, A, C, loss, dual, pos_weight, neg_weight, bias, sigma, certify,
                      active, thresholds):
    """The dense twin of :func:`dcd_csr_outputs`."""
    K = A.shape[0]
    d = X.shape[1]
    primal_sum = dual_sum = 0.0  # the certificate's sums
    shrinking, pg = _outputs_start(active, thresholds, K)
    p, p0, steps = np.empty(K), np.zeros(K), np.empty(K)
    for q in range(order.shape[0]):
        i = order[q]
        if shrinking and not _any_active(active, i):
            continue
        _bias_scores(p, Wl, d, bias)
        for j in range(d):
            x = X[i, j]
            for k in range(K):
                p[k] += x * Wl[k, j]
        if certify:
            _bias_scores(p0, W, d, bias)
            for j in range(d):
                x = X[i, j]
                for k in range(K):
                    p0[k] += x * W[k, j]
        moved, pa, da = _visit_outputs(i, p, p0, steps, y, sw, A, C, loss, dual, pos_weight, neg_weight, certify,
                                       shrinking, pg, sigma, bias * bias + sqn[i], active)
        primal_sum += pa
        dual_sum += da
        if moved:
            for j in range(d):
                x = X[i, j]
                for k in range(K):
                    Wl[k, j] += steps[k] * x
            _bias_steps(Wl, steps, d, bias)
    _outputs_end(shrinking, thresholds, pg)
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def certificate_csr_outputs(data, indices, indptr, y, sw, W, A, C, loss, dual, pos_weight, neg_weight, bias):
    """:func:`~skpar.kernels.certificate_csr` with the rows outermost (``W`` in Fortran order): each row read once
    for all ``K`` outputs."""
    K, dw = W.shape
    d = dw - 1 if bias != 0.0 else dw
    primal_sum, dual_sum = 0.0, 0.0
    p0 = np.empty(K)
    for i in range(indptr.shape[0] - 1):
        _bias_scores(p0, W, d, bias)
        a, z = row_span(indptr, i)
        for r in range(a, z):
            x, j = data[r], indices[r]
            for k in range(K):
                p0[k] += x * W[k, j]
        pa, da = _row_certificate(i, p0, y, sw, A, C, loss, dual, pos_weight, neg_weight)
        primal_sum += pa
        dual_sum += da
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def certificate_dense_outputs(X, y, sw, W, A, C, loss, dual, pos_weight, neg_weight, bias):
    """The dense twin of :func:`certificate_csr_outputs`."""
    K = W.shape[0]
    d = X.shape[1]
    primal_sum, dual_sum = 0.0, 0.0
    p0 = np.empty(K)
    for i in range(X.shape[0]):
        _bias_scores(p0, W, d, bias)
        for j in range(d):
            x = X[i, j]
            for k in range(K):
                p0[k] += x * W[k, j]
        pa, da = _row_certificate(i, p0, y, sw, A, C, loss, dual, pos_weight, neg_weight)
        primal_sum += pa
        dual_sum += da
    return primal_sum, dual_sum
