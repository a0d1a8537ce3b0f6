"""The passes of a primal Newton method for the squared-hinge SVM and for logistic regression, on one block.

For each output ``k`` with targets :math:`t_{ik} = \\pm 1` and costs :math:`c_{ik}` the primal is

.. math::

    P(w_k) = \\tfrac12 \\|w_k\\|^2 + \\sum_i c_{ik} \\max(0, 1 - t_{ik} w_k \\cdot \\tilde x_i)^2,

whose gradient is :math:`w_k - \\sum_i \\alpha_{ik} t_{ik} \\tilde x_i` with :math:`\\alpha_{ik} = 2 c_{ik}
\\max(0, 1 - t_{ik} w_k \\cdot \\tilde x_i)` (the dual variables that the primal point gives) and whose generalised
Hessian is :math:`I + 2 \\sum_{i \\in I} c_{ik} \\tilde x_i \\tilde x_i^T` over the rows ``I`` inside the margin
(Keerthi and DeCoste 2005; Lin, Weng and Keerthi 2008). Rows carry the appended constant ``bias`` when an intercept
is fitted (:math:`\\tilde x_i`), as in :mod:`skpar.kernels._dcd`.

Each kernel is one pass over the block's rows and adds its result to ``out`` (the driver sums the blocks'). Rows
whose coefficient is 0 (outside the margin) are skipped: late in a fit most rows are. A row's dot products take
the dual kernels' four partial sums (a single one is a chain of dependent adds).
"""

import numpy as np
from numba import njit

from ._dot import row_dot_csr, row_dot_dense
from ._indices import ONE, row_span


@njit(nogil=True, cache=True)
def margins_dense(X, W, bias, out):
    """``out[k, i] = W[k] . x~_i`` for every output and row."""
    K = W.shape[0]
    d = X.shape[1]
    for i in range(X.shape[0]):
        for k in range(K):
            out[k, i] = (bias * W[k, d] if bias != 0.0 else 0.0) + row_dot_dense(X, i, W, k, d)


@njit(nogil=True, cache=True)
def margins_csr(data, indices, indptr, W, bias, out):
    """The CSR twin of :func:`margins_dense`. Several outputs read the weights feature-major (a copy of ``W``
    transposed), all of a non-zero's outputs at once: one pass over the row and one cache line of weights a
    non-zero, where a dot product per output reads the row K times and every output's line."""
    K, dw = W.shape
    d = dw - 1 if bias != 0.0 else dw
    n = indptr.shape[0] - 1
    if K == 1:
        for i in range(n):
            out[0, i] = (bias * W[0, d] if bias != 0.0 else 0.0) + row_dot_csr(data, indices, indptr[i],
                                                                           indptr[i + 1], W, 0)
        return
    WT = np.empty((d, K))
    for k in range(K):
        for j in range(d):
            WT[j, k] = W[k, j]
    acc = np.empty(K)
    for i in range(n):
        for k in range(K):
            acc[k] = bias * W[k, d] if bias != 0.0 else 0.0
        a, z = row_span(indptr, i)
        for r in range(a, z):
            j = indices[r]
            x = data[r]
            for k in range(K):
                acc[k] += x * WT[j, k]
        for k in range(K):
            out[k, i] = acc[k]


@njit(nogil=True, cache=True)
def transposed_product_dense(X, D, out):
    """``out[k] += sum_i D[k, i] x_i`` over dense rows (the loss term's gradient), rows outermost: a row is read
    once for every output, an output's zero derivatives are skipped, float32 rows are read as they are (BLAS's
    ``D @ X`` upcast them to a float64 copy first, and from several threads at once ran one call at a time:
    docs/benchmarks.md). For C-ordered rows: on column-major ones the row loop strides."""
    K = D.shape[0]
    d = X.shape[1]
    for i in range(X.shape[0]):
        for k in range(K):
            c = D[k, i]
            if c != 0.0:
                for j in range(d):
                    out[k, j] += c * X[i, j]


@njit(nogil=True, cache=True)
def transposed_product_csr(data, indices, indptr, D, out):
    """``out[k] += sum_i D[k, i] x_i`` over a CSR block (``X^T D^T``, the loss term's gradient from its
    derivatives ``D``), without the GIL; feature-major inside, as :func:`margins_csr`."""
    K = D.shape[0]
    d = out.shape[1]
    if K == 1:  # straight into the output's row: no scratch
        o = out[0]
        for i in range(indptr.shape[0] - 1):
            ci = D[0, i]
            if ci != 0.0:
                a, z = row_span(indptr, i)
                for r in range(a, z):
                    o[indices[r]] += ci * data[r]
        return
    OT = np.zeros((d, K))
    c = np.empty(K)  # the row's derivatives, read once from their K strided places
    for i in range(indptr.shape[0] - 1):
        for k in range(K):
            c[k] = D[k, i]
        a, z = row_span(indptr, i)
        for r in range(a, z):
            j = indices[r]
            x = data[r]
            for k in range(K):
                OT[j, k] += x * c[k]
    for k in range(K):
        for j in range(d):
            out[k, j] += OT[j, k]


