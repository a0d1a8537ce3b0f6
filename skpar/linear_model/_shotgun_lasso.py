"""``ShotgunLasso``: the Lasso (and elastic net) by parallel coordinate descent."""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearModel
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._device import to_host
from .._dtypes import check_squares_finite
from .._report import CallbackSupportMixin, reporting
from ..backend import check_gpu_fit_data, checked_chunks, compute, data_kind, delayed_column_blocks, get_backend
from ..backend._select import check_gpu_local_client
from ..parallel import ColumnBlock, DeviceLassoData, LassoData, SyncRounds, hydra_lasso, shotgun_lasso
from ..parallel._blas import one_blas_thread
from ..parallel._hydra import column_piece
from ..parallel._hydra_device import DeviceColumnBlock, device_column_piece
from ._n_blocks import auto_column_blocks
from ._persistence import ClientParamMixin
from ._predict import LinearRegressorMixin
from ._shared_docs import shared_parameters
from ._validation import check_fit_data


def alpha_max(X, y, sample_weight=None, fit_intercept=True, l1_ratio=1.0):
    """The smallest ``alpha`` for which the (elastic-net) Lasso solution is zero.

    It is :math:`\\max_j |\\tilde x_j^\\top (s \\odot \\tilde y)| / (n \\rho)`, with centred columns and targets
    (when ``fit_intercept``), sample weights :math:`s` scaled to sum to :math:`n` and :math:`\\rho` = ``l1_ratio``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The design matrix.
    y : array-like of shape (n_samples,)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights.
    fit_intercept : bool, default=True
        Centre X and y implicitly, as the fit does.
    l1_ratio : float, default=1.0
        Share of l1 in the elastic-net penalty.

    Returns
    -------
    alpha_max : float
        The smallest regularisation that zeroes every coefficient.
    """
    with one_blas_thread():  # the same alpha_max on any machine, as the fits' own passes
        data = LassoData.build(X, y, sample_weight, fit_intercept)
        return float(np.abs(data.gradient(data.yc)).max()) / max(l1_ratio, 1e-300)


