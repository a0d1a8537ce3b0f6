"""The dtype and value checks every lazily or remotely held input goes through (dask arrays, CuPy arrays).

Host arrays go through scikit-learn's ``validate_data``; arrays it cannot see get the same messages from here.
"""

from __future__ import annotations

import numpy as np


def as_float(X, name, kind_of_array):
    """``X`` as float32/float64 (other numeric dtypes become float64); complex and non-numeric dtypes raise.

    Works on any array with ``dtype`` and ``astype`` (NumPy, dask, CuPy); ``kind_of_array`` names it in messages.
    """
    kind = X.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}")
    if kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got {kind_of_array} of dtype {X.dtype}")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return X


def check_values(name, arr, *, where="", xp=np, non_negative=False):
    """Raise scikit-learn's error for NaN or inf in ``arr`` (and for negative entries with ``non_negative``).

    For arrays that ``validate_data`` never saw: chunks of a dask array, checked on the worker that holds them, and
    CuPy arrays, checked on their GPU (``xp`` is their array module). Sparse matrices are checked on their stored
    values. ``where`` ends the message (for example which block of a dask array).
    """
    values = arr.data if hasattr(arr, "nnz") else arr
    if values.dtype.kind not in "fc":  # integers and booleans hold no NaN or inf
        finite = True
    else:
        finite = bool(xp.isfinite(values).all())
    if not finite:
        raise ValueError(f"Input {name} contains NaN or infinity{where}.")
    if non_negative and bool((values < 0).any()):
        raise ValueError(f"Negative values in data passed to `{name}`{where}.")


#: values from which :func:`check_squares_finite` sums on BLAS's threads (2^22: 32 MB of float64)
SQUARES_BLAS_VALUES = 1 << 22


def check_squares_finite(name, arr, *, where="", xp=np):
    """Raise a ValueError naming ``arr`` when the sum of its squared float64 entries overflows.

    Every solver forms second moments (row or column norms, a Gram matrix, the zero model's loss); past about
    1.3e154 in magnitude their squares are infinite, and a fit on such values would end on a zero or NaN model
    without a word (seen: ``X * 1e300`` gave the regressor a zero model). A finite sum of all squares bounds every
    partial sum the solvers take. One pass over the stored values, a fraction of ``validate_data``'s own
    cost. Float32 values cannot overflow it (their squares, summed in float64, stay far
    below its range), so only float64 arrays are summed.
    """
    values = arr.data if hasattr(arr, "nnz") else arr
    if values.dtype != np.float64 or values.size == 0:
        return
    flat = values.ravel(order="K") if values.flags.c_contiguous or values.flags.f_contiguous else values.ravel()
    with np.errstate(over="ignore"):  # the overflow is the finding, said below
        # Few values: einsum's own loop, one thread. BLAS's threads sleep after a fit's compiled epochs, and waking
        # them took 4-15 ms a call on Reuters' 340,000 values with both cores busy. Many values: BLAS's dot on its
        # threads, since one thread's pass over gigabytes costs more than the fit's own validation
        small = flat.size < SQUARES_BLAS_VALUES
        total = np.einsum("i,i->", flat, flat) if xp is np and small else xp.vdot(flat, flat)
    if bool(xp.isfinite(total)):
        return
    # worded to match scikit-learn's SGD error for the same data, so that code written against it still reads it
    raise ValueError(
        f"Floating-point under-/overflow occurred at epoch #0 (before the first): Input {name} has values too large "
        f"to square in float64 (largest magnitude {float(xp.abs(flat).max()):.3g}){where}. Scaling input data with "
        "StandardScaler or MinMaxScaler might help."
    )


def check_block_values(X, y, sample_weight, index, xp=np):
    """The checks ``validate_data`` makes on the driver, made where a dask array's chunk became a block: NaN or inf
    in X, y or the weights, and negative weights, raise a ValueError that names the block."""
    where = f" (in block {index} of the dask array)"
    check_values("X", X, where=where, xp=xp)
    check_values("y", y, where=where, xp=xp)
    check_values("sample_weight", sample_weight, where=where, xp=xp, non_negative=True)
    check_squares_finite("X", X, where=where, xp=xp)
    if y is not None and y.dtype.kind == "f":
        check_squares_finite("y", y, where=where, xp=xp)
