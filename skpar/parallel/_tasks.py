"""Tasks that run on one block, where the block lives: they turn a block into kernel calls and return statistics.

Each task takes the block first (a backend replaces a block handle by the block) and returns only small things.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import time

import numpy as np

from ..kernels import (
    eval_rows,
    hogwild_csr,
    row_sq_norms,
    sgd_csr,
    sgd_dense,
    sparse_arrays,
)
from ..kernels._loss import SOFTMAX
from ..kernels._replica import fold_replica, hogwild_csr_replica, stable_period
from ..kernels._sgd_cuda import sgd_epoch_gpu
from ..kernels._stats import norm_powers
from ..kernels._stats_cuda import matvec_gpu, moments_gpu, zero_loss_gpu
from ._results import HogwildResult, OneshotResult, StepsResult


def gpu_variant(gpu_fn):
    """Task decorator: the task's body is for blocks in host memory; on a GPU block (``block.on_gpu``) the task runs
    ``gpu_fn`` instead, with the same arguments: the same work by the CUDA family of kernels. The one place a task
    looks at where its block lives."""
    def decorate(task):
        @functools.wraps(task)
        def run(block, *args, **kwargs):
            return (gpu_fn if block.on_gpu else task)(block, *args, **kwargs)
        return run
    return decorate


def _sgd_epoch_on_gpu(block, state, plan, epoch_seed, offset, n_steps, t0):
    # a whole local epoch per call: GPU rounds are local epochs (skpar.kernels._sgd_cuda)
    return StepsResult(*sgd_epoch_gpu(block, state, plan, epoch_seed, t0))


#: how long a gated straggler waits for its gate (tests only) before its task fails: a gate never opened is a
#: deadlock in the driver or the backend, which the test must see as an error rather than a hang
GATE_TIMEOUT = 120.0


def _straggle(plan, block):
    """The test-and-benchmark straggler hook (``plan.delays``, empty in real fits): block ``block.index``'s tasks
    sleep that many seconds (benchmarks) or, given an object with ``wait(timeout)`` (a ``threading.Event``, a
    ``distributed.Event``), wait until the test opens it, so that a test orders events without timing them."""
    hold = plan.delays[block.index] if block.index < len(plan.delays) else None
    if not hold:
        return
    if hasattr(hold, "wait"):
        if hold.wait(GATE_TIMEOUT) is False:
            raise TimeoutError(f"block {block.index}'s straggler gate was not opened within {GATE_TIMEOUT:g} s")
        return
    time.sleep(hold)


@gpu_variant(_sgd_epoch_on_gpu)
def sgd_task(block, state, plan, epoch_seed, offset, n_steps, t0):
    """Run ``n_steps`` local SGD steps on the block, from ``state``, over its epoch order from ``offset``.

    ``state`` is ``(W, B, Wbar, Bbar, n_avg)``; ``plan`` is the :class:`~skpar.parallel.SGDPlan` of the fit. The
    rows are the block's training rows shuffled by ``epoch_seed`` (memoised on the block, so a round costs only its
    own steps).
    """
    _straggle(plan, block)
    W, B, Wbar, Bbar, n_avg = state
    order = block.epoch_order(plan.order_seed(epoch_seed))
    rows = order[offset: offset + n_steps * plan.batch_size]
    args = (rows, W, B, Wbar, Bbar, int(n_avg), int(t0), int(plan.batch_size), int(n_steps), *_common(plan),
            plan.avg_start, plan.blowup)
    X = block.X
    if block.is_sparse:
        return StepsResult(*sgd_csr(*sparse_arrays(X), block.y, block.sample_weight, *args))
    # ``inplace`` passed, never left to its default: an omitted argument and a bool are two types to numba, and
    # each compiles the kernel again (Hogwild! passes True)
    return StepsResult(*sgd_dense(X, block.y, block.sample_weight, *args, False))


def hogwild_task(block, W, B, plan, epoch_seed, t0, inv_q, own_model=False, n_threads=1, shared=False,
                 replicas=0):
    """One Hogwild! epoch over the block, writing ``W`` and ``B`` in place.

    On the thread backend every block's task writes the one shared model (``own_model=False``; ``shared``: other
    blocks' threads write it too) and returns ``(loss_sum, n_seen, steps, diverged, last_eta)``; with ``replicas``
    (the threads sharing the model, ``plan.replica_steps > 0``) the block steps on a replica of the weights of its
    own and folds it into ``W`` every fold period (:mod:`skpar.kernels._replica`). On a Dask worker
    (``own_model=True``) the task works on its own copy of the model, runs Hogwild! over ``n_threads`` threads
    (the block's epoch order cut into one contiguous part a thread, all writing that copy, or folding replicas into
    it), and returns the copy too: ``(loss_sum, n_seen, steps, diverged, last_eta, W, B, n_threads)``; the driver
    averages the blocks' models.
    """
    _straggle(plan, block)
    rows = block.epoch_order(plan.order_seed(epoch_seed))
    if not own_model:
        if replicas > 1:
            return _hogwild_replica(block, W, B, plan, rows, t0, inv_q, replicas)
        return _hogwild_rows(block, W, B, plan, rows, t0, inv_q, shared)
    W, B = np.array(W, dtype=np.float64), np.array(B, dtype=np.float64)  # this block's own model
    parts = np.array_split(rows, max(1, min(int(n_threads), rows.shape[0])))
    shared_here = len(parts) > 1
    replicas = len(parts) if shared_here and plan.replica_steps else 0

    def part(k):
        if replicas:
            return _hogwild_replica(block, W, B, plan, parts[k], t0, inv_q, replicas)
        return _hogwild_rows(block, W, B, plan, parts[k], t0, inv_q, shared_here)

    # the task's own thread takes the first part; the others run beside it on the worker's remaining threads
    with cf.ThreadPoolExecutor(max_workers=max(1, len(parts) - 1), thread_name_prefix="skpar-hogwild") as pool:
        others = [pool.submit(part, k) for k in range(1, len(parts))]
        results = [part(0)]
        results += [f.result() for f in others]
    return HogwildResult(sum(r.loss_sum for r in results), sum(r.n_seen for r in results),
                         max(r.steps for r in results), any(r.diverged for r in results),
                         max(r.last_eta for r in results), W, B, len(parts))


def _hogwild_rows(block, W, B, plan, rows, t0, inv_q, shared):
    """The Hogwild! kernel over ``rows`` of the block, writing ``(W, B)`` in place; ``shared``: other threads write
    them too (the sparse kernel then prefetches the next row's weights for writing)."""
    X = block.X
    common = _common(plan)
    if block.is_sparse:
        return HogwildResult(*hogwild_csr(*sparse_arrays(X), block.y, block.sample_weight, rows, W, B,
                                          inv_q, int(t0), int(plan.batch_size), 1 << 62, *common, plan.blowup,
                                          bool(X.has_canonical_format), bool(shared)))
    out = StepsResult(*sgd_dense(X, block.y, block.sample_weight, rows, W, B, W, B, 0, int(t0),
                                 int(plan.batch_size), 1 << 62, *common, 1 << 62, plan.blowup, True))
    return HogwildResult(out.loss_sum, out.n_seen, out.steps, out.diverged, out.last_eta)


def _loss_args(plan):
    """The plan's loss arguments, in the order the kernels take them: the loss's compiled function, its ``margin``
    code (0 regression, 1 a margin loss, ``SOFTMAX`` the softmax of the outputs), its parameter and the outputs'
    class weights. The code is an int for every loss, so that each kernel compiles once for it, not once for a bool
    and again for the softmax's int."""
    loss = plan.loss
    return loss.kernel, int(loss.margin), loss.param, plan.pos_weight, plan.neg_weight


def _common(plan):
    """The plan's loss, penalty and step-size arguments, in the order the kernels take them."""
    return (*_loss_args(plan), plan.l2, plan.l1, plan.intercept_step, plan.schedule, plan.eta, plan.power_t,
            plan.samples_per_step, plan.warmup_steps, plan.eta_start)


def _hogwild_replica(block, G, B, plan, rows, t0, inv_q, n_threads):
    """Hogwild! steps over ``rows`` on a replica of the shared weights ``G``, folded into them every fold period
    (``plan.replica_steps``, bounded by :func:`~skpar.kernels._replica.stable_period` for ``n_threads`` threads
    folding) and at the end; the shared intercepts ``B`` get the thread's change on a shorter period on sparse
    blocks and at every step on dense ones (see :mod:`skpar.kernels._replica`). Returns what
    :func:`_hogwild_rows` returns.
    """
    W = np.array(G, dtype=np.float64)  # the replica, from the shared weights now
    S = W.copy()  # the replica at its last fold
    period = stable_period(plan.replica_steps, n_threads, plan.eta, plan.replica_curvature)
    # the intercepts' curvature is the loss's (every row's feature is 1): at most 1 for the losses here
    b_period = stable_period(plan.replica_steps, n_threads, plan.eta, 1.0)
    X = block.X
    if block.is_sparse:  # the fold periods' loop compiled (see hogwild_csr_replica)
        return HogwildResult(*hogwild_csr_replica(*sparse_arrays(X), block.y, block.sample_weight, rows,
                                                  W, S, G, B, period, b_period, inv_q, int(t0),
                                                  int(plan.batch_size), *_common(plan), plan.blowup,
                                                  bool(X.has_canonical_format)))
    chunk = period * int(plan.batch_size)
    loss_sum, n_seen, steps, diverged, last_eta = 0.0, 0, 0, False, 0.0
    for c in range(0, rows.shape[0], chunk):
        out = _hogwild_rows(block, W, B, plan, rows[c:c + chunk], t0 + steps, inv_q, False)
        loss_sum, n_seen, steps = loss_sum + out.loss_sum, n_seen + out.n_seen, steps + out.steps
        diverged, last_eta = out.diverged, out.last_eta if out.steps else last_eta
        if diverged:
            break
        fold_replica(W, S, G)
    return HogwildResult(loss_sum, n_seen, steps, diverged, last_eta)


#: an epoch whose mean loss is this many times the zero model's has diverged, even if no single batch blew up
RISE_FACTOR = 2.0
#: (asynchronous modes) an epoch whose mean loss is this many times the lowest since the last cut of the step ...
SWING_FACTOR = 10.0
#: ... and above this fraction of the zero model's has swung: the step is too large for the staleness
SWING_FLOOR = 1e-3


def epoch_diverged(objective, plan, lowest=np.inf):
    """Whether an epoch's objective says the step is too large: non-finite, or, for the regression losses, more than
    ``RISE_FACTOR`` times the loss of the zero model the fit started from.

    A step just under the blow-up threshold of single batches can still make the iterates swing, an epoch's mean
    squared loss climbing far above where the fit started (seen: R^2 0.55 after 10 epochs of such swings on a
    noiseless problem); no step small enough to converge ends an epoch there (its mean loss starts at the zero
    model's and falls), so it is treated as divergence. Classification losses grow only linearly with a swing and
    heavy class weights make early epochs legitimately climb (scikit-learn's class-weight check), so for them only
    a blow-up counts.

    ``lowest`` (asynchronous and Hogwild! fits pass it) is the lowest epoch loss since the step was last cut: a
    regression epoch more than ``SWING_FACTOR`` times above it (and above ``SWING_FLOOR`` of the zero model's loss,
    so that noise near a zero optimum does not count) has swung too. Stale updates make a step that is stable for
    synchronous SGD swing: seen on a loaded 2-core machine, an asynchronous fit cut its step 16 times and then
    swung between epoch losses of 0.09 and 125 (zero model: about 400), ending at R^2 0.63.
    """
    if not np.isfinite(objective):
        return True
    if plan.loss.margin:
        return False
    swung = objective > SWING_FACTOR * lowest and objective > SWING_FLOOR * plan.ref_loss
    return objective > RISE_FACTOR * plan.ref_loss or swung


def oneshot_task(block, state, plan, epoch_seeds, t0, tol, n_iter_no_change):
    """Fit the block on its own, one local epoch per seed in ``epoch_seeds``, from ``state``.

    Stops early by scikit-learn's rule on the block's own epoch objective (no improvement by ``tol`` for
    ``n_iter_no_change`` epochs; ``tol=None`` runs every epoch). Returns what :func:`sgd_task` returns, for the
    last epoch (model, loss sum, samples, steps over all epochs, divergence, last step size), plus the epochs run
    and whether the block's stopping rule fired.
    """
    W, B, Wbar, Bbar, n_avg = state
    t = int(t0)
    best, no_improvement, converged = np.inf, 0, False
    out = None
    for e, seed in enumerate(epoch_seeds):
        out = sgd_task(block, (W, B, Wbar, Bbar, n_avg), plan, seed, 0, 1 << 62, t)
        W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps, diverged, last_eta = out
        t += steps
        if diverged:
            break
        objective = loss_sum / max(n_seen, 1) + plan.penalty.value(W)
        if epoch_diverged(objective, plan):
            diverged = True
            break
        if tol is not None:
            no_improvement = 0 if objective < best - tol else no_improvement + 1
            best = min(best, objective)
            if no_improvement >= n_iter_no_change:
                converged = True
        if converged or e == len(epoch_seeds) - 1:
            break
        # between local epochs the block is its own model: apply the deferred l1 step here (W is the kernel's own)
        plan.penalty.prox_l1(W, last_eta)
    return OneshotResult(W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, t - int(t0), diverged, last_eta, e + 1, converged)


def _no_validation_on_gpu(block, *args, **kwargs):
    raise ValueError("validation scores are computed on the CPU path only (early_stopping=False on GPUs)")


@gpu_variant(_no_validation_on_gpu)
def eval_task(block, W, B, plan, which="train"):
    """Sums at the model ``(W, B)`` over the block's ``which`` rows ('train', 'val' or 'all').

    Returns ``[sum s l, S, sum s, sum s y, sum s y^2]``, ``S`` the squared error (regression) or the weight of the
    correctly classified rows (classification); see :func:`skpar.kernels.eval_rows`.
    """
    rows = {"train": block.train_rows, "val": block.val_rows}.get(which)
    if rows is None:
        rows = np.arange(block.n_rows, dtype=np.int64)
    return eval_rows(block.kernel_X, block.y, block.sample_weight, rows, W, B, *_loss_args(plan))


@gpu_variant(zero_loss_gpu)
def zero_loss_task(block, loss, pos_weight, neg_weight):
    """``sum_i s_i l(0, y_i)`` over the training rows (summed over outputs): the loss of the zero model.

    At the zero model the loss depends on the targets alone, so this reads y, never X.
    """
    rows = block.train_rows
    s, y = block.sample_weight[rows], block.y[rows]
    if not loss.margin:  # regression
        return float(np.dot(s, loss.value(np.zeros(rows.shape[0]), y)))
    if loss.margin == SOFTMAX:  # every class scores 0: log K a sample, weighted by its class
        return loss.zero_model_loss(pos_weight.shape[0]) * float(np.dot(s, pos_weight[y.astype(np.int64)]))
    # one-vs-rest: every output has margin 0, so each sample pays l(0) once per output, weighted as its class is
    l0 = float(loss.value(np.zeros(1), np.ones(1))[0])
    K = pos_weight.shape[0]
    if K == 1:
        per = np.where(y == 1, pos_weight[0], neg_weight[0])
    else:
        cls = y.astype(np.int64)
        per = neg_weight.sum() - neg_weight[cls] + pos_weight[cls]
    return float(l0 * np.dot(s, per))


def sample_rows(block, max_rows, seed):
    """Up to ``max_rows`` of the block's training rows, drawn without replacement by ``seed``, sorted."""
    rows = block.train_rows
    if rows.shape[0] > max_rows:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    return rows


def _sample_matrix(block, max_rows, seed):
    """The rows of :func:`sample_rows` as a matrix, memoised on the block: power iteration multiplies by the same
    sample once a round, and copying it each time cost more than the products (on a 7,770 x 8,315 tf-idf set, four
    copies of the whole block, 1.6 ms each, in a 50 ms fit). A sample of every row is the block's matrix itself."""
    key = (max_rows, seed)
    memo = getattr(block, "_sample", None)
    if memo is not None and memo[0] == key:
        return memo[1]
    rows = sample_rows(block, max_rows, seed)
    Xs = block.X if rows.shape[0] == block.n_rows else block.X[rows]
    block._sample = (key, Xs)
    return Xs


@gpu_variant(moments_gpu)
def moments_task(block, max_rows, seed, fit_intercept, with_gram):
    """Second moments of a row sample: what the critical batch size and the step size are estimated from.

    Returns a dict with the sample size, the sum of ``||x~||^2`` (``x~ = [x, 1]`` with an intercept), its max and
    the sums of its square and cube scaled by the max (:func:`norm_powers`), and, if ``with_gram``, the sample's Gram
    matrix ``sum x~ x~^T``, else the sum of its rows ``x~`` (CPU blocks); also the block's row count and weight total.
    """
    rows = sample_rows(block, max_rows, seed)
    X = block.X
    extra = 1.0 if fit_intercept else 0.0
    sq = row_sq_norms(block.kernel_X, rows) + extra
    out = {
        "n_sample": int(rows.shape[0]),
        "sum_sq": float(sq.sum()),
        **norm_powers(sq),
        "n_rows": int(block.n_train),
        "gram": None,
    }
    if with_gram and rows.shape[0]:
        Xs = X[rows]
        Xs = Xs.toarray() if block.is_sparse else np.asarray(Xs, dtype=np.float64)
        if fit_intercept:
            Xs = np.hstack([Xs, np.ones((Xs.shape[0], 1))])
        out["gram"] = Xs.T @ Xs
    elif rows.shape[0]:
        # the sample's column sums (its matrix memoised for the power iteration that follows): the mean row starts
        # power iteration near the top eigenvector of E[x x^T] where the data is not centred (tf-idf, counts, 0/1)
        col = np.asarray(_sample_matrix(block, max_rows, seed).sum(axis=0), dtype=np.float64).ravel()
        out["col_sum"] = np.append(col, float(rows.shape[0])) if fit_intercept else col
    return out


@gpu_variant(matvec_gpu)
def sample_matvec_task(block, max_rows, seed, fit_intercept, v):
    """``X~_s^T (X~_s v)`` on the block's row sample (power iteration when d is too large for a Gram matrix)."""
    Xs = _sample_matrix(block, max_rows, seed)
    d = Xs.shape[1]
    z = Xs @ v[:d]
    if fit_intercept:
        z = z + v[d]
    out = np.asarray(Xs.T @ z, dtype=np.float64).ravel()
    if fit_intercept:
        out = np.append(out, z.sum())
    return out
