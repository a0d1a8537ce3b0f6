"""The tasks of dual coordinate ascent on a block (CoCoA+ rounds and PASSCoDe passes), and of its dual state.

A block holds its rows' dual variables (``alpha``) and a round's change of them (``pending``), committed at the
start of the next round once the driver has taken the matching change of ``w`` (see :mod:`skpar.parallel._cocoa`).
"""

from __future__ import annotations

import numpy as np

from .._device import array_module, to_host
from ..kernels import (
    certificate_csr,
    certificate_csr_outputs,
    certificate_dense,
    certificate_dense_outputs,
    dcd_csr,
    dcd_csr_outputs,
    dcd_dense,
    dcd_dense_outputs,
    row_sq_norms,
    sparse_arrays,
    w_of_alpha_csr,
    w_of_alpha_dense,
)
from ..kernels._dcd_cuda import dcd_gpu, w_of_alpha_gpu
from ._newton import _targets_and_costs
from ._tasks import gpu_variant


def _zeros(block, shape):
    """Dual variables where the block's rows are (GPU memory for a GPU block)."""
    return array_module(block.X).zeros(shape)


def _state(block):
    """The block's dual state travels with it (``alpha``, and ``pending``, a round's change not yet committed)."""
    block.persist("alpha", "pending")


def _committed(block, theta):
    """The block's dual variables with its pending change taken ``theta`` times (``theta`` by output)."""
    pending = getattr(block, "pending", None)
    if pending is None:
        return block.alpha
    return block.alpha + array_module(block.X).asarray(theta)[:, None] * pending


def step_terms(block, A, dA, C, dual, pos_weight, neg_weight):
    r"""What the separable part of each output's dual objective does along the block's change ``dA`` of its dual
    variables ``A``: at ``A + theta dA`` it changes by ``theta L_k - theta^2 Q_k / 2``, with
    :math:`L_k = \sum_i dA_{ik} (1 - D_{ik} A_{ik})` and :math:`Q_k = \sum_i D_{ik} dA_{ik}^2`, and ``theta`` may go
    up to ``top_k``, the largest step that keeps every variable in its box (at least 1: ``A + dA`` is in it).
    Returns the (3, K) host array ``[L, Q, top]``; on the array module of the block's rows (GPU blocks too)."""
    xp = array_module(block.X)
    K = A.shape[0]
    DC, bounded = dual
    y, sw = xp.asarray(block.y), xp.asarray(block.sample_weight)
    out = np.empty((3, K))
    for k in range(K):
        positive = y == (1.0 if K == 1 else float(k))
        Ci = C * sw * xp.where(positive, float(pos_weight[k]), float(neg_weight[k]))
        D = xp.where(Ci > 0, DC / xp.where(Ci > 0, Ci, 1.0), 0.0)
        a, d = A[k], dA[k]
        out[0, k] = float((d * (1.0 - D * a)).sum())
        out[1, k] = float((D * d * d).sum())
        # the box [0, U]: U = C_i for the hinge, none for the squared hinge
        room = xp.where(d < 0, a / xp.where(d < 0, -d, 1.0), np.inf)
        if bounded:
            room = xp.minimum(room, xp.where(d > 0, (Ci - a) / xp.where(d > 0, d, 1.0), np.inf))
        out[2, k] = float(room.min()) if room.shape[0] else np.inf
    return out


def dcd_task(block, W0, C, loss, pos_weight, neg_weight, bias, sigma, theta, n_epochs, seed, rnd=0,
             line_search=False):
    """Commit ``theta`` (by output) times the block's pending change, then run ``n_epochs`` local epochs; returns
    ``(dW, primal, dual, terms)``.

    ``W0`` is the round's starting point (``w(alpha)``, or Catalyst's proximal iterate): the certificate's primal
    sums are taken there and the local steps start from it, moving it by ``sigma`` times each step. ``dW`` is the
    block's change of ``w(alpha)``, kept pending with the change of the dual variables until the driver says
    which share ``theta`` of it the next round commits. With ``line_search``, ``terms`` is what the dual objective
    does along that change (:func:`step_terms`), from which the driver chooses the share; else ``None``.
    """
    _state(block)
    if getattr(block, "pending", None) is not None:
        block.alpha, block.pending = _committed(block, theta), None
    K = W0.shape[0]
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = _zeros(block, (K, block.n_rows))
    Wl, A = np.array(W0, order="F"), block.alpha.copy()  # Fortran order: see _dcd
    ps, ds = _dcd(block, W0, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd)
    block.pending = A - block.alpha
    terms = step_terms(block, block.alpha, block.pending, C, loss.dual, pos_weight, neg_weight) if line_search else None
    return (Wl - W0) / sigma, ps, ds, terms


def _dcd_on_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd=0, shrink=None):
    # TPA-SCD passes on the device (skpar.kernels._dcd_cuda): no shrinking, one seed a round
    return dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs,
                   (seed + 7919 * rnd) % (1 << 31))


