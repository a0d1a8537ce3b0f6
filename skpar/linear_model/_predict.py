"""Prediction of the linear regressors, written once: local, CuPy and lazy dask input."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from .._device import on_gpu
from ..backend import is_dask_collection, linear_scores
from ._validation import check_predict_data


def _predict_block(X, coef, intercept):
    if on_gpu(X):
        return linear_scores(X, coef[None, :], intercept).ravel()
    if sp.issparse(coef):  # sparsify()'d: scikit-learn's 1-d sparse row, which scipy cannot reshape or transpose
        coef = np.asarray(coef.toarray()).ravel()
    return safe_sparse_dot(X, coef) + intercept


def frame_predictions(est, X):
    """``est.predict`` of a dask DataFrame, partition by partition: a dask Series with ``X``'s partitions and index
    (what dask-ml's estimators give); None for any other ``X``. Each partition is predicted as a pandas frame, so
    its column names are checked as a local frame's are."""
    if not (is_dask_collection(X) and hasattr(X, "map_partitions") and hasattr(X, "columns")):
        return None
    import pandas as pd

    check_predict_data(est, X)  # now, not when computed: the fit, the column names and their count (lazily cheap)
    dtype = est.classes_.dtype if hasattr(est, "classes_") else np.result_type(np.float64, est.coef_.dtype)
    return X.map_partitions(_partition_predictions, est, meta=pd.Series(dtype=dtype))


def _partition_predictions(frame, est):
    import pandas as pd

    return pd.Series(est.predict(frame), index=frame.index)


class LinearRegressorMixin:
    """``predict`` from ``coef_`` (n_features,) and ``intercept_`` (a scalar, or an array of one)."""

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame, CuPy array} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray, CuPy array, dask array or dask Series of shape (n_samples,)
            ``X @ coef_ + intercept_``; lazy (``map_blocks``) for a dask array, a dask Series with the same
            partitions and index for a dask DataFrame, CuPy for CuPy input.
        """
        frame = frame_predictions(self, X)
        if frame is not None:
            return frame
        X = check_predict_data(self, X)
        b = self.intercept_ if np.ndim(self.intercept_) == 0 else self.intercept_[0]
        if is_dask_collection(X):
            return X.map_blocks(_predict_block, self.coef_, b, drop_axis=1,
                                dtype=np.result_type(X.dtype, self.coef_.dtype))
        return _predict_block(X, self.coef_, b)
