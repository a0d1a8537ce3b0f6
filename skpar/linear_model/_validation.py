"""Input checks shared by the estimators: local arrays through scikit-learn, dask collections without computing.

Local input (NumPy, SciPy sparse, pandas, lists) goes through ``validate_data``: NaN, inf, object and complex
dtypes, shape mismatches and empty data raise scikit-learn's errors. A dask array or dataframe is checked on what is
known without computing (dimensions, dtype, chunk sizes, a dataframe's column names); NaN and inf inside its chunks,
and negative weights, are found on the workers: by the blocks when they are built, and by a check on each chunk
(``checked_chunks``) where no block is built (``predict``, ShotgunLasso's column pieces).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._device import to_host
from .._dtypes import as_float, check_squares_finite
from ..backend import check_gpu_fit_data, check_gpu_predict_data, checked_chunks, data_kind, is_dask_collection


def _dask_to_array(X, name="X"):
    """A dask dataframe/series as a dask array with known chunk sizes; a dask array checked for known sizes."""
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    if any(np.isnan(c) for dim in X.chunks for c in dim):
        raise ValueError(
            f"{name} is a dask array of unknown chunk sizes (as from a dataframe's .values); call "
            f"`{name}.compute_chunk_sizes()` or use `.to_dask_array(lengths=True)` first"
        )
    return X


def _dask_float(X, name):
    return as_float(X, name, "a dask array")


def check_fit_data(est, X, y, sample_weight, *, reset, y_numeric=True):
    """Validate training data; returns ``X, y, sample_weight, kind`` ready for ``backend.partition``, ``kind`` the
    :class:`~skpar.backend.DataKind` that the fit passes down (where the rows are, and whether they are sparse).

    Local X comes back as a C- or F-ordered float32/float64 array or a CSR matrix (CSC is converted once), y as
    float64 (``y_numeric``) or as the labels given (classifiers encode them), sample_weight as float64 or None.
    Dask X stays lazy. X on the GPU (CuPy, ``cupyx`` sparse) is checked there and stays there, with y and the
    weights moved to it.
    """
    X, y, sample_weight = _checked_fit_data(est, X, y, sample_weight, reset, y_numeric)
    return X, y, sample_weight, data_kind(X)


def _checked_fit_data(est, X, y, sample_weight, reset, y_numeric):
    raw = data_kind(X)
    if raw.local_gpu:
        return check_gpu_fit_data(est, X, y, sample_weight, reset=reset, y_numeric=y_numeric)
    if raw.dask:
        # a dask dataframe's column names are checked (and with ``reset`` stored) as a pandas frame's are: its
        # ``_meta`` is an empty pandas frame with its columns (scikit-learn does not read dask frames' names)
        _check_feature_names(est, X._meta, reset=reset)
        X = _dask_float(_dask_to_array(X), "X")
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array, got a dask array of shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
        if X.shape[1] == 0:
            raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if reset:
            est.n_features_in_ = int(X.shape[1])
        elif X.shape[1] != est.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                             f"{est.n_features_in_} features as input.")
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        if is_dask_collection(y):
            y = _dask_to_array(y, "y")
            y = _dask_float(y, "y") if y_numeric else y
        elif y_numeric:
            y = np.asarray(y, dtype=np.float64).reshape(-1)
            if not np.isfinite(y).all():
                raise ValueError("Input y contains NaN or infinity.")
        else:
            y = np.asarray(y).reshape(-1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: [{X.shape[0]}, "
                             f"{y.shape[0]}]")
        if sample_weight is not None and not is_dask_collection(sample_weight):
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sample_weight.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},)!")
            if (sample_weight < 0).any():
                raise ValueError("Negative values in data passed to `sample_weight`")
        return X, y, sample_weight
    # X's values are checked once, below, not also by validate_data
    X, y = validate_data(est, X, y, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
                         y_numeric=y_numeric, reset=reset, ensure_all_finite=False)
    if sp.issparse(X):
        X = X.tocsr()
    _check_values(est, X)
    if y_numeric:
        y = np.asarray(y, dtype=np.float64)
        check_squares_finite("y", y)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    return X, y, sample_weight


def _check_values(est, X):
    """NaN, inf and values too large to square in X, with scikit-learn's error for the first two.

    Float64 values are read once: the sum of their squares (:func:`check_squares_finite`, which every solver needs)
    is finite only where every value is, so scikit-learn's own pass (``_assert_all_finite``) runs only where that
    sum is not, to name NaN or inf as scikit-learn does. Validation read them twice before: 104 of ``validate_data``'s
    243 us on Reuters, 299 of 440 on 20 Newsgroups (docs/benchmarks.md). Float32 squares cannot overflow in float64,
    so float32 values take scikit-learn's check alone."""
    values = X.data if sp.issparse(X) else X
    if values.dtype != np.float64:
        _assert_all_finite(values, input_name="X", estimator_name=type(est).__name__)
        return
    try:
        check_squares_finite("X", X)
    except ValueError:
        _assert_all_finite(values, input_name="X", estimator_name=type(est).__name__)  # NaN or inf, named
        raise  # finite values too large to square


