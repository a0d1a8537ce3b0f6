"""Early stopping's validation data for the SGD estimators: the rows held out of the training data, drawn as
scikit-learn draws them, or an explicit validation set (``fit``'s ``X_val``, ``y_val``, ``sample_weight_val``) and
its score.

:class:`ValidationMixin` is a part of :class:`~skpar.linear_model._sgd_base.BaseParallelSGD`; an estimator supplies
:meth:`~ValidationMixin._score_outputs` (R^2 or accuracy) and, where its targets are encoded,
:meth:`~ValidationMixin._validation_targets`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from .._device import to_host
from ..backend._device_input import linear_scores
from ._validation import check_validation_data


class ValidationMixin:
    """The held-out rows and the explicit validation set of an SGD estimator's fit (see the module)."""

    def _validation_targets(self, X_val, y_val, sample_weight_val):
        """The explicit validation set with its targets as the score reads them (a classifier: class indices)."""
        return X_val, y_val, sample_weight_val

    def _score_outputs(self, scores, y, sample_weight):
        """The validation score (R^2 or accuracy) of the outputs ``scores`` (n_val, n_outputs) for the targets
        ``y``, weighted by ``sample_weight`` (None: ones)."""
        raise NotImplementedError

    def _explicit_score(self, X_val, y_val, sample_weight_val):
        """Early stopping's score of a model ``(W, B)`` on an explicit validation set: R^2 (regressor) or accuracy
        (classifier), weighted by ``sample_weight_val``; the products on the validation set's device."""
        def score(model):
            W, B = model
            out = linear_scores(X_val, W, B if self.fit_intercept else np.zeros_like(B))
            return self._score_outputs(to_host(out).reshape(out.shape[0], -1), y_val, sample_weight_val)

        return score

    def _checked_validation_set(self, validation_set, partial):
        """``fit``'s explicit validation set, checked (after the targets: a classifier's validation labels are checked
        against its classes) and with its targets as the score reads them; None where none was given."""
        val = check_validation_data(self, *validation_set, early_stopping=self.early_stopping and not partial,
                                    y_numeric=not is_classifier(self))
        return None if val is None else self._validation_targets(*val)

    def _held_out_rows(self, y, sample_weight, kind):
        """``early_stopping``'s validation rows of local data as a boolean mask, drawn as scikit-learn draws them:
        a shuffle split of all the rows from ``random_state`` (stratified by class for a classifier), so the same
        rows on any number of blocks. None for a dask array, whose blocks hold out ``validation_fraction`` of their
        own rows each (drawn from their seeds: the rows are never all in one place)."""
        if kind.dask:
            return None
        splitter = StratifiedShuffleSplit if is_classifier(self) else ShuffleSplit
        split = splitter(test_size=self.validation_fraction, random_state=self.random_state)
        try:
            _, rows = next(split.split(np.zeros((y.shape[0], 1)), y))
        except ValueError as exc:  # an empty side, or a class too rare to stratify: say which parameter it is
            raise ValueError(f"early_stopping cannot hold out validation_fraction={self.validation_fraction} of "
                             f"{y.shape[0]} rows: {exc} Change validation_fraction, fit more rows, or fit without "
                             "early_stopping.") from exc
        if sample_weight is not None and not np.any(np.asarray(sample_weight)[rows] > 0):
            raise ValueError("The sample weights for validation set are all zero, consider using a different "
                             "random state.")
        mask = np.zeros(y.shape[0], dtype=bool)
        mask[rows] = True
        return mask
