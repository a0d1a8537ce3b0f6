"""Tasks that run on one block, where the block lives: they turn a block into kernel calls and return statistics.

Each task takes the block first (a backend replaces a block handle by the block) and returns only small things.
"""

from __future__ import annotations

import numpy as np

from ..kernels import eval_csr, eval_dense, row_sq_norms_csr, row_sq_norms_dense, sgd_csr, sgd_dense


def sgd_task(block, state, plan, epoch_seed, offset, n_steps, t0):
    """Run ``n_steps`` local SGD steps on the block, from ``state``, over its epoch order from ``offset``.

    ``state`` is ``(w, b, wbar, bbar, n_avg)``; ``plan`` is the :class:`~skpar.parallel.SGDPlan` of the fit. The
    rows are the block's training rows shuffled by ``epoch_seed`` (memoised on the block, so a round costs only its
    own steps).
    """
    w, b, wbar, bbar, n_avg = state
    order = block.epoch_order(epoch_seed)
    rows = order[offset: offset + n_steps * plan.batch_size]
    args = (rows, w, float(b), wbar, float(bbar), int(n_avg), int(t0), int(plan.batch_size), int(n_steps),
            plan.loss_code, plan.epsilon, plan.l2, plan.l1, plan.fit_intercept,
            plan.schedule, plan.eta, plan.power_t, plan.samples_per_step, plan.warmup_steps, plan.eta_start,
            plan.avg_start, plan.blowup)
    X = block.X
    if block.is_sparse:
        return sgd_csr(X.data, X.indices, X.indptr, block.y, block.sample_weight, *args)
    return sgd_dense(X, block.y, block.sample_weight, *args)


def eval_task(block, w, b, loss_code, epsilon, which="train"):
    """Sums at the model ``(w, b)`` over the block's ``which`` rows ('train', 'val' or 'all').

    Returns ``[sum s l, sum s (y - p)^2, sum s, sum s y, sum s y^2]``.
    """
    rows = {"train": block.train_rows, "val": block.val_rows}.get(which)
    if rows is None:
        rows = np.arange(block.n_rows, dtype=np.int64)
    X = block.X
    if block.is_sparse:
        return eval_csr(X.data, X.indices, X.indptr, block.y, block.sample_weight, rows, w, float(b),
                        loss_code, epsilon)
    return eval_dense(X, block.y, block.sample_weight, rows, w, float(b), loss_code, epsilon)


def zero_loss_task(block, loss):
    """``sum_i s_i l(0, y_i)`` over the training rows: the loss of the zero model, from y alone (no pass over X)."""
    rows = block.train_rows
    return float(np.dot(block.sample_weight[rows], loss.value(np.zeros(rows.shape[0]), block.y[rows])))


def sample_rows(block, max_rows, seed):
    """Up to ``max_rows`` of the block's training rows, drawn without replacement by ``seed``, sorted."""
    rows = block.train_rows
    if rows.shape[0] > max_rows:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    return rows


def moments_task(block, max_rows, seed, fit_intercept, with_gram):
    """Second moments of a row sample: what the critical batch size and the step size are estimated from.

    Returns a dict with the sample size, the sum and the max of ``||x~||^2`` (``x~ = [x, 1]`` with an intercept),
    and, if ``with_gram``, the sample's Gram matrix ``sum x~ x~^T``; also the block's row count and weight total.
    """
    rows = sample_rows(block, max_rows, seed)
    X = block.X
    extra = 1.0 if fit_intercept else 0.0
    if block.is_sparse:
        sq = row_sq_norms_csr(X.data, X.indptr, rows) + extra
    else:
        sq = row_sq_norms_dense(X, rows) + extra
    out = {
        "n_sample": int(rows.shape[0]),
        "sum_sq": float(sq.sum()),
        "max_sq": float(sq.max()) if sq.size else 0.0,
        "n_rows": int(block.n_train),
        "gram": None,
    }
    if with_gram and rows.shape[0]:
        Xs = X[rows]
        Xs = Xs.toarray() if block.is_sparse else np.asarray(Xs, dtype=np.float64)
        if fit_intercept:
            Xs = np.hstack([Xs, np.ones((Xs.shape[0], 1))])
        out["gram"] = Xs.T @ Xs
    return out


def sample_matvec_task(block, max_rows, seed, fit_intercept, v):
    """``X~_s^T (X~_s v)`` on the block's row sample (power iteration when d is too large for a Gram matrix)."""
    rows = sample_rows(block, max_rows, seed)
    Xs = block.X[rows]
    d = Xs.shape[1]
    z = Xs @ v[:d]
    if fit_intercept:
        z = z + v[d]
    out = np.asarray(Xs.T @ z, dtype=np.float64).ravel()
    if fit_intercept:
        out = np.append(out, z.sum())
    return out