@njit(inline="always", nogil=True, cache=True)
def _symmetrised(O, diag):
    """``O + O^T + diag(diag)``, in ``O``: :func:`gram_csr` sums each pair of a row's entries once."""
    n = O.shape[0]
    for a in range(n):
        O[a, a] = 2.0 * O[a, a] + diag[a]
        for b in range(a + 1, n):
            O[a, b] += O[b, a]
            O[b, a] = O[a, b]


@njit(nogil=True, cache=True)
def gram_csr(data, indices, indptr, coef, bias, out):
    """``out += sum_i coef[i] x~_i x~_i^T`` (one output's Hessian term, ``out`` of shape (d~, d~)).

    Each pair of a row's entries is summed once and the result made symmetric at the end: a row costs half the
    square of its non-zeros (any order of indices, repeated ones included: a pair lands wherever its two indices
    say, and the symmetrisation doubles it). Dense rows take BLAS instead (``parallel._newton``): the Hessian's
    parts are assembled only where rows are short, which for dense rows means a few features."""
    dw = out.shape[0]
    d = dw - 1 if bias != 0.0 else dw
    O = np.zeros((dw, dw))
    diag = np.zeros(dw)
    for i in range(indptr.shape[0] - 1):
        c = coef[i]
        if c == 0.0:
            continue
        a0, z = row_span(indptr, i)
        for ra in range(a0, z):
            ja = indices[ra]
            ca = c * data[ra]
            diag[ja] += ca * data[ra]
            for rb in range(ra + ONE, z):
                O[ja, indices[rb]] += ca * data[rb]
            if bias != 0.0:
                O[ja, d] += ca * bias
        if bias != 0.0:
            diag[d] += c * bias * bias
    _symmetrised(O, diag)
    out += O


@njit(nogil=True, cache=True)
def hess_vec_dense(X, coef, V, go, bias, out):
    """``out[k] += sum_i coef[k, i] (x~_i . V[k]) x~_i`` for the outputs ``k`` with ``go[k]``: every output's
    Hessian term times its vector, in one pass. The rows outermost: a row is read from memory once for all the
    outputs whose margin it is inside, not once an output."""
    K = coef.shape[0]
    d = X.shape[1]
    for i in range(X.shape[0]):
        for k in range(K):
            c = coef[k, i]
            if c == 0.0 or not go[k]:
                continue
            s = c * ((bias * V[k, d] if bias != 0.0 else 0.0) + row_dot_dense(X, i, V, k, d))
            for j in range(d):
                out[k, j] += s * X[i, j]
            if bias != 0.0:
                out[k, d] += s * bias


@njit(nogil=True, cache=True)
def hess_vec_csr(data, indices, indptr, coef, V, go, bias, out):
    """The CSR twin of :func:`hess_vec_dense`."""
    K, dw = out.shape
    d = dw - 1 if bias != 0.0 else dw
    for i in range(indptr.shape[0] - 1):
        a, z = row_span(indptr, i)
        for k in range(K):
            c = coef[k, i]
            if c == 0.0 or not go[k]:
                continue
            s = c * ((bias * V[k, d] if bias != 0.0 else 0.0) + row_dot_csr(data, indices, a, z, V, k))
            for r in range(a, z):
                out[k, indices[r]] += s * data[r]
            if bias != 0.0:
                out[k, d] += s * bias


@njit(nogil=True, cache=True)
def step_losses(loss, P, Z, T, Cst, steps, out):
    """``out[k, m] += sum_i c_ik l(P[k, i] + steps[m] Z[k, i], t_ik)``: the loss of every output at every trial
    step of a line search, in one pass over the margins. ``loss`` is a margin loss's compiled scalar function
    (:attr:`skpar._losses.Loss.kernel`: the squared hinge for the SVM, the log loss for logistic regression)."""
    K, n = P.shape
    for k in range(K):
        for i in range(n):
            c = Cst[k, i]
            if c == 0.0:
                continue
            for m in range(steps.shape[0]):
                out[k, m] += c * loss(P[k, i] + steps[m] * Z[k, i], T[k, i], 0.0)[0]


@njit(nogil=True, cache=True)
def logistic_terms(log_loss, P, T, Cst, dloss, coef, loss):
    """For the logistic loss (``log_loss``, its compiled scalar function) at margins ``P``: ``loss[k] += sum_i c_ik
    l(P_ik, t_ik)``, its derivative in ``P`` (``dloss``) and its second derivative (``coef``, the Hessian's row
    coefficients ``c q (1 - q)`` with ``q = 1 / (1 + exp(t P))``), in one pass."""
    K, n = P.shape
    for k in range(K):
        acc = 0.0
        for i in range(n):
            c = Cst[k, i]
            lv, g = log_loss(P[k, i], T[k, i], 0.0)
            q = -g * T[k, i]  # g = -t q
            acc += c * lv
            dloss[k, i] = c * g
            coef[k, i] = c * q * (1.0 - q)
        loss[k] += acc
