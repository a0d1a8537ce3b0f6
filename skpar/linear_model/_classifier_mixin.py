"""What the linear classifiers share: label encoding, class weights, decision function and predict."""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from .._device import array_module, on_gpu, to_host
from ..backend import is_dask_collection, label_counts, linear_scores, unique_labels
from ..kernels._labels import label_codes, label_presence, label_span
from ._predict import frame_predictions
from ._validation import check_predict_data


def _decision_block(X, coef, intercept):
    return linear_scores(X, coef, intercept)


#: the widest span of integer labels read through a table (:mod:`skpar.kernels._labels`; an int32 entry a value)
MAX_LABEL_SPAN = 1 << 20
#: the label dtypes the table's kernels are compiled for (others take NumPy's unique and searchsorted)
TABLE_DTYPES = (np.dtype(np.int64), np.dtype(np.float64))


def _whole(values):
    """Whether every float in ``values`` is a finite integer that float64 holds exactly (below 2^53)."""
    return bool(np.isfinite(values).all() and (np.abs(values) < 2.0 ** 53).all()
                and (values == np.round(values)).all())


def _table_labels(y):
    """The distinct labels of a host 1-D ``y`` of int64 or float64 integers within a span of
    :data:`MAX_LABEL_SPAN`, from a table of the values present (sorted, ``y``'s dtype, as ``np.unique`` gives
    them); ``None`` for anything else."""
    if y.dtype not in TABLE_DTYPES or not y.size:
        return None
    low, high, integral = label_span(y)
    if not integral or int(high) - int(low) >= MAX_LABEL_SPAN:  # (Python ints: no int64 wrap-around)
        return None
    present = label_presence(y, low, int(high - low) + 1)
    return (np.flatnonzero(present) + low).astype(y.dtype)


def _table_codes(y, classes):
    """:func:`_encode_labels` through a table where ``y`` is a host int64 or float64 array and ``classes`` are
    integers within :data:`MAX_LABEL_SPAN`; ``None`` where they are not."""
    if (not isinstance(y, np.ndarray) or y.dtype not in TABLE_DTYPES or not y.size
            or classes.dtype.kind not in "iuf" or not len(classes)):
        return None
    low, high = classes[0], classes[-1]  # (classes_ are sorted)
    if classes.dtype.kind == "f" and not _whole(classes):
        return None
    if int(high) - int(low) >= MAX_LABEL_SPAN:
        return None
    table = np.full(int(high) - int(low) + 1, -1, dtype=np.int32)
    table[(classes - low).astype(np.intp)] = np.arange(len(classes), dtype=np.int32)
    out = np.empty(y.shape[0])
    if label_codes(y.reshape(-1), y.dtype.type(low), table, out) >= 0:
        raise ValueError(f"y contains labels not in classes_ {classes.tolist()}")
    return out


def _encode_labels(y, classes):
    """Class indices of the labels ``y`` (as float64, as the kernels read them); unknown labels raise.

    Integer labels within a small span are looked up in a table (:func:`_table_codes`), others found by binary
    search. CuPy labels are encoded on the GPU (``classes`` is then a host array of numbers)."""
    codes = _table_codes(y, np.asarray(classes)) if getattr(y, "ndim", 0) == 1 else None
    if codes is not None:
        return codes
    xp = array_module(y)
    cl = xp.asarray(classes)
    idx = xp.searchsorted(cl, y)
    if bool((cl[xp.minimum(idx, len(classes) - 1)] != y).any()):
        raise ValueError(f"y contains labels not in classes_ {classes.tolist()}")
    return idx.astype(xp.float64)


def _label_block(scores, classes):
    xp = array_module(scores)
    if scores.ndim == 1 or scores.shape[1] == 1:
        idx = (scores.reshape(-1) > 0).astype(xp.intp)
    else:
        idx = scores.argmax(axis=1)
    if xp is np:
        return classes[idx]
    # labels of GPU scores stay on the GPU where CuPy can hold them (numbers), else come to the host
    return xp.asarray(classes)[idx] if classes.dtype.kind in "biuf" else classes[to_host(idx)]