@gpu_variant(_dcd_on_gpu)
def _dcd(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd=0, shrink=None):
    """``n_epochs`` passes of the kernel on the block's rows in orders drawn from ``seed``, the round ``rnd`` and the
    pass; ``Wl`` and ``A`` change in place. Returns the certificate's sums of the first pass, or ``(0, 0)`` with
    ``shrink``.

    ``shrink``: a :class:`Shrinking` state kept from call to call (PASSCoDe rounds, whose certificates are taken
    apart, by :func:`certificate_task`): the passes shrink from the first, and no pass certifies. Without it every
    call starts with every variable active, and its first pass certifies.

    Every pass draws a fresh order. One fixed order (commit d53a852) took fewer passes on the sparse benchmark (21
    against 45 under Catalyst) but stalled on dense data with n >> d (20,000 x 30, C = 0.05: a gap of 2.3e-2 after
    3,000 passes,
    where fresh orders reach 1e-3; long PASSCoDe rounds in one order stalled the same way), and on GPUs (4.8e-3
    after 3,000 passes): fresh orders are the robust choice. On the CPU a pass is one kernel call; the shrinking
    state goes from call to call.

    Several outputs (one-vs-rest) run in one kernel call that visits each row once for all of them
    (:mod:`skpar.kernels._dcd_outputs`, ``Wl`` in Fortran order): on 20 Newsgroups a pass of the 20 outputs costs
    31 ms where 20 passes of one output cost 60-76 ms. Splitting the outputs over two threads, each reading every
    row for its half, gained nothing on 2 cores (30 ms), and lost where the threads' halves shared cache lines, so
    a block's passes run on one thread.
    """
    sqn = _row_sq_norms(block)
    K = W.shape[0]
    if shrink is not None:
        active, thresholds = shrink.arrays(A.shape)
    else:
        active = np.ones(A.shape if n_epochs > 1 else (0, 0), dtype=np.bool_)
        thresholds = np.tile([np.inf, -np.inf], (K, 1))
    certify = shrink is None
    # the kernel of several outputs reads a feature's outputs together: the drivers make the working w Fortran-
    # ordered; it reads W only where it certifies, else W's place takes Wl (one compiled layout for both)
    if K > 1:
        W = np.asfortranarray(W) if certify else Wl
    sums = (0.0, 0.0)
    for epoch in range(n_epochs):
        order = block.permutation((seed + 7919 * rnd + 104729 * epoch) % (1 << 31))
        first = certify and epoch == 0
        if K == 1:
            args = (sqn, block.y, block.sample_weight, order, W, Wl, A, C, loss.kernel, loss.dual, pos_weight,
                    neg_weight, bias, sigma, first, active, thresholds[0])
            out = dcd_csr(*sparse_arrays(block.X), *args) if block.is_sparse else dcd_dense(block.X, *args)
        else:
            args = (sqn, block.y, block.sample_weight, order, W, Wl, A, C, loss.kernel, loss.dual, pos_weight,
                    neg_weight, bias, sigma, first, active, thresholds)
            out = dcd_csr_outputs(*sparse_arrays(block.X), *args) if block.is_sparse else dcd_dense_outputs(
                block.X, *args)
        if shrink is not None:
            for k in range(K):
                shrink.after_pass(active[k], thresholds[k])
        if first:
            sums = out
    return sums


class Shrinking:
    """liblinear's shrinking kept across the calls of a solve (Hsieh et al. 2008, section 3.2, and liblinear's
    ``solve_l2r_l1l2_svc``): which dual variables are still visited, and by output the thresholds
    ``[max_old, min_old, max, min, target]``: the previous pass's largest violations as the kernel uses them, the
    last pass's as they are, and the spread of violations at which the shrunk problem counts as solved.

    When a pass's spread ``max - min`` falls to the target, every variable is visited again (a variable shrunk
    by mistake comes back) and the target falls tenfold, as liblinear visits everything again once the shrunk
    problem meets its tolerance. The first target is a tenth of the first pass's spread: liblinear's is its
    ``eps``, but here the stop is the duality gap, taken apart."""

    #: the target's fall at each return to every variable
    FACTOR = 0.1

    def __init__(self):
        self.active, self.thresholds = None, None

    def arrays(self, shape):
        """The flags (``shape``: outputs x rows) and one row of thresholds per output, made on first use."""
        if self.active is None or self.active.shape != shape:
            self.active = np.ones(shape, dtype=np.bool_)
            self.thresholds = np.tile([np.inf, -np.inf, np.inf, -np.inf, np.nan], (shape[0], 1))
        return self.active, self.thresholds

    def after_pass(self, active, th):
        """Judge the pass that left ``th`` (one output's thresholds) on that output's flags ``active``."""
        spread = th[2] - th[3]
        if np.isnan(th[4]):
            th[4] = self.FACTOR * spread
        elif spread <= th[4]:
            th[4] *= self.FACTOR
            if not active.all():
                active[...] = True
                th[0], th[1] = np.inf, -np.inf


