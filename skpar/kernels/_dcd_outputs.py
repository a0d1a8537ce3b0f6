"""Dual coordinate ascent passes over several one-vs-rest outputs at once: the rows outermost.

:func:`~skpar.kernels.dcd_csr` and :func:`~skpar.kernels.dcd_dense` take the outputs one after another, so a pass
over ``K`` outputs reads the rows ``K`` times and gathers each row's weights from a different ``w_k`` each time.
The kernels here visit a row once for a range ``k0 <= k < k1`` of outputs: the row's values are read once, its
margins :math:`w_k \\cdot \\tilde x_i` for every output of the range come from one sweep in which the weights of
feature ``j`` for all outputs are adjacent in memory (``Wl`` in Fortran order, ``Wl[:, j]`` contiguous), and the
outputs' steps go back in one more sweep. On 20 Newsgroups (20 outputs, 130 values a row) a pass over all outputs
costs about a quarter of the 20 one-output passes (docs/benchmarks.md).

Each output's dual problem is its own: output ``k``'s steps, shrinking flags ``active[k]`` and thresholds
``thresholds[k]`` are exactly what a pass of the one-output kernel in the same order would give (its margins summed
in a different order aside), so the outputs can be split into ranges over threads with the same result to the bit
whatever the split.
"""

import numpy as np
from numba import njit

from ._dcd import _certificate_terms, _cost, _end_pass, _target, _visit
from ._prefetch import prefetch_distance, prefetch_row


@njit(inline="always", nogil=True, cache=True)
def _outputs_start(active, thresholds, k0, k1):
    """:func:`skpar.kernels._dcd._pass_start` for each output of ``k0:k1``: ``pg[c]`` for output ``k0 + c``."""
    shrinking = active.shape[0] > 0
    pg = np.empty((k1 - k0, 4))
    for c in range(k1 - k0):
        pg[c, 0], pg[c, 1] = -np.inf, np.inf
        pg[c, 2], pg[c, 3] = (thresholds[k0 + c, 0], thresholds[k0 + c, 1]) if shrinking else (np.inf, -np.inf)
    return shrinking, pg


@njit(inline="always", nogil=True, cache=True)
def _outputs_end(shrinking, thresholds, pg, k0, k1):
    for c in range(k1 - k0):
        _end_pass(shrinking, thresholds[k0 + c], pg[c, 0], pg[c, 1])


@njit(inline="always", nogil=True, cache=True)
def _any_active(active, k0, k1, i):
    for k in range(k0, k1):
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
def _visit_outputs(i, p, p0, steps, y, sw, A, k0, k1, K, C, loss, dual, pos_weight, neg_weight, certify, shrinking,
                   pg, sums, sigma, sq, active):
    """Visit row ``i``'s dual variable of each output ``k0 + c`` given its margins ``p[c]`` (``p0[c]`` at the
    certified point); ``steps[c]`` receives the step the row takes in ``Wl[k0 + c]`` (0: none). Returns whether any
    output stepped."""
    moved = False
    for c in range(k1 - k0):
        k = k0 + c
        steps[c] = 0.0
        if shrinking and not active[k, i]:
            continue
        t = _target(y[i], k, K)
        Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
        if Ci <= 0.0:
            continue
        steps[c] = _visit(p[c], p0[c], A, k, i, t, Ci, loss, dual, certify, shrinking, pg[c], sums, sigma, sq, active)
        moved = moved or steps[c] != 0.0
    return moved