def _checked_labels(y):
    """The distinct labels of a host ``y`` (None where ``y`` is not a 1-D array of numbers), after scikit-learn's
    check that they are classes (not a regression target).

    1-D numbers whose distinct values are integers (exactly representable) are binary or multiclass targets for
    scikit-learn too: for them the check is read off the distinct values, which the fit needs anyway, instead of
    ``check_classification_targets``' own passes over ``y`` (180 us of a 10 ms fit on Reuters' 7,770 labels,
    against 40 us for the distinct values: docs/benchmarks.md). Anything else goes through scikit-learn's check,
    which names what is wrong."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.size and y.dtype.kind in "biuf":
        labels = _table_labels(y)
        if labels is not None:
            return labels
        labels = np.unique(y)
        if y.dtype.kind != "f" or _whole(labels):
            return labels
    check_classification_targets(y)
    return None


class LinearClassifierMixin:
    """Label encoding for one-vs-rest outputs and prediction from ``coef_`` (n_outputs, d) and ``intercept_``."""

    def _encode_targets(self, y, sample_weight, first):
        classes = self.__dict__.pop("_pending_classes", None)  # from the first partial_fit
        if is_dask_collection(y):
            # distinct labels reduced where the chunks are: only they come to the driver, never all of y
            labels = to_host(unique_labels(y)) if classes is None else None
            if labels is not None:  # NaN, continuous or mixed labels are named as for a NumPy y
                check_classification_targets(labels)
        elif on_gpu(y):  # checked on the GPU by skpar.backend._device_input; the distinct labels come to the host
            labels = to_host(array_module(y).unique(y)) if classes is None else None
        else:
            labels = _checked_labels(y)
        if first:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
            else:
                self.classes_ = labels if labels is not None else np.unique(to_host(y))
            if len(self.classes_) < 2:
                raise ValueError(f"The number of classes has to be greater than one; got {len(self.classes_)} "
                                 "class")
        classes_ = self.classes_
        if is_dask_collection(y):
            # lazily: the blocks are built from the encoded chunks on the workers
            y_enc = y.map_blocks(_encode_labels, classes_, dtype=np.float64)
            counts = None
            if self.class_weight == "balanced":
                counts = to_host(label_counts(y_enc, len(classes_)))
        elif on_gpu(y):
            y_enc = _encode_labels(y, classes_)
            counts = to_host(array_module(y).bincount(y_enc.astype(np.int64), minlength=len(classes_)))
        else:
            y_enc, counts = _encode_labels(np.asarray(y), classes_), None
        cw = self._class_weights(y_enc if counts is None else None, counts)
        if len(classes_) == 2:
            return y_enc, 1, cw[1:2], cw[0:1]
        return y_enc, len(classes_), cw, np.ones(len(classes_))

    def _class_weights(self, y_enc, counts):
        K = len(self.classes_)
        if self.class_weight is None:
            return np.ones(K)
        if self.class_weight == "balanced":
            if counts is None:
                return compute_class_weight("balanced", classes=np.arange(K), y=y_enc.astype(np.intp))
            return counts.sum() / (K * np.maximum(counts, 1))
        cw = np.ones(K)
        for label, weight in self.class_weight.items():
            where = np.flatnonzero(self.classes_ == label)
            if where.size == 0:
                raise ValueError(f"class_weight names the label {label!r}, which is not among the classes "
                                 f"{self.classes_.tolist()}")
            cw[where[0]] = weight
        return cw

    def decision_function(self, X):
        """Signed distances to the hyperplanes.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, CuPy array} of shape (n_samples, n_features)
            The samples to score.

        Returns
        -------
        scores : ndarray or dask array of shape (n_samples,) or (n_samples, n_classes)
            One column per class (one column, raveled, for two classes).
        """
        X = check_predict_data(self, X)
        binary = self.coef_.shape[0] == 1
        if is_dask_collection(X):
            out = X.map_blocks(_decision_block, self.coef_, self.intercept_,
                               dtype=np.result_type(X.dtype, self.coef_.dtype),
                               chunks=(X.chunks[0], (self.coef_.shape[0],)))
            return out[:, 0] if binary else out
        scores = _decision_block(X, self.coef_, self.intercept_)
        return scores.ravel() if binary else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame, CuPy array} of shape (n_samples, n_features)
            The samples to label, each by its largest score (by the sign of its score for two classes).

        Returns
        -------
        labels : ndarray, dask array or dask Series of shape (n_samples,)
            The class of the largest score (of a positive score for two classes); lazy for a dask array, a dask
            Series with the same partitions and index for a dask DataFrame.
        """
        frame = frame_predictions(self, X)
        if frame is not None:
            return frame
        scores = self.decision_function(X)
        if is_dask_collection(scores):
            return scores.map_blocks(_label_block, self.classes_, drop_axis=list(range(1, scores.ndim)),
                                     dtype=self.classes_.dtype)
        return _label_block(scores, self.classes_)