def _row_sq_norms(block):
    """Squared norms of the block's rows, computed on first use and kept on the block (not sent with it)."""
    sqn = getattr(block, "row_sq_norms", None)
    if sqn is None:
        rows = np.arange(block.n_rows)
        sqn = row_sq_norms(block.kernel_X, rows)
        block.row_sq_norms = sqn
    return sqn


def _alpha(block, K):
    """The block's dual variables for ``K`` outputs (zeros at first)."""
    _state(block)
    if getattr(block, "alpha", None) is None or block.alpha.shape != (K, block.n_rows):
        block.alpha = np.zeros((K, block.n_rows))
    return block.alpha


def passcode_task(block, W, W_shared, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd):
    """PASSCoDe-Wild (Hsieh et al. 2015): epochs on the block's dual variables that write the shared ``w`` of the
    process without locks, ``sigma`` times each step (``1 / (1 + kappa)`` under Catalyst), shrinking as the
    rounds before left it (:class:`Shrinking`)."""
    shrink = block.__dict__.setdefault("shrinking", Shrinking())
    _dcd(block, W, W_shared, _alpha(block, W.shape[0]), C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed,
         rnd, shrink)


def certificate_task(block, W, C, loss, pos_weight, neg_weight, bias):
    """The block's primal and dual sums at ``(W, alpha)``, read only (see :func:`~skpar.kernels.certificate_csr`;
    sparse rows of several outputs are read once for all of them).

    At the start (``W = 0`` and every ``alpha = 0``) every margin is 0: the sums come from the rows' costs alone,
    without a pass over the data (on 20 Newsgroups a pass of 20 outputs costs 36 ms)."""
    K = W.shape[0]
    A = _alpha(block, K)
    if not W.any() and not A.any():
        T, costs = _targets_and_costs(block, K, C, pos_weight, neg_weight)
        at_zero = np.where(T > 0, loss.kernel(0.0, 1.0, 0.0)[0], loss.kernel(0.0, -1.0, 0.0)[0])
        return float((costs * at_zero).sum()), 0.0
    if K > 1:  # each row read once for every output (a feature's outputs adjacent in W)
        W = np.asfortranarray(W)
    args = (block.y, block.sample_weight, W, A, C, loss.kernel, loss.dual, pos_weight, neg_weight, bias)
    if block.is_sparse:
        return (certificate_csr_outputs if K > 1 else certificate_csr)(*sparse_arrays(block.X), *args)
    return (certificate_dense_outputs if K > 1 else certificate_dense)(block.X, *args)


def column_stats_task(block, bias):
    """What kappa's cap reads of the block's rows (:func:`skpar.parallel._cocoa.kappa_cap`): ``(n, sum_i ||x~_i||^2,
    column sums, column sums of squares)``, the last two host float64 arrays (``x~ = [x, bias]``)."""
    X = block.X
    xp = array_module(X)
    n = int(X.shape[0])
    if hasattr(X, "multiply"):  # CSR rows (SciPy or CuPy)
        squares = X.multiply(X)
        col = to_host(xp.asarray(X.sum(axis=0, dtype=np.float64))).ravel()
        col2 = to_host(xp.asarray(squares.sum(axis=0, dtype=np.float64))).ravel()
    else:
        col = to_host(X.sum(axis=0, dtype=np.float64))
        col2 = np.einsum("ij,ij->j", X, X, dtype=np.float64) if xp is np else to_host(
            (X.astype(xp.float64) ** 2).sum(axis=0))
    return n, float(col2.sum()) + n * bias * bias, np.asarray(col, dtype=np.float64), np.asarray(col2, np.float64)


@gpu_variant(w_of_alpha_gpu)
def w_of_alpha_task(block, shape, bias):
    """``sum_i alpha_ik t_ik x~_i`` over the block: its exact share of ``w(alpha)``."""
    out = np.zeros(shape)
    X = block.X
    if block.is_sparse:
        w_of_alpha_csr(*sparse_arrays(X), block.y, block.alpha, bias, out)
    else:
        w_of_alpha_dense(X, block.y, block.alpha, bias, out)
    return out


def discard_task(block):
    """Discard the block's pending change of its dual variables."""
    block.pending = None


def checkpoint_task(block, theta):
    """The block's dual variables with ``theta`` times its pending change committed (a copy on the host; the block
    is unchanged).

    Committing computes it exactly as the next round's :func:`dcd_task` will, so a block set back to this
    checkpoint continues with the same bits."""
    if getattr(block, "alpha", None) is None:
        return None
    return to_host(_committed(block, theta))


def set_alpha_task(block, alpha):
    """Set the block's dual variables to a checkpoint (``None``: not started), nothing pending."""
    _state(block)
    block.alpha = None if alpha is None else array_module(block.X).asarray(alpha)
    block.pending = None


def alpha_task(block):
    """The block's index, which rows of the data it holds (``None``: a chunk, in the chunks' order) and its dual
    variables (for ``dual_coef_``)."""
    return block.index, getattr(block, "rows", None), to_host(block.alpha)
