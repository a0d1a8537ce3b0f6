"""The tasks of dual coordinate ascent on a block (CoCoA+ rounds and PASSCoDe passes), and of its dual state.

A block holds its rows' dual variables (``alpha``) and a round's change of them (``pending``), committed at the
start of the next round once the driver has taken the matching change of ``w`` (see :mod:`skpar.parallel._cocoa`).
"""

from __future__ import annotations

import itertools

import numpy as np

from .._device import array_module, to_host
from ..kernels import (
    certificate_csr,
    certificate_dense,
    dcd_csr,
    dcd_dense,
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
    Wl, A = W0.copy(), block.alpha.copy()
    ps, ds = _dcd(block, W0, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd)
    block.pending = A - block.alpha
    terms = step_terms(block, block.alpha, block.pending, C, loss.dual, pos_weight, neg_weight) if line_search else None
    return (Wl - W0) / sigma, ps, ds, terms


def _dcd_on_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd=0, pool=None,
                shrink=None):
    # TPA-SCD passes on the device (skpar.kernels._dcd_cuda): no shrinking, one seed a round
    return dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs,
                   (seed + 7919 * rnd) % (1 << 31))


@gpu_variant(_dcd_on_gpu)
def _dcd(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd=0, pool=None,
         shrink=None):
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

    Several outputs (one-vs-rest) on a block with work enough (:data:`SPLIT_OUTPUTS_WORK`) are passed one output a
    kernel call, each with its own shrinking thresholds: the outputs' dual problems are independent, so they can
    run on the threads of ``pool`` (a thread backend) at once, and the steps are the same whichever thread takes an
    output and whether there is a pool at all.
    """
    sqn = _row_sq_norms(block)
    K = W.shape[0]
    split = split_outputs(block.X, block.is_sparse, K)
    groups = [range(k, k + 1) for k in range(K)] if split else [range(K)]
    if shrink is not None:
        active, thresholds = shrink.arrays(A.shape, len(groups))
    else:
        active = np.ones(A.shape if n_epochs > 1 else (0, 0), dtype=np.bool_)
        thresholds = [np.array([np.inf, -np.inf]) for _ in groups]
    certify = shrink is None
    sums = (0.0, 0.0)
    for epoch in range(n_epochs):
        order = block.permutation((seed + 7919 * rnd + 104729 * epoch) % (1 << 31))

        def run(g, order=order, epoch=epoch):
            ks = slice(groups[g].start, groups[g].stop)
            y = _output_targets(block, ks.start) if split else block.y
            kernel_args = (sqn, y, block.sample_weight, order, W[ks], Wl[ks], A[ks], C, loss.kernel, loss.dual,
                           pos_weight[ks], neg_weight[ks], bias, sigma, certify and epoch == 0,
                           active[ks] if active.shape[0] else active, thresholds[g])
            out = dcd_csr(*sparse_arrays(block.X), *kernel_args) if block.is_sparse else dcd_dense(block.X,
                                                                                                    *kernel_args)
            if shrink is not None:
                shrink.after_pass(active[ks], thresholds[g])
            return out

        per_group = _map_groups(run, len(groups), pool)
        if certify and epoch == 0:
            sums = (sum(p for p, _ in per_group), sum(d for _, d in per_group))
    return sums


class Shrinking:
    """liblinear's shrinking kept across the calls of a solve (Hsieh et al. 2008, section 3.2, and liblinear's
    ``solve_l2r_l1l2_svc``): which dual variables are still visited, and by output group the thresholds
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

    def arrays(self, shape, n_groups):
        """The flags (``shape``: outputs x rows) and one row of thresholds per output group, made on first use."""
        if self.active is None or self.active.shape != shape or len(self.thresholds) != n_groups:
            self.active = np.ones(shape, dtype=np.bool_)
            self.thresholds = [np.array([np.inf, -np.inf, np.inf, -np.inf, np.nan]) for _ in range(n_groups)]
        return self.active, self.thresholds

    def after_pass(self, active, th):
        """Judge the pass that left ``th`` (one group's thresholds) on the flags ``active`` of that group."""
        spread = th[2] - th[3]
        if np.isnan(th[4]):
            th[4] = self.FACTOR * spread
        elif spread <= th[4]:
            th[4] *= self.FACTOR
            if not active.all():
                active[...] = True
                th[0], th[1] = np.inf, -np.inf


