"""The primal Newton methods' block tasks on a GPU block's rows: the squared-hinge SVM's
(:mod:`skpar.parallel._newton`) and the logistic regression's (:mod:`skpar.parallel._logistic`).

The rounds, their arguments and their results are the host tasks' (NumPy in, NumPy out, the same sums), so
:func:`~skpar.parallel._newton.primal_newton` and :func:`~skpar.parallel._logistic.logistic_newton` drive a GPU
block unchanged. On the device every pass over the rows is a cuBLAS (dense rows) or cuSPARSE (CSR rows) product
over a chunk of them widened to float64 (:data:`ROW_VALUES` values at a time), so float32 rows give float64 margins
and sums, as the host kernels do; the
margins, costs and row coefficients stay in GPU memory between the rounds of an iteration. A block's parts of the
Hessian,

.. math::

    H_k^{(b)} = \\sum_{i \\in b} h_{ik} \\, \\tilde x_i \\tilde x_i^\\top, \\qquad
    h_{ik} = 2 c_{ik} [r_{ik} > 0] \\;\\text{(squared hinge)}, \\quad
    h_{ik} = c_{ik} q_{ik} (1 - q_{ik}) \\;\\text{(log loss)},

are one GEMM a chunk on the device, so the driver assembles the Newton system wherever it has at most
:data:`~skpar.parallel._newton.MAX_GRAM_WEIGHTS` weights (no conjugate gradients' passes).
"""

from __future__ import annotations

import numpy as np

from .._device import cupy_module, is_sparse_gpu

#: dense values widened to float64 at a time (512 MB), as the GPU's normal equations
#: (:data:`skpar.parallel._normal_equations.DEVICE_SCATTER_VALUES`) take them
ROW_VALUES = 1 << 26
#: the largest share of the device's free memory that a block's float64 copy of its CSR rows may keep
WIDE_SHARE = 0.125


