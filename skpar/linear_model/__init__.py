"""Estimators: parameters, validation and attributes; thin adapters onto the strategies of skpar.parallel."""

from ._sgd_classifier import AveragedSGDClassifier
from ._sgd_regressor import ParallelSGDRegressor

__all__ = ["AveragedSGDClassifier", "ParallelSGDRegressor"]