@njit(nogil=True, cache=True)
def dcd_csr_outputs(data, indices, indptr, sqn, y, sw, order, W, Wl, A, k0, k1, C, loss, dual, pos_weight,
                    neg_weight, bias, sigma, certify, active, thresholds):
    """One pass of dual coordinate ascent for the outputs ``k0:k1`` over the CSR block in ``order``, the rows
    outermost; ``Wl`` and ``A`` change **in place** in those outputs only.

    The arguments are :func:`~skpar.kernels.dcd_csr`'s, but ``W`` and ``Wl`` hold the range's outputs only
    (``(k1 - k0, d + [bias])``, row ``c`` for output ``k0 + c``) while ``A``, ``active`` ((K, n)), ``pos_weight``,
    ``neg_weight`` ((K,)) and ``thresholds`` ((K, 2 or more): each output its own row) hold all ``K``; ``y`` is
    the class index of each row, or 1/0 where ``K == 1``. ``Wl`` (and ``W``, read only where ``certify``) should be
    in Fortran order: the kernel reads and writes ``Wl[:, j]`` together. Returns the certificate's ``(primal_sum,
    dual_sum)`` over the range's outputs at the incoming ``(W, A)`` with ``certify``, else ``(0, 0)``.
    """
    K, dw = A.shape[0], Wl.shape[1]
    d = dw - 1 if bias != 0.0 else dw
    k0 = max(k0, 0)  # an index known not negative: no wrap-around test, so the loops over outputs vectorise (2.7x)
    m = k1 - k0
    sums = np.zeros(2)
    shrinking, pg = _outputs_start(active, thresholds, k0, k1)
    p, p0, steps = np.empty(m), np.zeros(m), np.empty(m)
    n_order = order.shape[0]
    distance = prefetch_distance(indptr)
    for q in range(n_order):
        i = order[q]
        if q + distance < n_order:
            prefetch_row(data, indices, indptr, order[q + distance])
        if shrinking and not _any_active(active, k0, k1, i):
            continue
        a, z = indptr[i], indptr[i + 1]
        _bias_scores(p, Wl, d, bias)
        for r in range(a, z):
            x, j = data[r], indices[r]
            for c in range(m):
                p[c] += x * Wl[c, j]
        if certify:
            _bias_scores(p0, W, d, bias)
            for r in range(a, z):
                x, j = data[r], indices[r]
                for c in range(m):
                    p0[c] += x * W[c, j]
        if _visit_outputs(i, p, p0, steps, y, sw, A, k0, k1, K, C, loss, dual, pos_weight, neg_weight, certify,
                          shrinking, pg, sums, sigma, bias * bias + sqn[i], active):
            for r in range(a, z):
                x, j = data[r], indices[r]
                for c in range(m):
                    Wl[c, j] += steps[c] * x
            _bias_steps(Wl, steps, d, bias)
    _outputs_end(shrinking, thresholds, pg, k0, k1)
    return sums[0], sums[1]


@njit(nogil=True, cache=True)
def dcd_dense_outputs(X, sqn, y, sw, order, W, Wl, A, k0, k1, C, loss, dual, pos_weight, neg_weight, bias, sigma,
                      certify, active, thresholds):
    """The dense twin of :func:`dcd_csr_outputs`."""
    K = A.shape[0]
    d = X.shape[1]
    k0 = max(k0, 0)  # see dcd_csr_outputs
    m = k1 - k0
    sums = np.zeros(2)
    shrinking, pg = _outputs_start(active, thresholds, k0, k1)
    p, p0, steps = np.empty(m), np.zeros(m), np.empty(m)
    for q in range(order.shape[0]):
        i = order[q]
        if shrinking and not _any_active(active, k0, k1, i):
            continue
        _bias_scores(p, Wl, d, bias)
        for j in range(d):
            x = X[i, j]
            for c in range(m):
                p[c] += x * Wl[c, j]
        if certify:
            _bias_scores(p0, W, d, bias)
            for j in range(d):
                x = X[i, j]
                for c in range(m):
                    p0[c] += x * W[c, j]
        if _visit_outputs(i, p, p0, steps, y, sw, A, k0, k1, K, C, loss, dual, pos_weight, neg_weight, certify,
                          shrinking, pg, sums, sigma, bias * bias + sqn[i], active):
            for j in range(d):
                x = X[i, j]
                for c in range(m):
                    Wl[c, j] += steps[c] * x
            _bias_steps(Wl, steps, d, bias)
    _outputs_end(shrinking, thresholds, pg, k0, k1)
    return sums[0], sums[1]


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
        for r in range(indptr[i], indptr[i + 1]):
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
