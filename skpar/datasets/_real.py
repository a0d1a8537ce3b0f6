"""Real data shipped with skpar: the Shotgun paper's single-pixel-camera Lasso problem."""

from __future__ import annotations

from importlib import resources

import numpy as np


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
