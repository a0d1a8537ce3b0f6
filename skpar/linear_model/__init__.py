"""Estimators: parameters, validation and attributes; thin adapters onto the strategies of skpar.parallel."""

from ._sgd_regressor import ParallelSGDRegressor

__all__ = ["ParallelSGDRegressor"]
