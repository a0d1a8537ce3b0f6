"""``ParallelSGDRegressor``: linear regression by data-parallel mini-batch SGD on threads or a Dask cluster."""

from __future__ import annotations

from numbers import Real
from types import MappingProxyType

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._losses import LOSSES, REGRESSION_LOSSES, make_loss
from .._penalties import Penalty
from ..parallel import SGDState
from ..parallel._newton import MAX_GRAM_WEIGHTS, use_gram
from ..parallel._normal_equations import ridge_normal_equations
from ..parallel._sgd import r2_from_sums
from ._predict import LinearRegressorMixin
from ._sgd_base import BaseParallelSGD
from ._sgd_blocks import sparse_rows
from ._shared_docs import shared_parameters

#: dense data of at most this many features is solved by the normal equations under solver='auto': their round
#: costs n d^2 / 2 multiply-adds in BLAS, which on a few hundred features is less than the ten or so epochs of n d
#: (slower, compiled) SGD steps it replaces (docs/benchmarks.md)
DENSE_CHOLESKY_FEATURES = 512


@shared_parameters
class ParallelSGDRegressor(LinearRegressorMixin, RegressorMixin, BaseParallelSGD):
    """Linear regression fitted by data-parallel mini-batch SGD, on threads or on a Dask cluster.

    Minimises the regularised empirical risk of scikit-learn's :class:`~sklearn.linear_model.SGDRegressor`,

    .. math::

        \\min_{w, b} \\; \\frac{1}{n} \\sum_{i=1}^n s_i \\, \\ell(x_i^\\top w + b, y_i)
        + \\alpha \\Big(\\frac{1 - \\rho}{2} \\|w\\|_2^2 + \\rho \\|w\\|_1\\Big),

    with sample weights :math:`s_i`, ``rho = l1_ratio`` (0 for ``penalty='l2'``, 1 for ``'l1'``). The rows are
    split into blocks that stay where they live (views of the arrays on the thread backend, blocks on the workers
    on Dask); every synchronous round each block runs ``local_steps`` mini-batch steps of a compiled kernel from the
    same model, and the driver averages the blocks' models, weighted by the samples each processed, in block order.
    ``local_steps=1`` is synchronous mini-batch SGD with an all-reduce of the gradient over a global batch of
    ``batch_size * n_blocks``; ``local_steps='epoch'`` is local SGD with one average per epoch. For the squared
    error with an l2 penalty and few features, ``solver='auto'`` solves the same objective exactly instead, from
    one round of the blocks' scatter matrices (see ``solver``).

    Parameters
    ----------
    loss : {'squared_error', 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive', 'quantile'}, \
            default='squared_error'
        :math:`\\ell(p, y)`: ``squared_error`` is :math:`\\tfrac12 (p - y)^2`, ``huber`` is quadratic up to
        ``epsilon`` and linear beyond, ``epsilon_insensitive`` is :math:`\\max(0, |p - y| - \\epsilon)`,
        ``quantile`` is the pinball loss :math:`\\max(q (y - p), (q - 1)(y - p))` of ``quantile`` :math:`q`, whose
        model predicts the conditional :math:`q`-quantile (scikit-learn's ``QuantileRegressor`` objective, there
        with an l1 penalty and solved as a linear program).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
        Regularisation; l1 uses a proximal (soft-thresholding) step.
    alpha : float, default=1e-4
        Strength of the penalty.
    l1_ratio : float or None, default=0.15
        Share of l1 in the elastic-net penalty, read with ``penalty='elasticnet'`` only (``None`` is refused there,
        as scikit-learn refuses it).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept ``b``.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the data).
    tol : float or None, default=1e-3
        Stop when the epoch's objective (or, with ``early_stopping``, the validation R^2) has not improved by
        ``tol`` for ``n_iter_no_change`` epochs in a row. ``None`` runs ``max_iter`` epochs.
    shuffle : bool, default=True
        Whether SGD's epochs visit each block's rows in a fresh order drawn from the epoch's seed (scikit-learn's
        default) or in their stored order. The exact solvers (normal equations, Newton, L-BFGS) have no order, and
        dual coordinate ascent keeps its own random coordinate order.
    epsilon : float, default=0.1
        Threshold of the ``huber`` and epsilon-insensitive losses.
    quantile : float, default=0.5
        The quantile that ``loss='quantile'`` predicts, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seeds every block's validation split and every epoch's shuffle, drawn up front: the same value and the same
        number of blocks give the same coefficients on every backend.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the step: ``constant`` keeps the scaled step :math:`\\eta`; ``invscaling`` uses
        :math:`\\eta / (1 + t B)^{\\text{power\\_t}}` after ``t`` steps of ``B`` samples (as scikit-learn does per
        sample); ``optimal`` is scikit-learn's :math:`1 / (\\alpha (t_0 + t B))`, with :math:`t_0` from Bottou's
        heuristic and ``eta0`` unused (the batch's scaling rule multiplies it, up to :math:`t_0`); ``adaptive``
        keeps :math:`\\eta` and divides it by 5 whenever ``n_iter_no_change`` epochs pass without improvement.
        scikit-learn's SGDRegressor defaults to ``invscaling`` without averaging; here the
        default is a constant step with Polyak averaging (``average='auto'``): the constant step makes fast progress
        and the average removes the noise it leaves, where the decaying step stalls on ill-conditioned data (on
        1,000,000 x 100 with condition number 1e4, ``invscaling`` stopped at a suboptimality of 2.6e-3, the
        averaged constant step at 1e-5, in fewer epochs; docs/benchmarks.md).
    eta0 : float or 'auto', default='auto'
        Step for a batch of one sample, before the scaling rule. ``'auto'`` takes :math:`1 / (2 E\\|x\\|^2)`,
        estimated from a row sample (the largest stable single-sample step is about :math:`1/E\\|x\\|^2`).
    power_t : float, default=0.25
        Exponent of ``invscaling``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of every block's rows and stop on the validation R^2, in every ``mode``
        (GPU data refuses it: its blocks hold out no rows).
    validation_fraction : float, default=0.1
        Share of each block held out with ``early_stopping``.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or, for ``adaptive``, cutting the step).
    warm_start : bool, default=False
        ``fit`` starts from the previous fit's ``coef_`` and ``intercept_`` (as from ``coef_init`` and
        ``intercept_init``), with the step schedule and the average restarted, as scikit-learn's warm start does;
        ``partial_fit`` continues a fit's own steps instead. An exact solver asked for starts from zero.
    average : bool, int or 'auto', default='auto'
        Polyak averaging: ``coef_`` is the average of the iterates, from the first step (``True``) or once
        ``average`` samples have been seen. ``'auto'`` averages from the end of the first epoch (an average from
        the first step keeps a tail of the starting point that the stop rule waits out) in modes ``'sync'`` and
        ``'async'``, and not in ``'hogwild'``, whose threads write one shared model with no average of it (so every
        mode fits with the defaults), nor with an l1 penalty (the average of sparse iterates is not sparse).
    verbose : int, default=0
        The level of the ``skpar`` logger during the fit: 0 leaves it as the application set it; 1 or more logs
        every round at INFO (the round's ``history_`` row in the record as ``record.row``), to stdout where no
        handler is configured. With 0, a fit that runs past two seconds where a person is watching (a terminal, a
        notebook) shows a progress bar instead.
    %(execution_parameters)s
    batch_size : int or 'auto', default='auto'
        Samples of one local mini-batch step on one block. ``'auto'``: 16, and on blocks combined by the line
        search (``combine``) whose batches would add up to more than 64 rows, fewer, down to the critical batch size
        (rounded up) or 64 / ``n_blocks``, whichever is larger (where the critical batch is 16 or more: 4 critical
        batches / ``n_blocks``), unless the rows' largest squared norm (over the mean) says a smaller batch's step
        would be unstable (``skpar.linear_model._sgd_plan.block_batch``): a9a's log loss on 16 and 64 blocks then
        takes 3 and 4 epochs to 1e-2 of the optimum, against 4 and 10 with 16 rows.
    local_steps : int or 'epoch', default='epoch'
        Local steps per block between two averages. ``1`` is synchronous mini-batch SGD with an all-reduce.
    combine : {'line_search', 'average'}, default='line_search'
        How the blocks' models are combined after a round of a whole local epoch (``local_steps='epoch'``, on two
        blocks or more, on CPUs). ``'average'``: their average :math:`w_0 + D`, :math:`D` the blocks' averaged
        change from the round's start :math:`w_0`. ``'line_search'``: :math:`w_0 + \\theta D`, the share
        :math:`\\theta` from 1 to ``n_blocks`` that minimises the objective (on a sample of each block's rows), for
        the iterate and the Polyak average apart: where the blocks step the same way their average moves as far as
        one block alone, and the epochs to a target otherwise grow with the blocks (a9a's log loss at 16 blocks: 4
        epochs against 16, docs/benchmarks.md). Rounds in which the line stops paying are averaged
        (:mod:`skpar.parallel._sgd_line`). Rounds of fewer steps and GPU blocks are averaged.
    scaling_rule : {'linear', 'sqrt'} or None, default='linear'
        How the step grows with the batch ``B`` of one gradient step (``batch_size * n_blocks`` when
        ``local_steps=1``, else ``batch_size``): ``eta0 * min(B, b~)`` (Goyal et al. 2017) or its square root,
        capped at the critical batch size ``b~`` past which the stable step no longer grows.
    warmup : float, default=0.1
        Epochs over which the step rises linearly from ``eta0`` to the scaled step; 0 disables the warm-up.
    solver : {'auto', 'sgd', 'cholesky'}, default='auto'
        ``'sgd'``: the mini-batch SGD this docstring describes. ``'cholesky'``: the squared error with an l2
        penalty (or none) minimised exactly, in one round: every block sends the weighted scatter matrix of its
        rows about their mean, and the driver solves :math:`(C + n\\alpha I) w = c` by Cholesky (least squares
        without a penalty); the objective is the same, so the model is the one SGD converges to, as
        :class:`~sklearn.linear_model.Ridge` with ``alpha = n * alpha`` gives it. It needs
        ``loss='squared_error'``, ``penalty`` ``'l2'`` or None, ``mode='sync'``, CPU data or dense GPU data
        (a GPU forms its scatter in float64 through cuBLAS), no ``early_stopping`` and at most 2,048 features;
        SGD's own parameters (``max_iter``, ``tol``, the step's) are not read. ``'auto'`` picks ``'cholesky'``
        where it can run and costs less than SGD's epochs: at least as many rows as features, and dense rows of
        at most 512 features or sparse rows short enough (at most 64 features, or a mean squared row length of at
        most 20 times the mean row length), as scikit-learn's ``Ridge(solver='auto')`` picks a direct solve.
        ``partial_fit`` always runs an SGD epoch, continuing from the solution.
    %(block_parameters)s
    client : distributed.Client, 'threads' or None, default=None
        Where to fit: this client's cluster (local data's blocks scattered over its workers, a dask array's blocks
        built where its chunks are); ``None`` uses the active ``distributed`` client if there is one, else threads.
    %(callback_parameter)s

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights, in the dtype of the training data (float32 stays float32).
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
        Epochs run by the last fit (1 for ``'cholesky'``, whose round reads the data once).
    t_ : int
        scikit-learn's count: 1 plus the samples the epochs went over (``n_iter_`` times the rows) since the last
        ``fit``, each ``partial_fit`` adding its rows.
    history_ : list of dict
        One row per round: ``round``, ``epoch``, ``time`` (seconds since fit started), ``objective`` (the round's
        progressive training loss, each sample's loss taken just before its step, plus the penalty), ``eta``,
        ``n_samples`` and ``bytes_sent`` (model and statistics shipped to and from the blocks). For
        ``'cholesky'``, one row whose objective is exact and which has no ``eta``.
    solver_ : {'sgd', 'cholesky'}
        The solver that ran.
    critical_batch_size_ : float
        :math:`E\\|x\\|^2 / \\lambda_{\\max}(E[x x^\\top])`, estimated on a row sample (see
        :func:`skpar.diagnostics.critical_batch_size`); ``critical_batch_size_upper_`` uses
        :math:`\\max\\|x\\|^2`. NaN where the step's plan reads no moments (a given ``eta0``, one row a step,
        no scaling rule: :class:`~skpar.SGDRegressor`'s defaults), so none are taken.
    learning_rate_ : float
        The scaled step at the end of the fit (after any cut for divergence or by ``adaptive``). This and the
        critical batch size are SGD's: a ``'cholesky'`` fit sets neither.
    n_blocks_ : int
        Blocks the data was split into.
    n_recoveries_ : int
        Rounds run again because Dask workers holding blocks left the cluster (the lost blocks are placed again on
        live workers; synchronous rounds then give the undisturbed answer).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string column names.

    See Also
    --------
    skpar.SGDRegressor : This estimator with scikit-learn's defaults (its steps, to swap in).
    sklearn.linear_model.SGDRegressor : The same objective on one core.

    Notes
    -----
    A step size so large that the loss blows up is detected within a round: the fit goes back to the start of
    the epoch with half the step and warns (:class:`~skpar.exceptions.DivergenceWarning`); so does an epoch whose
    mean loss ends above twice the zero model's (a step that swings the iterates without any one batch blowing
    up), which goes back one epoch further. After 30 halvings a :class:`~skpar.exceptions.DivergenceError` is
    raised; it never returns NaN coefficients. ``critical_batch_size_`` is reported, and a
    :class:`~skpar.exceptions.CriticalBatchSizeWarning` is raised when one gradient step's batch exceeds ten times
    it.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skpar import ParallelSGDRegressor
    >>> X, y = make_regression(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    >>> reg = ParallelSGDRegressor(random_state=0, n_jobs=2).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    #: the ``loss`` choices and their classes (:mod:`skpar._losses`), as scikit-learn's SGDRegressor lists its own
    loss_functions = MappingProxyType({name: LOSSES[name] for name in REGRESSION_LOSSES})

    _parameter_constraints: dict = {
        **BaseParallelSGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "solver": [StrOptions({"auto", "sgd", "cholesky"})],
    }

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, epsilon=0.1, quantile=0.5, random_state=None,
                 learning_rate="constant", eta0="auto", power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average="auto", verbose=0, mode="sync", max_staleness=1,
                 replica_steps=None, batch_size="auto", local_steps="epoch", combine="line_search",
                 scaling_rule="linear", warmup=0.1, solver="auto", n_blocks="auto", n_jobs=None, client=None,
                 callback=None):
        self.loss = loss
        self.epsilon = epsilon
        self.quantile = quantile
        super().__init__(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, random_state=random_state, learning_rate=learning_rate, eta0=eta0,
                         power_t=power_t, early_stopping=early_stopping, validation_fraction=validation_fraction,
                         n_iter_no_change=n_iter_no_change, warm_start=warm_start, average=average, verbose=verbose,
                         shuffle=shuffle, mode=mode, max_staleness=max_staleness, replica_steps=replica_steps,
                         batch_size=batch_size, local_steps=local_steps, combine=combine, scaling_rule=scaling_rule,
                         warmup=warmup, solver=solver, n_blocks=n_blocks, n_jobs=n_jobs, client=client,
                         callback=callback)

    def _loss(self, n_outputs=1):
        return make_loss(self.loss, epsilon=self.epsilon, quantile=self.quantile)

    def _encode_targets(self, y, sample_weight, first):
        return y, 1, np.ones(1), np.ones(1)

    def _score_outputs(self, scores, y, sample_weight):
        """R^2 of the predictions ``scores[:, 0]`` on an explicit validation set (weighted)."""
        s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
        residual = y - scores[:, 0]
        # the held-out rows' sums, [sum s l, SSE, sum s, sum s y, sum s y^2], read as they are (parallel._sgd)
        return r2_from_sums([0.0, float(s @ (residual * residual)), float(s.sum()), float(s @ y), float(s @ (y * y))])

    def _model_attributes(self, W, B, dtype):
        return {"coef_": np.asarray(W[0], dtype=dtype), "intercept_": np.asarray(B[:1], dtype=dtype)}

    def _solve_directly(self, rounds, X, kind, early, start, n_outputs, pos_weight, neg_weight):
        """The normal equations' model where the solver is ``'cholesky'`` (see ``solver``), else None."""
        self.solver_ = self._pick_solver(rounds, X, kind, early)
        if self.solver_ == "sgd":
            return None
        history = self._log
        l2 = Penalty.from_params(self.penalty, self.alpha, self.l1_ratio).l2
        w, b = ridge_normal_equations(rounds, l2=l2, fit_intercept=self.fit_intercept, history=history,
                                      start_time=start)
        self._forget_sgd_attributes()
        state = SGDState.zeros(1, X.shape[1])
        state.w[0], state.b[0] = w, b
        state.wbar, state.bbar = state.w, state.b  # partial_fit continues from the solution
        return state, history, 1

    def _pick_solver(self, rounds, X, kind, early):
        """``'sgd'`` or ``'cholesky'``: what ``solver`` asks for, ``'auto'`` resolved as the docstring says."""
        if self.solver == "sgd":
            return "sgd"
        d = X.shape[1]
        l1 = Penalty.from_params(self.penalty, self.alpha, self.l1_ratio).l1
        why = [text for bad, text in [
            (self.loss != "squared_error", f"loss={self.loss!r}"), (l1 > 0, f"penalty={self.penalty!r}"),
            (self.mode != "sync", f"mode={self.mode!r}"), (early, "early_stopping"),
            (d > MAX_GRAM_WEIGHTS, f"{d} features (at most {MAX_GRAM_WEIGHTS})")] if bad]
        if kind.gpu and not why and sparse_rows(rounds, kind):
            why.append("sparse GPU data")  # a GPU block's scatter is dense cuBLAS; sparse GPU rows run SGD
        if self.solver == "cholesky":
            if why:
                raise ValueError("solver='cholesky' solves the l2-penalised squared error's normal equations on CPU "
                                 "or dense GPU data with mode='sync'; it cannot run with " + ", ".join(why) + ": use "
                                 "solver='sgd'")
            return "cholesky"
        if why or X.shape[0] < d:  # (a dask array's unknown row count compares False)
            return "sgd"
        if sparse_rows(rounds, kind):
            return "cholesky" if use_gram(rounds, d) else "sgd"
        return "cholesky" if d <= DENSE_CHOLESKY_FEATURES else "sgd"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the model by data-parallel SGD, or by the normal equations where ``solver`` picks them (``'auto'``:
        dense data of at most 512 features, or sparse data whose Gram matrix is small).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask dataframe, CuPy array} of shape (n_samples, n_features)
            Training data; float32 is kept as float32.
        y : array-like or dask array of shape (n_samples,)
            Targets.
        coef_init : array-like of shape (n_features,), default=None
            The coefficients SGD's epochs start from, as scikit-learn's ``SGDRegressor`` takes them;
            ``solver='auto'`` then runs SGD.
        intercept_init : array-like of shape (1,), default=None
            The intercept they start from.
        sample_weight : array-like or dask array of shape (n_samples,), default=None
            Per-sample weights :math:`s_i`.
        X_val : {array-like, sparse matrix, dask array, CuPy array} of shape (n_val, n_features), default=None
            A validation set for ``early_stopping`` (scikit-learn's names, from ``HistGradientBoostingRegressor``):
            its R^2 is watched instead of that of rows held out of X, and no row of X is held out. It is scored on
            the driver each epoch (a dask array is computed there once; a CuPy array stays on its GPU, where
            early stopping then also runs).
        y_val : array-like of shape (n_val,), default=None
            Its targets.
        sample_weight_val : array-like of shape (n_val,), default=None
            Its weights.

        Returns
        -------
        self : ParallelSGDRegressor
            Fitted estimator.
        """
        return self._fit_sgd(X, y, sample_weight, max_epochs=self.max_iter, incremental=False,
                             init=self._fit_start(coef_init, intercept_init),
                             validation_set=(X_val, y_val, sample_weight_val))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One parallel pass (one epoch) over the given data, continuing the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask dataframe, CuPy array} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like or dask array of shape (n_samples,)
            Targets.
        sample_weight : array-like or dask array of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : ParallelSGDRegressor
            Updated estimator.
        """
        self.solver_ = "sgd"
        return self._fit_sgd(X, y, sample_weight, max_epochs=1, incremental=True, partial=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