@shared_parameters
class ShotgunLasso(ClientParamMixin, LinearRegressorMixin, RegressorMixin, CallbackSupportMixin, LinearModel):
    """Lasso and elastic net by Shotgun parallel coordinate descent, on threads or on a Dask cluster.

    Minimises scikit-learn's :class:`~sklearn.linear_model.Lasso` (``l1_ratio=1``) or
    :class:`~sklearn.linear_model.ElasticNet` objective,

    .. math::

        \\min_{w, b} \\; \\frac{1}{2 n} \\sum_{i=1}^n s_i (y_i - x_i^\\top w - b)^2 + \\alpha \\rho \\|w\\|_1
        + \\frac{\\alpha (1 - \\rho)}{2} \\|w\\|_2^2,

    with sample weights :math:`s_i` rescaled to sum to ``n`` (as scikit-learn does) and ``rho = l1_ratio``.

    On the thread backend every step updates ``n_parallel`` coordinates at once from the same residual (Shotgun,
    Bradley et al. 2011), the updates split over ``n_jobs`` threads; the number of steps falls nearly P-fold for P up
    to ``P* = d / rho``, ``rho`` the spectral radius of the Gram matrix of the unit-norm columns, and the iterates can
    diverge beyond it, so the fit watches the objective: an epoch whose objective rises is undone and P cut to half,
    or to the estimated ``P*`` if that is smaller. Working sets (the support plus
    the worst violators of the optimality conditions) keep epochs from sweeping columns that stay at zero. On a Dask
    cluster the columns are partitioned across the workers, each updates its own coordinates against the current
    residual, and the changes are added with the CoCoA+ safety factor (model parallelism). Both stop on the duality
    gap, a certificate of the distance to the optimum.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength.
    l1_ratio : float, default=1.0
        ``rho``: 1 is the Lasso, below 1 the elastic net.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (X is centred implicitly; sparse X is never densified).
    max_iter : int, default=1000
        Epochs (passes over the current working set) on threads; rounds on Dask.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * sum(s * (y - ybar)^2) / n`` (scikit-learn's rule).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    selection : {'cyclic', 'random'}, default='cyclic'
        Order of the coordinates within an epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of ``selection='random'`` and of the spectral radius estimate.
    n_parallel : int or 'auto', default='auto'
        P, the coordinates updated at once (threads). ``'auto'`` takes ``|working set| / rho``, within the P* of
        the working set.
    working_set : bool, default=True
        Solve on working sets; ``False`` runs Shotgun over all columns every epoch (the paper's algorithm). Thread
        backend only: on Dask every round sweeps each worker's columns, and ``n_parallel`` is the number of columns.
    n_blocks : int or 'auto', default='auto'
        Column blocks of the rounds that a Dask cluster runs (Hydra: each block updates its own columns against the
        round's residual, the changes added with the CoCoA+ factor). A count also runs those rounds on threads, so
        that the coefficients are the same to the bit on any thread count and on a cluster of any size. ``'auto'``:
        on threads, Shotgun on one problem (its parallel steps give the same coefficients on any thread count); on a
        cluster, a count from the data alone (a power of two up to 16, a block per 200,000 stored values at most),
        so that a default fit is the same on a cluster of any size.
    n_jobs : int or None, default=None
        Threads; ``None`` uses every core.
    client : distributed.Client, 'threads' or None, default=None
        Where to fit (an explicit client, else the active one, else threads).
    verbose : int, default=0
        The level of the ``skpar`` logger during the fit: 0 leaves it as the application set it; 1 or more logs
        every round at INFO (the round's ``history_`` row in the record as ``record.row``), to stdout where no
        handler is configured. With 0, a fit that runs past two seconds where a person is watching (a terminal, a
        notebook) shows a progress bar instead.
    %(callback_parameter)s

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Epochs (threads) or rounds (Dask) run.
    dual_gap_ : float
        Duality gap at the returned coefficients, in the objective's scale.
    n_parallel_ : int
        P used by the last step (after any halving by the guard); the number of columns on Dask.
    spectral_radius_ : float
        Estimate of ``rho`` (threads; on a row sample of at most 2,000 rows, to 1%%; NaN on Dask).
    history_ : list of dict
        Per outer iteration (threads) or round (Dask): ``time``, ``epochs``, ``steps`` (parallel steps of P
        updates), ``primal``, ``gap``, ``P``; guard events carry ``event``.
    n_recoveries_ : int
        Dask rounds run again because workers holding column blocks left the cluster (the blocks are placed again
        on live workers; the rounds then give the undisturbed answer).
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skpar import ShotgunLasso
    >>> X, y = make_regression(n_samples=500, n_features=200, n_informative=10, noise=1.0, random_state=0)
    >>> lasso = ShotgunLasso(alpha=1.0, n_jobs=2).fit(X, y)
    >>> int((lasso.coef_ != 0).sum()) <= 30
    True
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="right")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "selection": [StrOptions({"cyclic", "random"})],
        "random_state": ["random_state"],
        "n_parallel": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "working_set": ["boolean"],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
        "client": [None, StrOptions({"threads"}), object],
        "callback": [callable, None],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=1.0, fit_intercept=True, max_iter=1000, tol=1e-4, warm_start=False,
                 positive=False, selection="cyclic", random_state=None, n_parallel="auto", working_set=True,
                 n_blocks="auto", n_jobs=None, client=None, verbose=0, callback=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.selection = selection
        self.random_state = random_state
        self.n_parallel = n_parallel
        self.working_set = working_set
        self.n_blocks = n_blocks
        self.n_jobs = n_jobs
        self.client = client
        self.verbose = verbose
        self.callback = callback

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by parallel coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, CuPy array} of shape (n_samples, n_features)
            Training data (CSR is converted to CSC once; dense X is used in place).
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : ShotgunLasso
            Fitted estimator.
        """
        with reporting(self, self.max_iter):
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        start = time.perf_counter()
        raw = data_kind(X)  # the path (GPU, dask, local) is decided here, once
        if raw.gpu and not raw.dask:
            if self.n_blocks != "auto":
                raise ValueError(f"n_blocks={self.n_blocks!r}: CuPy data fits on its GPU as one problem; leave "
                                 "n_blocks='auto'")
            return self._fit_gpu(X, y, sample_weight, start)
        backend = get_backend(self.client, self.n_jobs)
        if raw.dask:
            # lazily checked; the targets and weights (n numbers) come to the driver, which keeps the residual.
            # On threads the chunks are computed into this process; on Dask they become column blocks on workers
            # (GPU column blocks where the chunks are CuPy arrays: parallel._hydra_device).
            X, y, sample_weight, _ = check_fit_data(self, X, y, sample_weight, reset=True)
            # no block is built from the row chunks: NaN, inf and squares past float64 are found on each chunk
            X = checked_chunks(X, squares=True)
            y, sample_weight = (None if a is None else to_host(a) for a in compute(y, sample_weight))
            if backend.in_process and raw.gpu:  # no cluster: the chunks come together on this GPU, one problem
                backend.close()
                return self._fit_gpu(X.compute(), y, sample_weight, start)
            if backend.in_process:
                X = X.compute()
        else:
            X, y = self._validated(X, y)
        y, sample_weight = _checked_targets(y, sample_weight)
        rng = check_random_state(self.random_state)
        l1, l2, w0 = self._start(X.shape[1], X, y, sample_weight)
        recoveries = 0
        try:
            if not backend.in_process or self.n_blocks != "auto":
                w, gap, n_iter, converged, p, rho, ybar, tol_abs, xbar, recoveries = self._fit_columns(
                    backend, X, y, sample_weight, w0, l1, l2, rng, start, raw.dask and not backend.in_process,
                    raw.gpu)
            else:
                # BLAS on one thread, the large passes in fixed row chunks on the fit's threads: the same
                # coefficients on any machine (parallel._blas.one_blas_thread)
                with one_blas_thread():
                    data = LassoData.build(X, y, sample_weight, self.fit_intercept, backend.local_pool,
                                           backend.n_workers)
                    (w, gap, n_iter, converged, p, rho, ybar, xbar, tol_abs), _ = self._solve_local(
                        data, backend.local_pool, backend.n_workers, l1, l2, w0, rng, start)
        finally:
            backend.close()
        with one_blas_thread():  # (the intercept's xbar . w)
            return self._set_fit(X, w, gap, n_iter, converged, p, rho, ybar, xbar, tol_abs, recoveries)

    def _validated(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse=("csc", "csr"), dtype=[np.float64, np.float32],
                             y_numeric=True)
        check_squares_finite("X", X)
        check_squares_finite("y", np.asarray(y, dtype=np.float64))
        return X, y

    def _solve_local(self, data, pool, n_threads, l1, l2, w0, rng, start, rho=None, previous=None):
        """The Shotgun driver on data in this process (host data on ``n_threads`` threads of ``pool``, or data on
        the GPU): ``((w, gap, n_iter, converged, P, rho, ybar, xbar, tol_abs), result)``, ``result`` the driver's
        :class:`~skpar.parallel._shotgun.ShotgunResult`. ``rho``: the spectral radius, estimated here where None (a
        path passes its first fit's: it is X's, not alpha's). ``previous``: the last fit's result on the same data
        (a path's previous alpha): where it ended at ``w0`` exactly, its residual and gradient start this fit
        (neither depends on alpha), which saves the two passes over X that computing them again would cost."""
        tol_abs = self.tol * float(data.s @ (data.yc ** 2)) / data.n
        seed = int(rng.randint(1 << 30))
        rho = data.spectral_radius(seed=seed) if rho is None else rho
        P = None if self.n_parallel == "auto" else int(self.n_parallel)
        known = (previous.residual, previous.gradient) if previous is not None and \
            np.array_equal(previous.w, w0) else None
        res = shotgun_lasso(
            data, w0, l1, l2, P=P, rho=rho, max_epochs=self.max_iter, tol=tol_abs, positive=self.positive,
            working_set=self.working_set, selection=self.selection,
            rng=np.random.default_rng(rng.randint(1 << 30)), pool=pool, n_threads=n_threads,
            history=self.history_, start_time=start, known=known)
        return (res.w, res.gap, res.epochs, res.converged, res.P, rho, data.ybar, data.xbar, tol_abs), res

    def _fit_path(self, X, y, sample_weight, alphas):
        """The fits down ``alphas`` (warm-started, as ``warm_start`` says) on one validated problem: X checked, its
        centred statistics (:class:`~skpar.parallel._lasso_data.LassoData`) and spectral radius computed once, not
        at every alpha. Returns ``(coefs, gaps)``, or None where the fits do not run on host data in this process
        (GPU or dask data, a cluster): the caller then fits alpha by alpha."""
        raw = data_kind(X)
        backend = get_backend(self.client, self.n_jobs)
        try:
            if raw.gpu or raw.dask or not backend.in_process or self.n_blocks != "auto":
                return None
            X, y = self._validated(X, y)
            y, sample_weight = _checked_targets(y, sample_weight)
            with one_blas_thread():  # as fit: the same path on any machine
                return self._fits_down(X, y, sample_weight, alphas, backend)
        finally:
            backend.close()

    def _fits_down(self, X, y, sample_weight, alphas, backend):
        """:meth:`_fit_path`'s fits on validated host data in this process: ``(coefs, gaps)``."""
        data = LassoData.build(X, y, sample_weight, self.fit_intercept, backend.local_pool, backend.n_workers)
        coefs, gaps, rho, previous = [], [], None, None
        for a in alphas:
            start = time.perf_counter()
            self.alpha = float(a)
            l1, l2, w0 = self._start(X.shape[1])
            fit, previous = self._solve_local(data, backend.local_pool, backend.n_workers, l1, l2, w0,
                                              check_random_state(self.random_state), start, rho, previous)
            rho = fit[5]
            self._set_fit(X, *fit)
            coefs.append(self.coef_.copy())
            gaps.append(self.dual_gap_)
        return coefs, gaps

    def _start(self, d, X=None, y=None, sample_weight=None):
        """``(l1, l2, w0)``: the penalties and the starting coefficients (the last fit's with ``warm_start``).
        ``X``, ``y``, ``sample_weight``: a fit's data, with which the rounds' models are reported
        (:meth:`~skpar._report.FitLog.report_model`)."""
        # a fit's rows are reported (skpar._report); a path's alphas keep theirs as plain lists
        log = self.__dict__.get("_log")
        self.history_ = [] if log is None else log
        if log is not None and X is not None:
            dtype = np.dtype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
            # the drivers' model is (w, intercept), the intercept already from the centring
            log.report_model(lambda m: {"coef_": np.asarray(m[0], dtype=dtype),
                                        "intercept_": dtype.type(m[1] if self.fit_intercept else 0.0)},
                              X, y, sample_weight)
        w0 = np.array(self.coef_, dtype=np.float64) if self.warm_start and hasattr(self, "coef_") \
            and np.shape(self.coef_) == (d,) else np.zeros(d)
        return self.alpha * self.l1_ratio, self.alpha * (1 - self.l1_ratio), w0

    def _set_fit(self, X, w, gap, n_iter, converged, p, rho, ybar, xbar, tol_abs, recoveries=0):
        if not np.isfinite(w).all():
            raise FloatingPointError("coordinate descent produced non-finite coefficients")
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        self.coef_ = w.astype(dtype)
        # in X's precision, as coef_ and as scikit-learn's Lasso keeps it (float32 data: a float32 intercept)
        self.intercept_ = np.dtype(dtype).type(ybar - xbar @ w if self.fit_intercept else 0.0)
        self.dual_gap_ = float(gap)
        self.n_iter_ = int(n_iter)
        self.n_parallel_ = int(p)
        self.spectral_radius_ = float(rho)
        self.n_recoveries_ = int(recoveries)
        stopped = getattr(self.history_, "stop", False)  # the callback's call: no warning
        if not converged and not stopped:
            warnings.warn(f"Objective did not converge: duality gap {gap:.3e} > tolerance {tol_abs:.3e} after "
                          f"{n_iter} epochs. Increase max_iter or tol.", ConvergenceWarning, stacklevel=2)
        return self

    def _fit_gpu(self, X, y, sample_weight, start):
        """X on the GPU: the same Shotgun driver, its steps cuBLAS/cuSPARSE products
        (:class:`~skpar.parallel._lasso_data.DeviceLassoData`)."""
        check_gpu_local_client(self.client)
        X, y, sample_weight = check_gpu_fit_data(self, X, y, sample_weight, reset=True)
        if sample_weight is not None and float(sample_weight.sum()) <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit")
        rng = check_random_state(self.random_state)
        l1, l2, w0 = self._start(X.shape[1], X, y, sample_weight)
        data = DeviceLassoData.build(X, y, sample_weight, self.fit_intercept)
        fit, _ = self._solve_local(data, None, 1, l1, l2, w0, rng, start)
        return self._set_fit(X, *fit)

    def _fit_columns(self, backend, X, y, sample_weight, w0, l1, l2, rng, start, dask, gpu=False):
        """Column blocks (on a cluster's workers, or on threads with a count of ``n_blocks``), CoCoA+-safe additive
        rounds (see skpar.parallel._hydra)."""
        n, d = X.shape
        s = np.ones(n) if sample_weight is None else sample_weight * (n / sample_weight.sum())
        ybar = float(s @ y / n) if self.fit_intercept else 0.0
        yc = y - ybar
        # from the data alone with 'auto': the model does not depend on the cluster's size
        K = max(1, min(auto_column_blocks(X, data_kind(X)) if self.n_blocks == "auto" else int(self.n_blocks), d))
        splits = np.array_split(np.arange(d), K)
        if dask:
            # each block's columns cut from every row chunk where the chunk is (F-ordered pieces), then written
            # into one F-ordered block on a worker: X never reaches the driver, and no rechunked C-ordered copy
            # is made on the way (dask's rechunk cost every worker three times its block at peak)
            piece, block = (device_column_piece, DeviceColumnBlock) if gpu else (column_piece, ColumnBlock)
            blocks = backend.place_delayed(delayed_column_blocks(X, splits, piece, block.from_pieces, s=s,
                                                                 fit_intercept=self.fit_intercept))
        else:
            Xc = X.tocsc() if sp.issparse(X) else X
            blocks = backend.place([ColumnBlock(Xc[:, c], s, c, self.fit_intercept) for c in splits])
        # a round keeps no state on the column blocks (the driver holds w and the residual): a round lost with a
        # worker is run again on the blocks placed anew, with the same result
        rounds = SyncRounds(backend, blocks, recoverable=True)
        tol_abs = self.tol * float(s @ (yc ** 2)) / n
        seeds = rng.randint(1 << 30, size=max(self.max_iter, 1))
        w, gap, n_rounds, converged = hydra_lasso(
            rounds, splits, yc, s, w0, l1, l2, max_rounds=self.max_iter, tol=tol_abs, positive=self.positive,
            selection=self.selection, seeds=seeds, history=self.history_, start_time=start, ybar=ybar)
        xbar = np.zeros(d)
        for blk_stats in rounds.run(_stats).results:
            xbar[blk_stats[0]] = blk_stats[1]
        return w, gap, n_rounds, converged, d, np.nan, ybar, tol_abs, xbar, rounds.recoveries

    def path(self, X, y, *, alphas=None, n_alphas=100, eps=1e-3, sample_weight=None):
        """Compute coefficients along a regularisation path with this estimator's parameters, each fit warm-started
        from the previous alpha: :func:`shotgun_lasso_path` with ``estimator=self``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, as :meth:`fit` takes it.
        y : array-like of shape (n_samples,)
            Targets.
        alphas : array-like, default=None
            Values of alpha, in decreasing order; ``None`` takes ``n_alphas`` values log-spaced from ``alpha_max``
            down to ``eps * alpha_max``.
        n_alphas : int, default=100
            How many alphas, where ``alphas`` is None.
        eps : float, default=1e-3
            The last alpha over ``alpha_max``, where ``alphas`` is None.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        path : tuple of (alphas, coefs, dual_gaps)
            As :func:`shotgun_lasso_path` returns them: the alphas in the order fitted, the coefficients at each
            (n_features by n_alphas) and the duality gap of each fit.
        """
        return shotgun_lasso_path(X, y, alphas=alphas, n_alphas=n_alphas, eps=eps, sample_weight=sample_weight,
                                  estimator=self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _stats(block):
    return block.cols, block.xbar


def _checked_targets(y, sample_weight):
    """``y`` as finite float64 and the sample weights checked (non-negative, not all zero)."""
    y = np.asarray(y, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or infinity.")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, np.empty((len(y), 0)), dtype=np.float64,
                                             ensure_non_negative=True)
        if sample_weight.sum() <= 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit")
    return y, sample_weight


def shotgun_lasso_path(X, y, *, alphas=None, n_alphas=100, eps=1e-3, sample_weight=None, estimator=None,
                       **params):
    """The Lasso path by ShotgunLasso, from ``alpha_max`` down, each fit warm-started from the previous one.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Targets.
    alphas : array-like, default=None
        Decreasing values of alpha; ``None``: ``n_alphas`` log-spaced values from ``alpha_max`` to
        ``eps * alpha_max``.
    n_alphas : int, default=100
        Number of alphas when ``alphas`` is None.
    eps : float, default=1e-3
        Smallest alpha over ``alpha_max`` when ``alphas`` is None.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights.
    estimator : ShotgunLasso, default=None
        Template whose parameters are used (``alpha`` and ``warm_start`` are set here).
    **params
        Parameters of a new ShotgunLasso when no ``estimator`` is given.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, in the order fitted.
    coefs : ndarray of shape (n_features, n_alphas)
        Coefficients at each alpha.
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap of each fit.
    """
    from sklearn.base import clone

    est = clone(estimator) if estimator is not None else ShotgunLasso(**params)
    if alphas is None:
        amax = alpha_max(X, y, sample_weight, est.fit_intercept, est.l1_ratio)
        alphas = np.geomspace(amax, amax * eps, n_alphas)
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    if not (np.isfinite(alphas).all() and (alphas >= 0).all()):  # every fit's alpha, as fit would check it
        raise ValueError(f"alphas must be finite and non-negative; got {alphas.tolist()}")
    est.set_params(warm_start=True, alpha=float(alphas[0]))
    est._validate_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # on host data in this process one problem serves every alpha (docs/benchmarks.md); else fit by fit
        path = est._fit_path(X, y, sample_weight, alphas)
        if path is None:
            path = [], []
            for a in alphas:
                est.set_params(alpha=float(a)).fit(X, y, sample_weight=sample_weight)
                path[0].append(est.coef_.copy())
                path[1].append(est.dual_gap_)
    return alphas, np.array(path[0]).T, np.array(path[1])