#: below this many stored values times outputs a pass runs all its outputs in one kernel call
SPLIT_OUTPUTS_WORK = 4_000_000


def split_outputs(X, sparse, n_outputs):
    """Whether a block of rows ``X`` passes its ``n_outputs`` one a kernel call (see :func:`_dcd`)."""
    return n_outputs > 1 and (X.nnz if sparse else X.shape[0] * X.shape[1]) * n_outputs >= SPLIT_OUTPUTS_WORK


def _output_targets(block, k):
    """Targets that make one-vs-rest output ``k`` the kernel's one output: 1 for class ``k``, else 0 (memoised)."""
    memo = block.__dict__.setdefault("output_targets", {})
    if k not in memo:
        memo[k] = (np.asarray(block.y) == k).astype(np.float64)
    return memo[k]


def _map_groups(run, n_groups, pool):
    """``[run(g) for g in range(n_groups)]``, the groups taken one by one, as each thread comes free, by this thread
    and the other threads of the thread backend ``pool``: outputs that take longer do not hold up a thread's share."""
    n_threads = 1 if pool is None else min(pool.n_workers, n_groups)
    out = [None] * n_groups
    taken = itertools.count()  # next() is atomic under the GIL: every group goes to exactly one thread

    def work():
        for g in iter(taken.__next__, None):
            if g >= n_groups:
                return
            out[g] = run(g)

    futures = [pool.submit(work) for _ in range(n_threads - 1)]
    work()
    for f in futures:
        f.result()
    return out


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


def passcode_task(block, W, W_shared, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed, rnd, pool=None):
    """PASSCoDe-Wild (Hsieh et al. 2015): epochs on the block's dual variables that write the shared ``w`` of the
    process without locks, ``sigma`` times each step (``1 / (1 + kappa)`` under Catalyst), shrinking as the
    rounds before left it (:class:`Shrinking`). ``pool``: threads for the block's outputs (see :func:`_dcd`)."""
    shrink = block.__dict__.setdefault("shrinking", Shrinking())
    _dcd(block, W, W_shared, _alpha(block, W.shape[0]), C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed,
         rnd, pool, shrink)


def certificate_task(block, W, C, loss, pos_weight, neg_weight, bias, pool=None):
    """The block's primal and dual sums at ``(W, alpha)``, read only (see :func:`~skpar.kernels.certificate_csr`);
    ``pool`` takes output groups as in :func:`_dcd`.

    At the start (``W = 0`` and every ``alpha = 0``) every margin is 0: the sums come from the rows' costs alone,
    without a pass over the data (on 20 Newsgroups a pass of 20 outputs costs 36 ms)."""
    K = W.shape[0]
    A = _alpha(block, K)
    if not W.any() and not A.any():
        T, costs = _targets_and_costs(block, K, C, pos_weight, neg_weight)
        at_zero = np.where(T > 0, loss.kernel(0.0, 1.0, 0.0)[0], loss.kernel(0.0, -1.0, 0.0)[0])
        return float((costs * at_zero).sum()), 0.0
    split = split_outputs(block.X, block.is_sparse, K)
    groups = [range(k, k + 1) for k in range(K)] if split else [range(K)]

    def run(g):
        ks = slice(groups[g].start, groups[g].stop)
        y = _output_targets(block, ks.start) if split else block.y
        args = (y, block.sample_weight, W[ks], A[ks], C, loss.kernel, loss.dual, pos_weight[ks], neg_weight[ks], bias)
        if block.is_sparse:
            return certificate_csr(*sparse_arrays(block.X), *args)
        return certificate_dense(block.X, *args)

    per_group = _map_groups(run, len(groups), pool)
    return sum(p for p, _ in per_group), sum(d for _, d in per_group)


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
