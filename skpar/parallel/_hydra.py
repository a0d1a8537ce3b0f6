"""Column-parallel coordinate descent across workers (model parallelism; Hydra, Richtarik and Takac 2016).

The columns of X are partitioned into K blocks that live on the workers. Every round the driver sends the current
residual; each worker runs a local epoch of coordinate descent over its own columns against it and returns its
coordinates and its change of the residual; the driver adds the changes. Adding K changes computed from the same
residual is safe when each worker solves its local problem with the curvature multiplied by ``sigma = K`` (the
CoCoA+ subproblem, Ma et al. 2015; Hydra, Richtarik and Takac 2016, uses the same separable over-approximation).
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
    for n_rounds in range(max_rounds + 1):
        res = rounds.run(hydra_task, l1, l2, positive, float(K), local_epochs,
                         per_block=[(r, w[c], int(seeds[n_rounds % len(seeds)]) + k, selection)
                                    for k, c in enumerate(splits)])
        z = np.zeros(w.size)
        for c, (zk, _, _) in zip(splits, res.results, strict=True):
            z[c] = zk
        gap = duality_gap(data, w, r, z, l1, l2, positive)
        record(history, {"round": len(history), "time": time.perf_counter() - start_time, "epochs": n_rounds,
                         "steps": n_rounds, "primal": primal(data, w, r, l1, l2), "gap": gap, "P": w.size,
                         "bytes_sent": res.bytes_sent}, model=lambda: (w, ybar - float(data.xbar @ w)))
        if gap <= tol:
            converged = True
            break
        if n_rounds == max_rounds or stop_requested(history):
            break
        for c, (_, wk, dk) in zip(splits, res.results, strict=True):
            w[c] = wk
            r = r - dk
    return w, gap, n_rounds, converged
