"""Dual coordinate ascent for linear SVMs on one block (Hsieh et al. 2008; SDCA, Shalev-Shwartz and Zhang 2013).

For each output ``k`` (one per class, one-vs-rest; one for two classes) and sample ``i`` with target
:math:`t_{ik} = \\pm 1` and cost :math:`C_{ik}`, the dual of :math:`\\tfrac12\\|w_k\\|^2 + \\sum_i C_{ik}\\,
\\ell(t_{ik} w_k \\cdot x_i)` is

.. math::

    \\max_{0 \\le \\alpha_{ik} \\le U_{ik}} \\sum_i \\alpha_{ik} - \\tfrac12 \\|w_k(\\alpha)\\|^2
    - \\sum_i \\frac{D_{ik}}{2} \\alpha_{ik}^2, \\qquad w_k(\\alpha) = \\sum_i \\alpha_{ik} t_{ik} x_i,

with :math:`U = C, D = 0` for the hinge and :math:`U = \\infty, D = 1 / (2C)` for the squared hinge. A coordinate
step is the closed-form clipped Newton step
:math:`\\alpha \\leftarrow \\mathrm{clip}(\\alpha - (t\\, w \\cdot x - 1 + D\\alpha) / (\\|x\\|^2 + D), 0, U)`.

For CoCoA+ (Ma et al. 2015) a block solves its local subproblem, whose quadratic term is scaled by ``sigma``: the
block's copy of ``w`` moves by ``sigma`` times each step. Rows carry an appended constant ``intercept_scaling``
when an intercept is fitted (liblinear's convention: the intercept is penalised like a weight).

Shrinking (liblinear's, Hsieh et al. 2008, section 3.2): after the first pass of a round, a variable at a bound
whose gradient points out of the box by more than the previous pass's largest violation is left out of the passes
that follow. At the optimum most of an SVM's dual variables sit at 0 (68% on the sparse benchmark at a gap of
1e-3), and a variable left at 0 still costs a dot product per pass: shrinking skips it. A call that starts with
every variable active and certifies in its first pass (CoCoA rounds) sees again in the next round a variable shrunk
by mistake; PASSCoDe's rounds keep the shrinking state from call to call and certify apart, by
:func:`certificate_csr` (one dot product a row, no step), so that shrinking is not undone at every certificate
(``skpar.parallel._dcd_tasks.Shrinking`` brings every variable back as liblinear does). A kernel call is one pass, so
that every pass can take a fresh order (the shrinking state is passed from call to call).
"""

import numpy as np
from numba import njit

from ._dot import row_dot_csr, row_dot_dense
from ._indices import row_span
from ._prefetch import ROWS_AHEAD, prefetch_row, short_rows


@njit(inline="always", nogil=True, cache=True)
def _target(yi, k, K):
    cls = 1.0 if K == 1 else float(k)
    return 1.0 if yi == cls else -1.0


@njit(inline="always", nogil=True, cache=True)
def _cost(C, swi, t, k, pos_weight, neg_weight):
    return C * swi * (pos_weight[k] if t > 0 else neg_weight[k])


@njit(inline="always", nogil=True, cache=True)
def _projected(G, a, U, shrinking, pg_max_old, pg_min_old):
    """The projected gradient of a dual variable at ``a`` in ``[0, U]``, and whether to shrink it (leave it out of
    later passes: it sits at a bound and its gradient pushes past the previous pass's largest violation)."""
    if a <= 0.0:
        if shrinking and G > pg_max_old:
            return 0.0, True
        return min(G, 0.0), False
    if a >= U:
        if shrinking and G < pg_min_old:
            return 0.0, True
        return max(G, 0.0), False
    return G, False


@njit(inline="always", nogil=True, cache=True)
def _next_thresholds(pg_max, pg_min):
    # liblinear: a pass with no violation on a side shrinks nothing on that side in the next one
    return (pg_max if pg_max > 0.0 else np.inf), (pg_min if pg_min < 0.0 else -np.inf)


