"""Column-parallel coordinate descent across workers (model parallelism; Hydra, Richtarik and Takac 2016).

The columns of X are partitioned into K blocks that live on the workers. Every round the driver sends the current
residual; each worker runs a local epoch of coordinate descent over its own columns against it and returns its
coordinates and its change of the residual; the driver combines the changes. Adding K changes computed from the
same residual is safe when each worker solves its local problem with the curvature multiplied by ``sigma = K`` (the
CoCoA+ subproblem, Ma et al. 2015; Hydra, Richtarik and Takac 2016, uses the same separable over-approximation),
but then the rounds grow as K where the blocks' changes barely overlap (Mug32: 183 rounds on 2 blocks, 1,823 on
16). So only the first round (and a round after one that found no descent) runs at ``sigma = K``; the others take
``sigma'`` from the overlap of the last round's changes (:func:`next_overlap`) and the share of the summed change
that minimises the objective along it (:func:`best_share`), so that no round raises the objective (Mug32 on 16
blocks: 153 rounds; docs/benchmarks.md).
Only the residual (n numbers) and the block's coordinates travel; the columns never move. On a dask-cuda cluster the
blocks are GPU column blocks (:mod:`skpar.parallel._hydra_device`), the same rounds.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._lasso_objective import duality_gap, primal
from .._report import record, stop_requested
from ..kernels import cd_epochs_csc, cd_epochs_dense, sparse_arrays
from . import _hydra_device


class ColumnBlock:
    """Columns ``cols`` of X (F-ordered dense or CSC) with their weighted statistics, built where they live."""

    @classmethod
    def from_pieces(cls, pieces, s, cols, fit_intercept):
        """The block from its columns' row pieces (one per row chunk of a dask array), written straight into one
        F-ordered array: no concatenated C-ordered intermediate, so the worker building the block holds the pieces
        and the block, not a third copy."""
        if any(sp.issparse(p) for p in pieces):
            return cls(sp.vstack(pieces, format="csc"), s, cols, fit_intercept)
        return cls(stack_pieces(pieces, len(cols), np), s, cols, fit_intercept)

    def __init__(self, X, s, cols, fit_intercept):
        if sp.issparse(X):
            X = X.tocsc()
            if not X.has_sorted_indices:  # a sorted copy: the caller's matrix stays as it was
                X = X.sorted_indices()
            self.sq = np.asarray(X.multiply(X).T @ s).ravel()
            self.colsum = np.asarray(X.T @ s).ravel() if fit_intercept else np.zeros(X.shape[1])
        else:
            X = np.asfortranarray(X, dtype=np.float64)
            # in column chunks: no n x m temporary for X * X (it was a third copy of the block at peak)
            self.sq = np.empty(X.shape[1])
            for a in range(0, X.shape[1], 16):
                xa = X[:, a:a + 16]
                self.sq[a:a + 16] = (xa * xa).T @ s
            self.colsum = X.T @ s if fit_intercept else np.zeros(X.shape[1])
        self.X, self.s, self.cols = X, np.asarray(s, dtype=np.float64), np.asarray(cols)
        n = X.shape[0]
        self.xbar = self.colsum / n
        self.L = np.maximum(self.sq / n - self.xbar ** 2, 0.0)

    def gradient(self, r):
        sr = self.s * r
        return (np.asarray(self.X.T @ sr).ravel() - self.xbar * sr.sum()) / self.X.shape[0]


def stack_pieces(pieces, width, xp):
    """Dense row pieces of ``width`` columns written one after another into one F-ordered float64 array of the array
    module ``xp`` (NumPy, or CuPy for a GPU's block)."""
    X = xp.empty((sum(p.shape[0] for p in pieces), width), dtype=xp.float64, order="F")
    a = 0
    for p in pieces:
        X[a:a + p.shape[0]] = p
        a += p.shape[0]
    return X


def column_piece(chunk, cols):
    """Columns ``cols`` (a contiguous range) of one row chunk, F-ordered (sparse chunks as CSC)."""
    if sp.issparse(chunk):
        return chunk.tocsc()[:, cols[0]:cols[-1] + 1]
    return np.asfortranarray(chunk[:, cols[0]:cols[-1] + 1], dtype=np.float64)


def column_block_stats(block):
    """``(cols, xbar, L)`` of a block: what the driver needs for the gap and the intercept."""
    return block.cols, block.xbar, block.L


def centred_matvec(block, v):
    """``(X_k - xbar_k) v`` for the block's coordinates ``v``."""
    if getattr(block, "on_gpu", False):
        return _hydra_device.centred_matvec(block, v)
    return np.asarray(block.X @ v).ravel() - float(block.xbar @ v)


def hydra_task(block, l1, l2, positive, sigma, n_epochs, r, w, seed, selection):
    """Gradient of the block's coordinates at ``r`` (for the gap), then local CD epochs of the CoCoA+ subproblem.

    Returns ``(z_k, w_k_new, delta_k)`` with ``delta_k = (X_k - xbar_k)(w_k_new - w_k)``, the block's change of the
    centred prediction: the driver subtracts the sum of the blocks' changes from the residual.
    """
    if getattr(block, "on_gpu", False):  # a dask-cuda worker's columns (parallel._hydra_device)
        return _hydra_device.hydra_task(block, l1, l2, positive, sigma, n_epochs, r, w, seed, selection)
    z = block.gradient(r)
    m = block.cols.shape[0]
    order = np.random.default_rng(seed).permutation(m) if selection == "random" else np.arange(m)
    X = block.X
    if sp.issparse(X):
        w_new, r_out, c_out = cd_epochs_csc(*sparse_arrays(X), np.arange(m, dtype=np.int64), order,
                                            block.s, r, 0.0, block.colsum, block.xbar, block.L, w, l1, l2, positive,
                                            n_epochs, sigma, X.shape[0])
    else:
        w_new, r_out, c_out = cd_epochs_dense(X, order, block.s, r, 0.0, block.colsum, block.xbar, block.L, w, l1,
                                              l2, positive, n_epochs, sigma)
    return z, w_new, (r - r_out - c_out) / sigma


class _DriverData:
    """What the driver keeps for the gap: centred targets and weights (n numbers), the columns' statistics."""

    def __init__(self, yc, s, xbar, L):
        self.yc, self.s, self.xbar, self.L = yc, s, xbar, L
        self.n = yc.shape[0]


def hydra_lasso(rounds, splits, yc, s, w, l1, l2, *, max_rounds, tol, positive=False, local_epochs=1,
                selection="cyclic", seeds=None, history=None, start_time=None, ybar=0.0):
    """Minimise the (elastic-net) Lasso over column blocks with CoCoA+-safe additive rounds.

    ``rounds`` runs tasks on the column blocks (:class:`~skpar.parallel.SyncRounds`); ``splits`` are the blocks'
    column indices. The gap is computed every round from the gradients the blocks return, at the state they were
    sent, so the fit stops on a certified state. Returns ``(w, gap, n_rounds, converged)``.
    """
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    stats = rounds.run(column_block_stats).results
    xbar, L = np.zeros(w.size), np.zeros(w.size)
    for cols, xb, Lk in stats:
        xbar[cols], L[cols] = xb, Lk
    data = _DriverData(yc, s, xbar, L)
    K = len(splits)
    w = np.array(w, dtype=np.float64)
    pred = sum(rounds.run(centred_matvec, per_block=[(w[c],) for c in splits]).results) if w.any() else 0.0
    r = yc - pred
    gap, converged, n_rounds = np.inf, False, 0
    sigma = float(K)  # CoCoA+'s safe sigma' until a round's changes are measured (next_overlap)
    for n_rounds in range(max_rounds + 1):
        res = rounds.run(hydra_task, l1, l2, positive, sigma, local_epochs,
                         per_block=[(r, w[c], int(seeds[n_rounds % len(seeds)]) + k, selection)
                                    for k, c in enumerate(splits)])
        z = np.zeros(w.size)
        for c, (zk, _, _) in zip(splits, res.results, strict=True):
            z[c] = zk
        gap = duality_gap(data, w, r, z, l1, l2, positive)
        record(history, {"round": len(history), "time": time.perf_counter() - start_time, "epochs": n_rounds,
                         "steps": n_rounds, "primal": primal(data, w, r, l1, l2), "gap": gap, "P": w.size,
                         "bytes_sent": res.bytes_sent}, model=lambda w=w: (w, ybar - float(data.xbar @ w)))
        if gap <= tol:
            converged = True
            break
        if n_rounds == max_rounds or stop_requested(history):
            break
        if K == 1:
            (_, wk, dk), = res.results
            w[splits[0]], r = wk, r - dk
            continue
        steps = np.zeros(w.size)
        for c, (_, wk, _) in zip(splits, res.results, strict=True):
            steps[c] = wk - w[c]
        D = sum(dk for _, _, dk in res.results)
        # a round at CoCoA+'s sigma' = K adds its changes whole (safe by its theory); the others take the share
        # that the line says (sigma' from the blocks' measured overlap can be too small)
        theta = 1.0 if sigma >= K else best_share(data, w, r, steps, D, l1, l2)
        w, r = w + theta * steps, r - theta * D
        # no descent along the summed change (near the optimum the Jacobi-like combination of the blocks' steps can
        # stall there: ~hundreds of rounds on a dense 400 x 30 problem at a gap of 3e-11): one safe round next
        sigma = next_overlap([dk for _, _, dk in res.results], D, s, K) if theta > 0.0 else float(K)
        history[-1].update(theta=theta, sigma=sigma)
    return w, gap, n_rounds, converged


def best_share(data, w, r, steps, D, l1, l2):
    r"""The share ``theta`` in [0, 1] of the blocks' summed change that minimises the objective along it: ``w +
    theta steps`` with the residual ``r - theta D`` (``D``: the change of the centred prediction). The objective
    along the line,

    .. math::

        F(\theta) = \frac{1}{2n} \sum_i s_i (r_i - \theta D_i)^2 + l_1 \|w + \theta \Delta\|_1
        + \frac{l_2}{2} \|w + \theta \Delta\|^2,

    is convex and quadratic between the shares where a moved coordinate crosses 0: its right derivative is walked
    from 0 across those (sorted) to the first place it turns non-negative. Only moved coordinates count, so a
    round's search costs about its active set. ``theta = 1`` is CoCoA+'s adding; with ``sigma'`` below the blocks'
    true overlap the summed change can overshoot, and the search takes the part of it that still descends
    (never an increase: ``theta = 0`` is on the line).
    """
    moved = steps != 0.0
    dw, w0 = steps[moved], w[moved]
    a = float(data.s @ (D * D)) / data.n + l2 * float(dw @ dw)
    b = -float(data.s @ (D * r)) / data.n + l2 * float(dw @ w0)
    # the l1 part's right derivative at 0: sign(w_j) dw_j, or |dw_j| where w_j = 0 (it moves away from 0)
    slope = float(np.where(w0 != 0.0, np.sign(w0) * dw, np.abs(dw)).sum())
    cross = -w0 / dw  # where each moved coordinate meets 0 (dw != 0 by the choice of the moved ones)
    inside = (cross > 0.0) & (cross < 1.0)
    order = np.argsort(cross[inside], kind="stable")
    ends = np.append(cross[inside][order], 1.0)  # each segment's right end
    # across a crossing the coordinate's sign turns from -sign(dw) to sign(dw): the slope rises by 2 |dw|
    slopes = l1 * (slope + np.concatenate(([0.0], 2.0 * np.cumsum(np.abs(dw[inside][order])))))
    if a <= 0.0:  # no curvature along the line (nothing moved): a linear function of theta
        return 1.0 if b + slopes[0] < 0.0 else 0.0
    rising = np.flatnonzero(a * ends + b + slopes >= 0.0)  # the derivative's left limit at each segment's end
    if rising.size == 0:
        return 1.0
    k = int(rising[0])
    start = 0.0 if k == 0 else float(ends[k - 1])
    return float(min(max(-(b + slopes[k]) / a, start), ends[k]))


def next_overlap(parts, D, s, K):
    """The local problems' ``sigma'`` for the next round: the overlap of this round's changes of the prediction,
    ``||sum_k d_k||^2 / sum_k ||d_k||^2`` in the weights ``s`` (``K`` for changes that coincide, 1 for orthogonal
    ones), times :data:`OVERLAP_MARGIN`, within ``[1, K]``: the measure
    :func:`skpar.parallel._cocoa.next_sigma` takes of CoCoA's blocks, here of the columns' (Hydra's ``beta``,
    Richtarik and Takac 2016, bounds it over all changes; the measured one is this round's, and
    :func:`best_share` guards the rounds where it is exceeded)."""
    den = sum(float(s @ (d * d)) for d in parts)
    if den <= 0.0:
        return float(K)
    return float(np.clip(OVERLAP_MARGIN * float(s @ (D * D)) / den, 1.0, K))


#: the margin on the measured overlap that :func:`next_overlap` makes ``sigma'``: one round's changes are one
#: direction, the safe ``sigma'`` a maximum over all. With 1.1 (CoCoA's ``SIGMA_MARGIN``) 16 blocks took 179, 115
#: and 1,654 rounds on Mug32, dorothea and arcene, with 1.5 153, 101 and 1,500, with 2 148, 100 (and 49 on 2
#: blocks against 41); a dense 400 x 30 problem to a gap of 1e-12 on 3 blocks took 995 rounds with 1.1, 1,248 with
#: 1.5 (docs/benchmarks.md)
OVERLAP_MARGIN = 1.5
