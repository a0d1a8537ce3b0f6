"""Real data shipped with skpar: the Shotgun paper's single-pixel-camera Lasso problem and LIBSVM's a9a."""

from __future__ import annotations

from importlib import resources

import numpy as np
import scipy.sparse as sp


def load_mug32(normalize=True):
    """The single-pixel-camera Lasso problem of the Shotgun paper (Bradley et al. 2011), ``Mug32``.

    A 410 x 1024 measurement matrix of +-1 entries and 410 measurements. With unit-norm columns the spectral radius
    of ``A^T A`` gives ``P* = d / rho`` of about 158, the paper's ideal parallelism for this problem. Shipped as
    packed sign bits (the matrix has no other values) with the measurements in float64.

    Parameters
    ----------
    normalize : bool, default=True
        Scale every column of ``A`` to unit Euclidean norm, as the paper's P* assumes.

    Returns
    -------
    A : ndarray of shape (410, 1024)
        The measurement matrix, float64.
    y : ndarray of shape (410,)
        The measurements.
    """
    with resources.files("skpar.datasets").joinpath("data/mug32_singlepixcam.npz").open("rb") as f:
        data = np.load(f)
        shape = tuple(int(v) for v in data["shape"])
        signs = np.unpackbits(data["A_sign_bits"])[: shape[0] * shape[1]].reshape(shape)
        y = np.array(data["y"], dtype=np.float64)
    A = np.where(signs == 1, 1.0, -1.0)
    if normalize:
        A /= np.linalg.norm(A, axis=0)
    return A, y


def load_a9a():
    """LIBSVM's ``a9a`` (UCI Adult, binary): 32,561 training and 16,281 test rows of 123 sparse 0/1 features.

    The classic benchmark of the SGD, SDCA and CoCoA papers, shipped so that tests and benchmarks run on real data
    on any machine (as the row steps of each row's sorted feature indices, 240 kB). Labels are -1 and +1, as in
    LIBSVM's files; X is CSR with int32 indices, as scikit-learn's SGD and liblinear take it.

    Returns
    -------
    X_train : scipy.sparse.csr_matrix of shape (32561, 123)
        Training rows, float64 0/1.
    y_train : ndarray of shape (32561,)
        Training labels, -1.0 or 1.0.
    X_test : scipy.sparse.csr_matrix of shape (16281, 123)
        Test rows.
    y_test : ndarray of shape (16281,)
        Test labels.
    """
    with resources.files("skpar.datasets").joinpath("data/a9a.npz").open("rb") as f:
        data = np.load(f)
        parts = {part: (data[f"{part}_steps"], data[f"{part}_nnz"], data[f"{part}_y"]) for part in ("train", "test")}
    out = []
    for steps, nnz, y in parts.values():
        indptr = np.zeros(len(nnz) + 1, dtype=np.int32)
        np.cumsum(nnz, out=indptr[1:])
        # the steps restart at each row's first index: a running sum per row
        cum = np.cumsum(steps.astype(np.int32))
        row_base = np.repeat(cum[indptr[:-1]] - steps[indptr[:-1]], nnz)
        indices = (cum - row_base).astype(np.int32)
        X = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(nnz), 123))
        out += [X, np.where(y > 0, 1.0, -1.0)]
    return tuple(out)