@njit(inline="always", nogil=True, cache=True)
def _certificate_terms(p0, a, t, Ci, loss, dual):
    # a dual variable's terms of the certificate's sums: its primal loss at the margin p0, its dual terms at a
    DC, bounded = dual
    D = DC / Ci if DC > 0.0 else 0.0
    return Ci * loss(p0, t, 0.0)[0], a - 0.5 * D * a * a


@njit(inline="always", nogil=True, cache=True)
def _coordinate(p, p0, a, t, Ci, loss, dual, certify, shrinking, pg_max_old, pg_min_old, sigma, sq):
    """The step of one dual variable at ``a`` given its margins ``p`` (at the working ``w``) and ``p0`` (at the
    certified point; read only with ``certify``). Returns ``(a_new, primal_add, dual_add, PG, shrink)``: its new
    value (clipped to the box exactly), its terms of the certificate's sums, its projected gradient, and whether to
    shrink it (then ``a_new = a``)."""
    DC, bounded = dual
    D = DC / Ci if DC > 0.0 else 0.0
    U = Ci if bounded else np.inf
    primal_add, dual_add = 0.0, 0.0
    if certify:  # each row is visited once a pass: ``a`` is still the incoming value
        primal_add, dual_add = _certificate_terms(p0, a, t, Ci, loss, dual)
    G = t * p - 1.0 + D * a
    PG, out = _projected(G, a, U, shrinking, pg_max_old, pg_min_old)
    Q = sigma * sq + D
    if out or Q <= 0.0:
        return a, primal_add, dual_add, PG, out
    return min(max(a - G / Q, 0.0), U), primal_add, dual_add, PG, out


@njit(inline="always", nogil=True, cache=True)
def _end_pass(shrinking, thresholds, pg_max, pg_min):
    # the next pass's shrinking thresholds; a caller that keeps the shrinking state from call to call (thresholds of
    # length 4) also gets the pass's largest violations, as they are, to judge whether the shrunk problem is solved
    if shrinking:
        thresholds[0], thresholds[1] = _next_thresholds(pg_max, pg_min)
        if thresholds.shape[0] >= 4:
            thresholds[2], thresholds[3] = pg_max, pg_min


@njit(inline="always", nogil=True, cache=True)
def _pass_start(active, thresholds):
    """Whether the pass shrinks, and the previous pass's largest and smallest projected gradients, which the
    shrinking tests read."""
    shrinking = active.shape[0] > 0
    if shrinking:
        return shrinking, thresholds[0], thresholds[1]
    return shrinking, np.inf, -np.inf


