"""Which array module holds the data: found once, where data enters skpar, and passed down from there.

CuPy is optional (the ``gpu`` extra). Data is on the GPU when it is a ``cupy.ndarray``, a ``cupyx.scipy.sparse``
matrix, or a dask array whose chunks are either (its ``_meta``); anything else is host data for NumPy and SciPy.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def cupy_module():
    """The ``cupy`` module, or ``None`` where CuPy is not installed."""
    try:
        import cupy
        import cupyx.scipy.sparse  # noqa: F401  (the sparse formats must be importable too)
    except ImportError:
        return None
    return cupy


def on_gpu(X) -> bool:
    """True when ``X`` (an array, a sparse matrix or a dask array) keeps its values in GPU memory."""
    cp = cupy_module()
    if cp is None or X is None:
        return False
    meta = getattr(X, "_meta", None)
    if meta is not None and hasattr(X, "dask"):  # a dask collection: its chunks are like its meta
        X = meta
    import cupyx.scipy.sparse as cpsp

    return isinstance(X, cp.ndarray) or cpsp.issparse(X)


def array_module(X):
    """``cupy`` for data on the GPU (see :func:`on_gpu`), else ``numpy``."""
    return cupy_module() if on_gpu(X) else np


def is_sparse_gpu(X) -> bool:
    cp = cupy_module()
    if cp is None:
        return False
    import cupyx.scipy.sparse as cpsp

    return cpsp.issparse(X)


def to_host(a):
    """A NumPy copy of a CuPy array (small results: models, sums); NumPy input is returned as is."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


@functools.cache
def resident_warps(device_id=None) -> int:
    """Warps the current GPU keeps resident at once (SMs x max threads per SM / 32): how many workers fill it."""
    cp = cupy_module()
    dev = cp.cuda.Device() if device_id is None else cp.cuda.Device(device_id)
    attrs = dev.attributes
    return int(attrs["MultiProcessorCount"] * attrs["MaxThreadsPerMultiProcessor"] // 32)