def _chunks(block):
    """``(start, rows as float64)`` over the block's rows, a chunk of about :data:`ROW_VALUES` stored values at a
    time (CSR rows stay CSR)."""
    cp = cupy_module()
    X = block.X
    n, d = X.shape
    per_row = X.nnz / max(n, 1) if block.is_sparse else d
    step = max(1, min(n, int(ROW_VALUES // max(per_row, 1))))
    if step >= n and block.is_sparse:
        yield 0, _wide_rows(block)
        return
    for a in range(0, n, step):
        Xc = X if step >= n else X[a:a + step]  # one chunk: no slice (a CSR slice is a copy)
        if block.is_sparse:
            yield a, Xc if Xc.dtype == cp.float64 else Xc.astype(cp.float64)
        else:
            yield a, Xc.astype(cp.float64, copy=False)


def _wide_rows(block):
    """The block's CSR rows as float64 (float32 rows widened), kept on the block for the fit's next passes with
    their transpose (a CSR matrix of the columns, :func:`_columns_of`) where the copies take at most
    :data:`WIDE_SHARE` of the device's free memory; else made anew at each pass, as dense chunks are. Each
    conjugate gradients step makes two passes; on one H100 (500,000 float32 rows of 30 values) the widening cost
    0.18 ms a pass, and the product with the stored columns 0.21 ms against 0.33 ms for cuSPARSE's transposed
    product, whose sums are added in an order that changes from run to run (atomics), where the stored columns'
    are fixed."""
    cp = cupy_module()
    cached = getattr(block, "newton_wide", None)
    if cached is not None:
        return cached
    X = block.X
    wide = X if X.dtype == cp.float64 else X.astype(cp.float64)
    copies = 1 if wide is X else 2
    if copies * (X.nnz * 12 + max(X.shape) * 4) <= WIDE_SHARE * cp.cuda.Device().mem_info[0]:
        block.newton_wide, block.newton_columns = wide, wide.T.tocsr()
    return wide


def _columns_of(block, Xc):
    """The stored transpose of the chunk ``Xc`` where it is the block's kept float64 rows, else None."""
    return getattr(block, "newton_columns", None) if Xc is getattr(block, "newton_wide", None) else None


def _times_rows(M, Xc):
    """``M Xc^T`` for a (K, d) device ``M`` and a chunk of rows: (K, m). Sparse rows take cuSPARSE's product of
    the CSR chunk with ``M^T``."""
    if is_sparse_gpu(Xc):
        return (Xc @ cupy_module().ascontiguousarray(M.T)).T
    return M @ Xc.T


def _rows_weighted(V, Xc, columns=None):
    """``V Xc`` for a (K, m) device ``V`` and a chunk of rows: (K, d); ``columns``, the chunk's transpose as CSR
    where one is kept (:func:`_wide_rows`)."""
    if columns is not None:
        return (columns @ cupy_module().ascontiguousarray(V.T)).T
    if is_sparse_gpu(Xc):
        return (Xc.T @ cupy_module().ascontiguousarray(V.T)).T
    return V @ Xc


def _row_sums(A):
    """Each row's sum of the (K, m) device array ``A``, as a product (cuBLAS) rather than a CuPy reduction."""
    cp = cupy_module()
    return A @ cp.ones(A.shape[1])


def _margins(block, W, bias):
    """``(K, n)`` device margins ``W[:, :d] x_i + bias W[:, d]``."""
    cp = cupy_module()
    d = block.X.shape[1]
    Wd = cp.asarray(W[:, :d], dtype=cp.float64)
    P = cp.empty((W.shape[0], block.n_rows))
    for a, Xc in _chunks(block):
        P[:, a:a + Xc.shape[0]] = _times_rows(Wd, Xc)
    if bias != 0.0:
        P += bias * cp.asarray(W[:, d:], dtype=cp.float64)
    return P


def _transposed(block, V, bias, out):
    """``out[:, :d] += V X``, ``out[:, d] += bias * sum(V)`` for a (K, n) device ``V``; ``out`` on the host or on
    the device."""
    cp = cupy_module()
    d = block.X.shape[1]
    acc = cp.zeros((V.shape[0], d))
    for a, Xc in _chunks(block):
        acc += _rows_weighted(V[:, a:a + Xc.shape[0]], Xc, _columns_of(block, Xc))
    here = cp.asnumpy if isinstance(out, np.ndarray) else (lambda x: x)
    out[:, :d] += here(acc)
    if bias != 0.0:
        out[:, d] += bias * here(_row_sums(V))


def _state(block, K, C, pos_weight, neg_weight):
    """The block's device targets ``T`` (+-1) and costs, made on first use (see the host ``_targets_and_costs``)."""
    cp = cupy_module()
    st = getattr(block, "newton", None)
    if st is None:
        y = block.y
        classes = cp.asarray([1.0]) if K == 1 else cp.arange(K, dtype=cp.float64)
        T = cp.where(y[None, :] == classes[:, None], 1.0, -1.0)
        Cst = C * block.sample_weight[None, :] * cp.where(
            T > 0, cp.asarray(pos_weight, dtype=cp.float64)[:, None], cp.asarray(neg_weight, dtype=cp.float64)[:, None])
        st = block.newton = {"T": T, "C": cp.maximum(Cst, 0.0), "token": None, "P": None, "Z": None}
    return st


def _hessian_parts(block, coef, bias, live, dw):
    """``(K, dw, dw)`` host parts ``sum_i coef[k, i] x~_i x~_i^T`` of the live outputs, a GEMM a chunk."""
    cp = cupy_module()
    K, d = coef.shape[0], block.X.shape[1]
    parts = np.zeros((K, dw, dw))
    outputs = np.flatnonzero(live)
    H = cp.zeros((outputs.size, d, d))
    for a, Xc in _chunks(block):  # the chunks outermost: each is widened once for every output
        for i, k in enumerate(outputs):
            H[i] += _gram(Xc, coef[k, a:a + Xc.shape[0]])
    parts[outputs, :d, :d] = cp.asnumpy(H)
    if bias != 0.0:  # the intercept's row and column: bias * sum_i c_i x_i, and bias^2 * sum_i c_i
        cross = np.zeros((K, dw))
        _transposed(block, coef, bias, cross)
        for k in np.flatnonzero(live):
            parts[k, :d, d] = parts[k, d, :d] = bias * cross[k, :d]
            parts[k, d, d] = bias * cross[k, d]
    return parts


def _gram(Xc, c):
    """``Xc^T diag(c) Xc`` (d, d) on the device; CSR rows through cuSPARSE's sparse product, made dense."""
    if is_sparse_gpu(Xc):
        import cupyx.scipy.sparse as cpsp

        return (Xc.T @ (cpsp.diags(c) @ Xc)).toarray()
    return Xc.T @ (c[:, None] * Xc)


def _hessian_diagonal(block, coef, bias, dw):
    """``(K, dw)`` host diagonals ``sum_i coef[k, i] x~_i^2`` (conjugate gradients' preconditioner)."""
    cp = cupy_module()
    K, d = coef.shape[0], block.X.shape[1]
    diag = np.zeros((K, dw))
    acc = cp.zeros((K, d))
    for a, Xc in _chunks(block):
        columns = _columns_of(block, Xc)
        if columns is not None:  # the kept columns' squares: the same sums at every run (see _wide_rows)
            acc += _rows_weighted(coef[:, a:a + Xc.shape[0]], None, columns.multiply(columns))
        else:
            acc += _rows_weighted(coef[:, a:a + Xc.shape[0]], Xc.multiply(Xc) if is_sparse_gpu(Xc) else Xc * Xc)
    diag[:, :d] = cp.asnumpy(acc)
    if bias != 0.0:
        diag[:, d] = bias * bias * cp.asnumpy(_row_sums(coef))
    return diag


def _state_margins(block, W, step, prev, C, pos_weight, neg_weight, bias):
    """The block's device state and the margins at ``W`` (see the host ``block_margins``)."""
    cp = cupy_module()
    st = _state(block, W.shape[0], C, pos_weight, neg_weight)
    if st["token"] == prev and st["Z"] is not None and step is not None:
        return st, st["P"] + cp.asarray(step, dtype=cp.float64)[:, None] * st["Z"]
    return st, _margins(block, W, bias)


def newton_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram, live):
    """:func:`skpar.parallel._newton.newton_state_task` on a GPU block: the loss, the dual terms and the share of
    ``w(alpha)`` per output, and the Hessian parts of the live outputs (``gram``) or their diagonals."""
    cp = cupy_module()
    dw = W.shape[1]
    st, P = _state_margins(block, W, step, prev, C, pos_weight, neg_weight, bias)
    T, Cst = st["T"], st["C"]
    R = cp.maximum(1.0 - T * P, 0.0)
    cr = Cst * R
    alpha = 2.0 * cr
    loss = _row_sums(cr * R)
    dual_terms = _row_sums(alpha) - loss
    share = np.zeros(W.shape)
    _transposed(block, alpha * T, bias, share)
    coef = cp.where(R > 0.0, 2.0 * Cst, 0.0)
    if gram:
        parts = _hessian_parts(block, coef, bias, live, dw)
    else:
        if "diagonal" not in st:  # once a fit, as on the host: the first iteration's Hessian diagonal
            st["diagonal"] = _hessian_diagonal(block, coef, bias, dw)
        parts = st["diagonal"]
    st.update(token=token, P=P, Z=None, coef=coef)
    block.alpha = alpha
    block.persist("newton", "alpha")
    return cp.asnumpy(loss), cp.asnumpy(dual_terms), share, parts


def newton_hess_vec_task(block, V, bias):
    """:func:`skpar.parallel._newton.newton_hess_vec_task` on a GPU block: ``sum_i coef_ik (x~_i . v_k) x~_i``,
    on the device where ``V`` is (conjugate gradients on the device, ``_newton._solve_arrays``), else on the
    host."""
    cp = cupy_module()
    coef = block.newton["coef"]
    d = block.X.shape[1]
    Vd = cp.asarray(V[:, :d], dtype=cp.float64)
    out = np.zeros(V.shape) if isinstance(V, np.ndarray) else cp.zeros(V.shape)
    U = cp.empty(coef.shape)
    for a, Xc in _chunks(block):
        U[:, a:a + Xc.shape[0]] = _times_rows(Vd, Xc)
    if bias != 0.0:
        U += bias * cp.asarray(V[:, d:], dtype=cp.float64)
    _transposed(block, coef * U, bias, out)
    return out


def newton_line_task(block, S, steps, bias):
    """:func:`skpar.parallel._newton.newton_line_task` on a GPU block: every output's squared-hinge loss at each
    trial step ``W + steps[m] S``; keeps the margins of ``S``."""
    st = block.newton
    Z = _margins(block, S, bias)
    st["Z"] = Z
    out = np.zeros((S.shape[0], steps.shape[0]))
    for m, t in enumerate(steps):
        R = cupy_module().maximum(1.0 - st["T"] * (st["P"] + float(t) * Z), 0.0)
        out[:, m] = cupy_module().asnumpy(_row_sums(st["C"] * R * R))
    return out


def _logistic_terms(block, st, P, bias, shape):
    """At the device margins ``P``: each output's log loss (device), the loss term's gradient (host, ``shape``) and
    the Hessian's row coefficients (device)."""
    cp = cupy_module()
    T, Cst = st["T"], st["C"]
    z = T * P
    q = 0.5 * (1.0 - cp.tanh(0.5 * z))  # 1 / (1 + exp(z)) without overflow
    loss = _row_sums(Cst * cp.logaddexp(0.0, -z))
    grad = np.zeros(shape)
    _transposed(block, -Cst * T * q, bias, grad)
    return loss, grad, Cst * q * (1.0 - q)


def logistic_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram, live):
    """:func:`skpar.parallel._logistic.logistic_state_task` on a GPU block: per output the log loss, the gradient
    of the loss term and the Hessian's parts (``gram`` True), the first iteration's diagonal (False) or 0 (None)."""
    cp = cupy_module()
    dw = W.shape[1]
    st, P = _state_margins(block, W, step, prev, C, pos_weight, neg_weight, bias)
    loss, grad, coef = _logistic_terms(block, st, P, bias, W.shape)
    if gram is None:
        parts = 0.0
    elif gram:
        parts = _hessian_parts(block, coef, bias, live, dw)
    else:
        if "diagonal" not in st:
            st["diagonal"] = _hessian_diagonal(block, coef, bias, dw)
        parts = st["diagonal"]
    st.update(token=token, P=P, Z=None, coef=coef)
    block.persist("newton")
    return cp.asnumpy(loss), grad, parts


def logistic_line_task(block, S, steps, bias):
    """:func:`skpar.parallel._logistic.logistic_line_task` on a GPU block: every output's log loss at each trial
    step; the margins of ``S`` are computed on the iteration's first call and kept."""
    cp = cupy_module()
    st = block.newton
    if st["Z"] is None:
        st["Z"] = _margins(block, S, bias)
    out = np.zeros((S.shape[0], steps.shape[0]))
    for m, t in enumerate(steps):
        out[:, m] = cp.asnumpy(_row_sums(st["C"] * cp.logaddexp(0.0, -st["T"] * (st["P"] + float(t) * st["Z"]))))
    return out


def logistic_trial_task(block, W, S, steps, it, adopt, bias):
    """:func:`skpar.parallel._logistic.logistic_trial_task` on a GPU block: at ``W + steps[k] S[k]``, each output's
    log loss and the loss term's gradient; the margins and the row coefficients stay on the device."""
    from ._logistic import _adopt  # the host tasks' bookkeeping (that module imports this one)

    cp = cupy_module()
    st = block.newton
    if st.get("trial") != it:
        if not _adopt(st, it, adopt):
            st.update(P=_margins(block, W, bias), token=it)
        st["Z"] = _margins(block, S, bias)
    P = st["P"] + cp.asarray(steps, dtype=cp.float64)[:, None] * st["Z"]
    loss, grad, coef = _logistic_terms(block, st, P, bias, W.shape)
    st.update(trial=it, trial_P=P, trial_coef=coef)
    block.persist("newton")
    return cp.asnumpy(loss), grad


def logistic_hessian_task(block, it, adopt, bias, live):
    """:func:`skpar.parallel._logistic.logistic_hessian_task` on a GPU block: a GEMM a chunk."""
    from ._logistic import _adopt

    st = block.newton
    if not _adopt(st, it, adopt):
        raise RuntimeError("the block lost the Newton iteration's margins")
    return _hessian_parts(block, st["coef"], bias, live, block.X.shape[1] + (bias != 0.0))
