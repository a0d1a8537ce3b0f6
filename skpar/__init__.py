"""skpar: parallel and distributed linear models behind the scikit-learn API.

Estimators fit on this machine's cores with no set-up (threads running compiled numba kernels), or on the Dask
cluster a ``distributed.Client`` is connected to.
"""

from .diagnostics import critical_batch_size
from .linear_model import (
    AveragedSGDClassifier,
    DualCoordinateAscentSVM,
    ParallelSGDRegressor,
    SGDClassifier,
    SGDRegressor,
    ShotgunLasso,
    ShotgunLassoCV,
    shotgun_lasso_path,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AveragedSGDClassifier",
    "DualCoordinateAscentSVM",
    "ParallelSGDRegressor",
    "SGDClassifier",
    "SGDRegressor",
    "ShotgunLasso",
    "ShotgunLassoCV",
    "__version__",
    "critical_batch_size",
    "shotgun_lasso_path",
]
