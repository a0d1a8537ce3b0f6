"""A column block of the Lasso's Hydra rounds (:mod:`skpar.parallel._hydra`) in a GPU's memory: a dask-cuda
worker's columns, built from its row chunks' pieces where they are, as :class:`~skpar.parallel._hydra.ColumnBlock`
is on a CPU worker.

A round's local solve is the host block's: sequential coordinate descent over the block's columns on the CoCoA+
subproblem (curvature and residual moves scaled by ``sigma``), so the iterates are the same algorithm's. On a GPU
an n-long dot product a coordinate would be a launch a coordinate; instead the columns are taken
:data:`CHUNK_COLUMNS` at a time. A chunk :math:`C`'s correlations with the current local residual,

.. math::

    z_C = \\tfrac1n \\tilde X_C^\\top S r ,

are one cuBLAS product; coordinate descent over the chunk then runs on the host against the chunk's centred Gram
matrix :math:`G_C = \\tfrac1n \\tilde X_C^\\top S \\tilde X_C` (formed once, when the block is built), which moves
:math:`z_C` exactly as the residual would (:func:`skpar.kernels.shotgun_epoch_gram` with one coordinate a step);
the chunk's changes go back into the residual in one more product. A chunk costs two passes over its columns and
:math:`|C|^2` host operations; the result is sequential coordinate descent, chunk by chunk.
"""

from __future__ import annotations

import numpy as np

from .._device import cupy_module
from ..kernels._cd import shotgun_epoch_gram

#: columns whose correlations are computed in one product (and whose Gram matrix the block keeps: |C|^2 numbers)
CHUNK_COLUMNS = 128


def device_column_piece(chunk, cols):
    """Columns ``cols`` (a contiguous range) of one CuPy row chunk, F-ordered float64."""
    cp = cupy_module()
    if not isinstance(chunk, cp.ndarray):
        raise TypeError("ShotgunLasso on GPU workers takes a dask array of dense CuPy chunks; got a chunk of "
                        f"{type(chunk).__name__}")
    return cp.asfortranarray(chunk[:, cols[0]:cols[-1] + 1], dtype=cp.float64)


class DeviceColumnBlock:
    """Columns ``cols`` of X on the current GPU (F-ordered float64), with their weighted statistics and the centred
    Gram matrix of each chunk of :data:`CHUNK_COLUMNS` columns (on the host)."""

    on_gpu = True

    @classmethod
    def from_pieces(cls, pieces, s, cols, fit_intercept):
        """The block from its columns' row pieces, written into one F-ordered device array."""
        from ._hydra import stack_pieces  # (_hydra imports this module)

        return cls(stack_pieces(pieces, len(cols), cupy_module()), s, cols, fit_intercept)

    def __init__(self, X, s, cols, fit_intercept):
        cp = cupy_module()
        self.X = cp.asfortranarray(X, dtype=cp.float64)
        self.s = cp.asarray(s, dtype=cp.float64)
        self.cols = np.asarray(cols)
        n, m = self.X.shape
        self.n = n
        colsum = self.s @ self.X if fit_intercept else cp.zeros(m)
        self._xbar = colsum / n
        self.xbar = cp.asnumpy(self._xbar)
        unit = bool((self.s == 1.0).all())
        root = None if unit else cp.sqrt(self.s)
        self.grams = []
        sq = np.empty(m)
        for a in range(0, m, CHUNK_COLUMNS):
            Xc = self.X[:, a:a + CHUNK_COLUMNS]
            Z = Xc if unit else Xc * root[:, None]  # the weights' roots: S^(1/2) X_C, a chunk's copy at most
            G = cp.asnumpy(Z.T @ Z) / n
            xb = self.xbar[a:a + CHUNK_COLUMNS]
            # about the weighted mean: s sums to n (the driver's normalisation), so the centring is - xbar xbar^T
            G -= np.outer(xb, xb)
            sq[a:a + G.shape[0]] = np.diag(G)
            self.grams.append(G)
        self.L = np.maximum(sq, 0.0)

    def gradient(self, r):
        """``X~^T S r / n`` of every column at the device residual ``r``."""
        sr = self.s * r
        return (self.X.T @ sr - self._xbar * sr.sum()) / self.n

    def centred_matvec(self, v):
        """``(X - xbar) v`` on the device, for the block's coordinates ``v`` (host)."""
        cp = cupy_module()
        v = cp.asarray(v, dtype=cp.float64)
        return self.X @ v - float(self._xbar @ v)


def hydra_task(block, l1, l2, positive, sigma, n_epochs, r, w, seed, selection):
    """:func:`skpar.parallel._hydra.hydra_task` on a GPU column block: ``(z_k, w_k_new, delta_k)`` as NumPy."""
    cp = cupy_module()
    r0 = cp.asarray(r, dtype=cp.float64)
    z = cp.asnumpy(block.gradient(r0))
    w = np.array(w, dtype=np.float64)
    rloc = r0.copy()
    chunks = list(range(len(block.grams)))
    rng = np.random.default_rng(seed)
    for _ in range(n_epochs):
        for c in (rng.permutation(chunks) if selection == "random" else chunks):
            a = c * CHUNK_COLUMNS
            G = block.grams[c]
            k = G.shape[0]
            Xc = block.X[:, a:a + k]
            sr = block.s * rloc
            zc = cp.asnumpy((Xc.T @ sr - block._xbar[a:a + k] * sr.sum()) / block.n)
            before = w[a:a + k].copy()
            wc = w[a:a + k]  # a view: the coordinate steps write into w
            order = rng.permutation(k) if selection == "random" else np.arange(k)
            # the CoCoA+ subproblem's curvature sigma G; z moves by sigma G dw, as the residual would
            shotgun_epoch_gram(sigma * G, zc, order, 1, wc, l1, l2, positive)
            d = w[a:a + k] - before
            if d.any():
                dd = cp.asarray(sigma * d)
                rloc -= Xc @ dd - float(block._xbar[a:a + k] @ dd)
    return z, w, cp.asnumpy((r0 - rloc) / sigma)


def centred_matvec(block, v):
    """:func:`skpar.parallel._hydra.centred_matvec` on a GPU column block, as NumPy."""
    return cupy_module().asnumpy(block.centred_matvec(v))