@njit(nogil=True, cache=True)
def dcd_dense(X, sqn, y, sw, order, W, Wl, A, C, loss, dual, pos_weight, neg_weight, bias, sigma, certify, active,
              thresholds):
    """One pass of dual coordinate ascent over the dense block ``X`` in ``order``, updating ``Wl`` and ``A``
    **in place**.

    ``W`` (K, d + [bias != 0]) is ``w(alpha)`` at the incoming ``A`` (read only), ``Wl`` the working ``w`` that the
    steps move by ``sigma`` times each step (a private copy for CoCoA rounds; for PASSCoDe the one array all
    threads share, written without locks), ``A`` (K, n) the block's dual variables, ``sqn`` the rows' squared
    norms (without the bias column). With ``certify`` returns ``(primal_sum, dual_sum)`` at the incoming
    ``(W, A)``: the block's primal loss ``sum C_ik l(t w_k . x~_i)`` and dual terms ``sum alpha_ik - D_ik
    alpha_ik^2 / 2`` (a second dot per row, no second pass); else ``(0, 0)``.

    ``loss`` is the margin loss's compiled function and ``dual`` its ``(D C, bounded)`` (``Loss.kernel`` and
    ``Loss.dual`` of :mod:`skpar._losses`): they give the primal terms, the box and the quadratic term ``D``.

    Shrinking: ``active`` (K, n) flags the variables still visited (shape (0, 0): no shrinking) and
    ``thresholds`` holds the previous pass's largest violations; both carry over between the passes of a call
    and are updated here. Start a call with every flag set and ``thresholds = [inf, -inf]``.
    """
    K, dw = W.shape
    d = X.shape[1]
    primal_sum = dual_sum = 0.0  # the certificate's sums
    shrinking, pg_max_old, pg_min_old = _pass_start(active, thresholds)
    pg_max, pg_min = -np.inf, np.inf  # this pass's largest violations
    # the outputs outermost: an output's dual variables touch only its own row of w, so each output's steps are
    # the same whichever loop is outside, and with the outputs outside an output's w stays in cache for the pass
    # (the solvers pass one output here; several take skpar.kernels._dcd_outputs, each row read once for all)
    for k in range(K):
        for q in range(order.shape[0]):
            i = order[q]
            if shrinking and not active[k, i]:
                continue
            t = _target(y[i], k, K)
            Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
            if Ci <= 0.0:
                continue
            p = (bias * Wl[k, d] if bias != 0.0 else 0.0) + row_dot_dense(X, i, Wl, k, d)
            p0 = 0.0
            if certify:
                p0 = (bias * W[k, d] if bias != 0.0 else 0.0) + row_dot_dense(X, i, W, k, d)
            # the step's bookkeeping is written out here and in dcd_csr: a helper returning the step with the
            # shrinking verdict, inlined, made the CSR pass 10% slower (docs/benchmarks.md)
            a_new, pa, da, PG, out = _coordinate(p, p0, A[k, i], t, Ci, loss, dual, certify, shrinking, pg_max_old,
                                                 pg_min_old, sigma, bias * bias + sqn[i])
            primal_sum += pa
            dual_sum += da
            if out:
                active[k, i] = False
                continue
            pg_max, pg_min = max(pg_max, PG), min(pg_min, PG)
            delta = a_new - A[k, i]
            if delta == 0.0:
                continue
            A[k, i] = a_new
            step = sigma * delta * t
            for j in range(d):
                Wl[k, j] += step * X[i, j]
            if bias != 0.0:
                Wl[k, d] += step * bias
    _end_pass(shrinking, thresholds, pg_max, pg_min)
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def dcd_csr(data, indices, indptr, sqn, y, sw, order, W, Wl, A, C, loss, dual, pos_weight, neg_weight, bias, sigma,
            certify, active, thresholds):
    """The CSR twin of :func:`dcd_dense`: a step costs O(K x non-zeros of the row)."""
    K, dw = W.shape
    d = dw - 1 if bias != 0.0 else dw
    primal_sum = dual_sum = 0.0  # the certificate's sums
    shrinking, pg_max_old, pg_min_old = _pass_start(active, thresholds)
    pg_max, pg_min = -np.inf, np.inf  # this pass's largest violations
    n_order = order.shape[0]
    prefetching = short_rows(indptr)
    for k in range(K):  # the outputs outermost, as in dcd_dense
        for q0 in range(0, n_order, ROWS_AHEAD):
            q1 = min(q0 + ROWS_AHEAD, n_order)
            # rows in random order make each row's first lines a miss: ask for the next chunk's rows (see
            # prefetch_row) while this chunk is worked on. The same rows ahead as one prefetch at every row, with
            # its test out of the loop over a chunk's rows: there, never true on long rows, it cost 8% of a pass
            # on Reuters (docs/benchmarks.md)
            if prefetching:
                for q in range(q1, min(q1 + ROWS_AHEAD, n_order)):
                    ahead = order[q]
                    if not shrinking or active[k, ahead]:
                        prefetch_row(data, indices, indptr, ahead)
            for q in range(q0, q1):
                i = order[q]
                if shrinking and not active[k, i]:
                    continue
                a, z = row_span(indptr, i)
                t = _target(y[i], k, K)
                Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
                if Ci <= 0.0:
                    continue
                p = (bias * Wl[k, d] if bias != 0.0 else 0.0) + row_dot_csr(data, indices, a, z, Wl, k)
                p0 = 0.0
                if certify:
                    p0 = (bias * W[k, d] if bias != 0.0 else 0.0) + row_dot_csr(data, indices, a, z, W, k)
                a_new, pa, da, PG, out = _coordinate(p, p0, A[k, i], t, Ci, loss, dual, certify, shrinking,
                                                     pg_max_old, pg_min_old, sigma, bias * bias + sqn[i])
                primal_sum += pa
                dual_sum += da
                if out:
                    active[k, i] = False
                    continue
                pg_max, pg_min = max(pg_max, PG), min(pg_min, PG)
                delta = a_new - A[k, i]
                if delta == 0.0:
                    continue
                A[k, i] = a_new
                step = sigma * delta * t
                for r in range(a, z):
                    Wl[k, indices[r]] += step * data[r]
                if bias != 0.0:
                    Wl[k, d] += step * bias
    _end_pass(shrinking, thresholds, pg_max, pg_min)
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def w_of_alpha_dense(X, y, A, bias, out):
    """Add ``sum_i A_ki t_ki x~_i`` to ``out`` (K, d + [bias != 0]), skipping the rows whose ``A`` is 0 (most of
    an SVM's dual variables: the reduction costs a pass over the support vectors only)."""
    K = A.shape[0]
    d = X.shape[1]
    for i in range(X.shape[0]):
        for k in range(K):
            a = A[k, i]
            if a == 0.0:
                continue
            c = a * _target(y[i], k, K)
            for j in range(d):
                out[k, j] += c * X[i, j]
            if bias != 0.0:
                out[k, d] += c * bias


