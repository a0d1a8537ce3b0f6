"""ShotgunLassoCV: the Lasso's alpha chosen by cross-validation over warm-started Shotgun paths."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.linear_model._base import LinearModel
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from .._dtypes import check_squares_finite
from ..backend import get_backend
from ._n_blocks import n_threads
from ._persistence import ClientParamMixin
from ._predict import LinearRegressorMixin
from ._shotgun_lasso import ShotgunLasso, _checked_targets, alpha_max, shotgun_lasso_path


class _FoldData:
    """The fit's rows, placed once a worker as one object (Dask scatters a tuple's items one by one)."""

    def __init__(self, X, y, sample_weight):
        self.X, self.y, self.sample_weight = X, y, sample_weight


def _fold_path(data, train, test, alphas, params):
    """Mean squared errors on ``test`` of the path fitted on ``train`` (one per alpha, in ``alphas``' order), from
    the rows of ``data`` (a :class:`_FoldData`)."""
    X, y, sample_weight = data.X, data.y, data.sample_weight
    Xt, yt = X[train], y[train]
    st = None if sample_weight is None else sample_weight[train]
    _, coefs, _ = shotgun_lasso_path(Xt, yt, alphas=alphas, sample_weight=st, **params)
    s = np.ones(yt.shape[0]) if st is None else st
    if params.get("fit_intercept", True):
        xbar = np.asarray(s @ Xt, dtype=np.float64).ravel() / s.sum()
        intercepts = float(s @ yt) / s.sum() - xbar @ coefs
    else:
        intercepts = np.zeros(coefs.shape[1])
    residual = y[test][:, None] - (X[test] @ coefs) - intercepts
    return np.mean(residual ** 2, axis=0)


class ShotgunLassoCV(ClientParamMixin, LinearRegressorMixin, RegressorMixin, LinearModel):
    """The Lasso with ``alpha`` chosen by cross-validation, each fold's path fitted by warm-started Shotgun.

    For every fold, :func:`~skpar.linear_model.shotgun_lasso_path` fits the training rows down the alphas, each fit
    starting where the previous alpha's ended (on host data one validated problem and one spectral radius serve every
    alpha); the folds run at once, on the threads or as tasks on the active Dask client. The alpha with the lowest
    mean squared error over the folds is then fitted on all the data. The objective, as
    :class:`~sklearn.linear_model.LassoCV`'s,

    .. math::

        \\min_{w, b} \\; \\frac{1}{2 n} \\sum_{i=1}^n s_i (y_i - x_i^\\top w - b)^2 + \\alpha \\|w\\|_1 .

    Parameters
    ----------
    eps : float, default=1e-3
        The smallest alpha over ``alpha_max`` when ``alphas`` is a count.
    alphas : int or array-like, default=100
        The alphas to try, or how many, log-spaced from ``alpha_max`` (the smallest alpha whose fit is zero) down to
        ``eps * alpha_max`` (scikit-learn's ``LassoCV`` since 1.7 reads it the same way).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    max_iter : int, default=1000
        Epochs of each fit (:class:`~skpar.ShotgunLasso`'s).
    tol : float, default=1e-4
        Each fit's duality-gap tolerance (:class:`~skpar.ShotgunLasso`'s rule).
    cv : int, cross-validation generator or iterable, default=None
        The folds, as scikit-learn's ``check_cv`` reads them (``None``: 5-fold).
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    selection : {'cyclic', 'random'}, default='cyclic'
        Order of the coordinates within an epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of each fit (``selection='random'``, the spectral radius estimate).
    n_jobs : int or None, default=None
        Threads over which the folds run (``None``: every core).
    client : distributed.Client, 'threads' or None, default=None
        Where the folds run: an explicit client, else the active one, else threads.

    Attributes
    ----------
    alpha_ : float
        The alpha chosen.
    alphas_ : ndarray of shape (n_alphas,)
        The alphas tried, decreasing.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Mean squared error on each fold's test rows, for each alpha.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        The final fit's duality gap.
    n_iter_ : int
        The final fit's epochs.
    n_features_in_ : int

    See Also
    --------
    sklearn.linear_model.LassoCV : The same selection by scikit-learn's coordinate descent.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skpar import ShotgunLassoCV
    >>> X, y = make_regression(n_samples=200, n_features=30, n_informative=5, noise=1.0, random_state=0)
    >>> cv = ShotgunLassoCV(cv=3, alphas=20, random_state=0).fit(X, y)
    >>> cv.mse_path_.shape
    (20, 3)
    """

    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        # the rest as the Lasso's own fits take them
        **{k: ShotgunLasso._parameter_constraints[k] for k in ("fit_intercept", "max_iter", "tol", "positive",
                                                               "selection", "random_state", "n_jobs", "client")},
    }

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000, tol=1e-4, cv=None,
                 positive=False, selection="cyclic", random_state=None, n_jobs=None, client=None):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.positive = positive
        self.selection = selection
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.client = client

    def _lasso_params(self):
        # every fold's fits run on one thread each: the folds are the parallelism
        return dict(fit_intercept=self.fit_intercept, max_iter=self.max_iter, tol=self.tol, positive=self.positive,
                    selection=self.selection, random_state=self.random_state, n_jobs=1, client="threads")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Cross-validate the alphas, then fit the best on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : ShotgunLassoCV
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], y_numeric=True)
        check_squares_finite("X", X)
        check_squares_finite("y", np.asarray(y, dtype=np.float64))
        y, sample_weight = _checked_targets(y, sample_weight)
        if isinstance(self.alphas, Integral):
            amax = alpha_max(X, y, sample_weight, self.fit_intercept)
            alphas = np.geomspace(amax, amax * self.eps, self.alphas) if amax > 0 else np.zeros(1)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=float).ravel())[::-1]
        folds = list(check_cv(self.cv).split(X, y))
        params = self._lasso_params()
        backend = get_backend(self.client, n_threads(self.n_jobs, len(folds)))  # a thread a fold at most
        try:
            # the data placed once a worker (a handle to the arrays themselves on threads), each fold's task run
            # where its copy is: a task a fold carrying X would send it once a fold
            data = _FoldData(X, y, sample_weight)
            copies = backend.place([data] * max(1, min(len(folds), backend.n_processes)))
            futures = [backend.submit(_fold_path, copies[f % len(copies)], train, test, alphas, params)
                       for f, (train, test) in enumerate(folds)]
            mse = np.array(backend.gather(futures)).T
        finally:
            backend.close()
        best = int(np.argmin(mse.mean(axis=1)))
        final = ShotgunLasso(alpha=float(alphas[best]), **{**params, "n_jobs": self.n_jobs})
        final.fit(X, y, sample_weight=sample_weight)
        self.alphas_, self.mse_path_, self.alpha_ = alphas, mse, float(alphas[best])
        self.coef_, self.intercept_ = final.coef_, final.intercept_
        self.dual_gap_, self.n_iter_ = final.dual_gap_, final.n_iter_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