def check_predict_data(est, X):
    """Validate data for ``predict``: dask collections stay lazy, with their column names and feature count checked
    now and their values (NaN, inf) where each chunk is computed."""
    check_is_fitted(est)
    if data_kind(X).local_gpu:
        return check_gpu_predict_data(est, X)
    return _checked_rows(est, X)


def check_validation_data(est, X_val, y_val, sample_weight_val, *, early_stopping, y_numeric):
    """``fit``'s explicit validation set (``X_val``, ``y_val``, ``sample_weight_val``, scikit-learn's names from
    ``HistGradientBoosting*``), checked as ``predict``'s data against the features ``fit`` has just read:
    ``(X_val, y_val, sample_weight_val)``, or None where none was given. ``y_val`` is float64 for a regressor,
    the labels as given for a classifier (which checks them against its classes)."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val")
        return None
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    if not early_stopping:
        raise ValueError("X_val and y_val are passed to fit while early_stopping is False: they are the validation "
                         "set of early stopping; set early_stopping=True")
    if data_kind(X_val).local_gpu:
        X_val = check_gpu_predict_data(est, X_val, "X_val")
    else:
        X_val = _checked_rows(est, X_val)
        if is_dask_collection(X_val):  # a validation set is small: it comes to the driver once, where it is scored
            X_val = X_val.compute()
    n_val = X_val.shape[0]
    if is_dask_collection(y_val):
        y_val = y_val.compute()
    y_val = to_host(y_val).reshape(-1)
    if y_numeric:
        y_val = y_val.astype(np.float64)
        if not np.isfinite(y_val).all():
            raise ValueError("Input y_val contains NaN or infinity.")
    if y_val.shape[0] != n_val:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: X_val has {n_val}, y_val "
                         f"{y_val.shape[0]}")
    if sample_weight_val is not None:
        sample_weight_val = _check_sample_weight(to_host(sample_weight_val), np.empty((n_val, 0)),
                                                 dtype=np.float64, ensure_non_negative=True)
    return X_val, y_val, sample_weight_val


def _checked_rows(est, X):
    """Host or dask rows for a fitted model's methods (or ``fit``'s validation set), checked as ``predict``'s."""
    kind = data_kind(X)
    if kind.dask:
        _check_feature_names(est, X._meta, reset=False)
        if hasattr(X, "to_dask_array"):
            X = X.to_dask_array()
        X = _dask_float(X, "X")
        if X.ndim != 2 or X.shape[1] != est.n_features_in_:
            raise ValueError(f"X has {X.shape[-1]} features, but {type(est).__name__} is expecting "
                             f"{est.n_features_in_} features as input.")
        return checked_chunks(X.rechunk({1: -1}))
    return validate_data(est, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32], reset=False)