@njit(nogil=True, cache=True)
def w_of_alpha_csr(data, indices, indptr, y, A, bias, out):
    """The CSR twin of :func:`w_of_alpha_dense`."""
    K = A.shape[0]
    d = out.shape[1] - 1 if bias != 0.0 else out.shape[1]
    for i in range(indptr.shape[0] - 1):
        for k in range(K):
            a = A[k, i]
            if a == 0.0:
                continue
            c = a * _target(y[i], k, K)
            a, z = row_span(indptr, i)
            for r in range(a, z):
                out[k, indices[r]] += c * data[r]
            if bias != 0.0:
                out[k, d] += c * bias


@njit(nogil=True, cache=True)
def certificate_dense(X, y, sw, W, A, C, loss, dual, pos_weight, neg_weight, bias):
    """The certificate's sums at ``(W, A)`` without a step: ``(primal_sum, dual_sum)`` as :func:`dcd_dense` returns
    them with ``certify``, one dot product per row and output, the rows in their stored order (``A`` and ``W`` are
    read only)."""
    K = A.shape[0]
    d = X.shape[1]
    primal_sum = 0.0
    dual_sum = 0.0
    for k in range(K):
        for i in range(X.shape[0]):
            t = _target(y[i], k, K)
            Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
            if Ci <= 0.0:
                continue
            p0 = (bias * W[k, d] if bias != 0.0 else 0.0) + row_dot_dense(X, i, W, k, d)
            pa, da = _certificate_terms(p0, A[k, i], t, Ci, loss, dual)
            primal_sum += pa
            dual_sum += da
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def certificate_csr(data, indices, indptr, y, sw, W, A, C, loss, dual, pos_weight, neg_weight, bias):
    """The CSR twin of :func:`certificate_dense`. Each output's margins are taken over all rows first, then its
    terms: the two loops apart took 0.21 ms on Reuters against 0.27 ms interleaved (docs/benchmarks.md)."""
    K, dw = W.shape
    d = dw - 1 if bias != 0.0 else dw
    n = indptr.shape[0] - 1
    margins = np.empty(n)
    primal_sum = 0.0
    dual_sum = 0.0
    for k in range(K):
        b = bias * W[k, d] if bias != 0.0 else 0.0
        for i in range(n):
            a, z = row_span(indptr, i)
            margins[i] = b + row_dot_csr(data, indices, a, z, W, k)
        for i in range(n):
            t = _target(y[i], k, K)
            Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
            if Ci <= 0.0:
                continue
            pa, da = _certificate_terms(margins[i], A[k, i], t, Ci, loss, dual)
            primal_sum += pa
            dual_sum += da
    return primal_sum, dual_sum
