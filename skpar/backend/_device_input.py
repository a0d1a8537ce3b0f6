"""Input checks for data already on the GPU: the checks scikit-learn makes on host data, made on the device.

Only scalars (a flag, a count) come back to the host; X, y and the weights stay where they are.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._device import cupy_module, is_sparse_gpu
from .._dtypes import as_float


def _float_array(X, name):
    return as_float(X, name, "a CuPy array")


def check_gpu_X(X, name="X"):
    """A C-ordered float32/float64 CuPy array or a sorted ``cupyx`` CSR matrix, checked for shape and finiteness."""
    cp = cupy_module()
    if is_sparse_gpu(X):
        X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(_float_array(X.data, name).dtype)
        values = X.data
    else:
        X = _float_array(cp.asarray(X), name)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array, got a CuPy array of shape {X.shape}")
        X = cp.ascontiguousarray(X)
        values = X
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if X.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if values.size and not bool(cp.isfinite(values).all()):
        raise ValueError(f"Input {name} contains NaN or infinity.")
    return X


def check_gpu_fit_data(est, X, y, sample_weight, *, reset, y_numeric=True):
    """:func:`skpar.linear_model._validation.check_fit_data` for CuPy (or ``cupyx`` sparse) X: y and the weights are
    moved to the GPU if they are not there."""
    cp = cupy_module()
    X = check_gpu_X(X)
    if reset:
        est.n_features_in_ = int(X.shape[1])
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = cp.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{X.shape[0]}, {y.shape[0]}]")
    if y_numeric:
        y = _float_array(y, "y").astype(cp.float64)
        if not bool(cp.isfinite(y).all()):
            raise ValueError("Input y contains NaN or infinity.")
    elif y.dtype.kind == "f":
        if not bool(cp.isfinite(y).all()):
            raise ValueError("Input y contains NaN or infinity.")
        if not bool((y == cp.round(y)).all()):
            raise ValueError("Unknown label type: continuous. Maybe you are trying to fit a classifier, which "
                             "expects discrete classes on a regression target with continuous values.")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"Unknown label type: labels of dtype {y.dtype} on the GPU")
    if sample_weight is not None:
        sample_weight = cp.asarray(sample_weight, dtype=cp.float64).reshape(-1)
        if sample_weight.shape[0] != X.shape[0]:
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},)!")
        if bool((sample_weight < 0).any()):
            raise ValueError("Negative values in data passed to `sample_weight`")
    return X, y, sample_weight


def check_gpu_predict_data(est, X, name="X"):
    """Checks for ``predict`` on CuPy input (the result stays a CuPy array); ``name`` the argument's name in the
    messages (``fit``'s ``X_val`` is checked as ``predict``'s data against the features ``fit`` has just read,
    before the estimator is fitted)."""
    if name == "X":
        check_is_fitted(est)
    X = check_gpu_X(X, name)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"{name} has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    return X


def linear_scores(X, coef, intercept):
    """``X @ coef.T + intercept`` in the array module of ``X`` (CuPy, ``cupyx`` sparse, or host arrays)."""
    cp = cupy_module()
    if cp is not None and (isinstance(X, cp.ndarray) or is_sparse_gpu(X)):
        c = cp.asarray(coef, dtype=X.dtype)
        out = X @ c.T
        return out + cp.asarray(intercept, dtype=out.dtype)
    from sklearn.utils.extmath import safe_sparse_dot

    return safe_sparse_dot(X, coef.T, dense_output=True) + intercept  # coef_ may be sparsified
