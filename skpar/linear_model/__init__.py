"""Estimators: parameters, validation and attributes; thin adapters onto the strategies of skpar.parallel."""

from ._dca_svm import DualCoordinateAscentSVM
from ._sgd_classifier import AveragedSGDClassifier
from ._sgd_dropin import SGDClassifier, SGDRegressor
from ._sgd_regressor import ParallelSGDRegressor
from ._shotgun_lasso import ShotgunLasso, alpha_max, shotgun_lasso_path
from ._shotgun_lasso_cv import ShotgunLassoCV

__all__ = [
    "AveragedSGDClassifier",
    "DualCoordinateAscentSVM", "ParallelSGDRegressor", "SGDClassifier", "SGDRegressor", "ShotgunLasso",
    "ShotgunLassoCV", "alpha_max",
    "shotgun_lasso_path"]
