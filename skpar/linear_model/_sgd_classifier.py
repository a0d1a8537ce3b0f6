"""``AveragedSGDClassifier``: linear classification by parameter averaging of SGD fits on blocks."""

from __future__ import annotations

import warnings
from numbers import Real
from types import MappingProxyType

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from .._device import array_module
from .._losses import CLASSIFICATION_LOSSES, CLASSIFIER_LOSSES, SoftmaxLogLoss, make_loss
from ..backend import is_dask_collection
from ..exceptions import SmallBlockWarning
from ..parallel import SGDState, block_train_sizes
from ..parallel._logistic import logistic_newton
from ..parallel._newton import MAX_GRAM_WEIGHTS, use_gram
from ._classifier_mixin import LinearClassifierMixin
from ._classifier_solvers import check_multinomial, gradient_bound, multinomial_by_lbfgs, solve_dual, solve_multinomial
from ._sgd_base import BaseParallelSGD
from ._shared_docs import shared_parameters

#: rows per feature below which ``solver='auto'`` leaves SGD (text): its epochs there make slow progress and its stop
#: rule ends far from the optimum (docs/benchmarks.md)
FEW_ROWS_PER_FEATURE = 10

#: ``solver='auto'`` leaves L-BFGS for SGD on the log loss where rows are fewer than 10 per feature and the condition
#: estimate lambda_max(E[x x^T]) / (4 alpha) exceeds this: tf-idf text sits well below it; above it (dorothea,
#: 62,000) SGD's epochs reach the optimum's accuracy before L-BFGS's iterations do (docs/benchmarks.md)
LBFGS_MAX_CONDITION = 1e4

#: the losses that ``solver='dual'`` minimises (those of :class:`~skpar.DualCoordinateAscentSVM`)
DUAL_LOSSES = ("hinge", "squared_hinge")


@shared_parameters
class AveragedSGDClassifier(LinearClassifierMixin, ClassifierMixin, BaseParallelSGD):
    """Linear classifier trained by SGD on blocks of the data whose models are averaged, once or periodically.

    Minimises the regularised empirical risk of scikit-learn's :class:`~sklearn.linear_model.SGDClassifier`, one
    binary problem per class (one-vs-rest; one problem for two classes),

    .. math::

        \\min_{w_k, b_k} \\; \\frac{1}{n} \\sum_{i=1}^n s_i\\, c_{ik}\\, \\ell(y_{ik} (x_i^\\top w_k + b_k))
        + \\alpha \\Big(\\frac{1 - \\rho}{2} \\|w_k\\|_2^2 + \\rho \\|w_k\\|_1\\Big),

    with :math:`y_{ik} = +1` if sample ``i`` is of class ``k`` and -1 otherwise, sample weights :math:`s_i` and
    class weights :math:`c_{ik}` (``class_weight[k]`` for the positive samples, 1 for the others, as scikit-learn
    does). The rows are split into blocks that stay where they live; each task trains every class on its block in
    one pass over it (Zinkevich et al. 2010):

    - ``averaging='oneshot'``: every block fits on its own for up to ``max_iter`` epochs, then the models are averaged
      once (one round on Dask; Zinkevich et al. 2010). By convexity the average is no worse than the mean of the
      blocks' losses, and it is as good as one fit on all the data when every block holds enough rows, about
      :math:`\\kappa`; a :class:`~skpar.exceptions.SmallBlockWarning` says when they do not.
    - ``averaging='periodic'``: synchronous rounds of ``local_steps`` local steps (an epoch by default), averaging
      after each, until ``tol`` stops the fit; the further rounds remove the bias that small blocks leave.

    Polyak averaging inside every block is on by default (``average='auto'``, in the synchronous and asynchronous
    modes): it is what makes one pass of SGD on a block statistically efficient. For the l2-penalised log loss where
    rows outnumber features, ``solver='auto'`` minimises the same objective by Newton's method over the blocks
    instead, and for the l2-penalised hinge where rows are few per feature, by dual coordinate ascent (see
    ``solver``).

    Parameters
    ----------
    loss : {'hinge', 'log_loss', 'modified_huber', 'squared_hinge', 'perceptron', 'squared_error', 'huber', \
'epsilon_insensitive', 'squared_epsilon_insensitive'}, default='hinge'
        :math:`\\ell(z)` of the margin ``z``: :math:`\\max(0, 1 - z)`, :math:`\\log(1 + e^{-z})`, the smoothed
        hinge of scikit-learn, :math:`\\max(0, 1 - z)^2` or :math:`\\max(0, -z)` (the perceptron's); or one of
        :class:`~skpar.ParallelSGDRegressor`'s losses of the prediction against the target :math:`\\pm 1`, as
        scikit-learn's SGDClassifier takes them (with ``y = \\pm 1`` each is a function of the margin:
        :math:`(p - y)^2 = (1 - z)^2`).
    multi_class : {'ovr', 'multinomial'}, default='ovr'
        For three classes or more: ``'ovr'``, one binary problem a class (scikit-learn's SGDClassifier);
        ``'multinomial'``, with ``loss='log_loss'``, the softmax cross-entropy of all classes at once,
        :math:`\\frac1n \\sum_i s_i c_{y_i} (\\log \\sum_k e^{w_k^\\top x_i + b_k} - w_{y_i}^\\top x_i - b_{y_i})
        + \\frac{\\alpha}{2} \\|W\\|_F^2`, minimised by L-BFGS over the blocks (each evaluation one round;
        ``max_iter`` its iterations; it stops once the gradient's largest entry is under ``tol / 10``, which for the
        default ``tol`` is ``LogisticRegression``'s default bound), as ``LogisticRegression`` minimises it;
        ``predict_proba`` is then the softmax. With ``solver='sgd'``, or where L-BFGS does not run (``mode='async'``,
        one-shot averaging, early stopping, an l1 penalty), and in ``partial_fit``, by SGD's epochs on the same
        objective (the kernels take the K scores of a row at once), in every mode, Hogwild!'s too; on GPU data in
        synchronous rounds (Hogwild! warps; L-BFGS runs on dense CuPy rows, not on sparse ones).
    penalty : {'l2', 'l1', 'elasticnet'} or None, default='l2'
    alpha : float, default=1e-4
        Regularisation strength (the penalty's weight in the objective).
    l1_ratio : float or None, default=0.15
        Share of l1 in the elastic-net penalty, read with ``penalty='elasticnet'`` only (``None`` is refused there,
        as scikit-learn refuses it).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per output.
    max_iter : int, default=1000
        Epochs: local epochs of each block (``oneshot``) or epochs of rounds (``periodic``).
    tol : float or None, default=1e-3
        Stop when the epoch objective (the validation accuracy with ``early_stopping``) has not improved by ``tol``
        for ``n_iter_no_change`` epochs; with ``oneshot`` every block applies the rule to its own objective. With
        K > 2 classes the objective is the sum of the K one-vs-rest objectives and must improve by ``K tol``, as
        scikit-learn asks each of its K binary problems for ``tol`` (on average over the outputs here, since the
        outputs run together). ``solver_='dual'`` stops instead once its certified duality gap is at most ``tol``
        per output; ``None``: ``max_iter`` passes or epochs, with no convergence warning.
    shuffle : bool, default=True
        Whether SGD's epochs visit each block's rows in a fresh order drawn from the epoch's seed (scikit-learn's
        default) or in their stored order. The exact solvers (normal equations, Newton, L-BFGS) have no order, and
        dual coordinate ascent keeps its own random coordinate order.
    n_iter_no_change : int, default=5
        Epochs without improvement by ``tol`` before the fit stops.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of every block and stop on the validation accuracy, in every ``mode``
        with ``averaging='periodic'`` (GPU data refuses it: its blocks hold out no rows).
    validation_fraction : float, default=0.1
        Share of each block's rows held out for ``early_stopping``.
    learning_rate : {'constant', 'optimal', 'invscaling', 'adaptive'}, default='constant'
        Step schedule, as in :class:`~skpar.ParallelSGDRegressor` (constant steps with Polyak averaging are the
        averaged SGD of Bach and Moulines; ``'optimal'``, scikit-learn's default, is its
        :math:`1 / (\\alpha (t_0 + s))` after ``s`` samples).
    eta0 : float or 'auto', default='auto'
        Step for a batch of one sample, before the scaling rule. ``'auto'`` takes :math:`1 / (2 c\\, E\\|x\\|^2)`,
        half the largest stable step for a loss of curvature :math:`c`: with averaging, :math:`c = 1/4` for
        ``'log_loss'`` (and ``'hinge'``, which takes the same step), else :math:`c = 1` (the average cancels the
        larger step's noise; an iterate that is not averaged keeps it). scikit-learn's ``SGDClassifier`` starts
        from its ``'optimal'`` schedule instead, whose first steps depend on ``alpha``.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` decay (scikit-learn's SGDClassifier default; its SGDRegressor's is 0.25).
    epsilon : float, default=0.1
        Threshold of the ``huber`` and epsilon-insensitive losses (scikit-learn's default).
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes; ``'balanced'`` uses ``n_samples / (n_classes * count)``.
    warm_start : bool, default=False
        ``fit`` starts from the previous fit's ``coef_`` and ``intercept_`` (as from ``coef_init`` and
        ``intercept_init``), with the step schedule and the average restarted, as scikit-learn's warm start does;
        ``partial_fit`` continues a fit's own steps instead. An exact solver asked for starts from zero.
    average : bool, int or 'auto', default='auto'
        Polyak averaging of the iterates inside each block (from the start, or after that many samples).
        ``'auto'`` averages from the end of the first epoch (an average from the first step keeps a tail of the
        starting point that the stop rule waits out) in modes ``'sync'`` and ``'async'``, and not in
        ``'hogwild'``, where threads write one shared model and no average of it is kept (so every mode fits with
        the defaults), nor with an l1 penalty (the average of sparse iterates is not sparse).
        scikit-learn's SGDClassifier does not average by default; here averaging is the default because the
        constant step it pairs with (``learning_rate='constant'``) reaches a plateau that only the average
        leaves.
    random_state : int, RandomState instance or None, default=None
        Seeds every block's shuffles, drawn up front: the same value and blocks give the same coefficients on every
        backend.
    verbose : int, default=0
        The level of the ``skpar`` logger during the fit: 0 leaves it as the application set it; 1 or more logs
        every round at INFO (the round's ``history_`` row in the record as ``record.row``), to stdout where no
        handler is configured. With 0, a fit that runs past two seconds where a person is watching (a terminal, a
        notebook) shows a progress bar instead.
    averaging : {'oneshot', 'periodic'}, default='periodic'
        One-shot or periodic averaging of the blocks' models (above).
    %(execution_parameters)s
    batch_size : int or 'auto', default='auto'
        Samples of one local mini-batch step on one block; ``'auto'``: 16, fewer on more than 4 blocks combined by
        the line search, down to the critical batch size (see ParallelSGDRegressor).
    local_steps : int or 'epoch', default='epoch'
        Local steps between two averages with ``averaging='periodic'``.
    combine : {'line_search', 'average'}, default='line_search'
        How the blocks' models are combined after a round of a whole local epoch: their average, or the share of
        the blocks' averaged change (from 1 to ``n_blocks``) that minimises the objective (see
        ParallelSGDRegressor).
    scaling_rule : {'linear', 'sqrt'} or None, default='linear'
        Growth of the step with the batch, capped at the critical batch size (see ParallelSGDRegressor).
    warmup : float, default=0.1
        Epochs of linear warm-up of the step.
    solver : {'auto', 'sgd', 'newton', 'lbfgs', 'dual'}, default='auto'
        ``'sgd'``: the averaged SGD this docstring describes. ``'dual'``: ``loss='hinge'`` or ``'squared_hinge'``
        with an l2 penalty minimised by dual coordinate ascent (liblinear's method, Hsieh et al. 2008, on one
        block; CoCoA rounds with a line search across several), as :class:`~skpar.DualCoordinateAscentSVM` with
        ``C = 1 / (alpha n)``: the
        objective above with the intercept penalised as the weight of a constant feature 1 (liblinear's and
        LinearSVC's convention: :math:`\alpha b_k^2 / 2` is added). It stops once the duality gap, a certificate
        in this objective's scale, is at most ``tol`` per output (SGD's rule asks each epoch for an improvement of
        ``tol``); ``max_iter`` caps its passes. ``'newton'`` and ``'lbfgs'``: ``loss='log_loss'``
        with an l2 penalty minimised exactly over the blocks (:mod:`skpar.parallel._logistic`). The objective is the
        same, so the model is the one SGD converges to: :class:`~sklearn.linear_model.LogisticRegression`'s
        optimum with ``C = 1 / (alpha n)``, one-vs-rest. ``'newton'``: each iteration sums the blocks' gradients
        and Hessian parts (few features, short rows) or Hessian-vector products (conjugate gradients), then runs a
        line search (with the assembled system, a trial step a round, priced with the gradient there, as
        ``'lbfgs'``'s; with conjugate gradients every trial step in one round). ``'lbfgs'``: limited-memory BFGS,
        its direction from the last 10 steps and gradient changes (held on the driver: 20 times the model's size),
        no Hessian pass, and one round an iteration where the unit step passes the line search (it prices the step
        and the gradient there at once). Both stop when no entry of an output's gradient exceeds ``0.1 tol`` in the
        objective's scale (LogisticRegression's bound: ``1e-4`` at the default ``tol``) or ``1e-8`` times its first
        one (``tol=None``: that alone, the optimum to rounding). Both need
        ``loss='log_loss'``, ``penalty='l2'``, ``mode='sync'``, ``averaging='periodic'``, CPU data or a CuPy
        array of dense rows (their rounds then run on the GPU in float64) and no ``early_stopping``, as
        ``'dual'`` does (on CPU data only); ``max_iter`` caps their iterations, and SGD's own parameters
        (the step's) are not read. ``'auto'`` takes ``'dual'`` for the hinge and squared hinge where rows
        are fewer than 10 per feature (text: 20 Newsgroups, Reuters, dorothea), where SGD's epochs make slow
        progress and its stop rule ends far from the optimum. For the log loss, ``'auto'``, where they can run and
        the fit runs in this process (their margins stay on the
        blocks between rounds, which a lost Dask worker would take with it), picks ``'newton'`` where rows
        outnumber features and the Newton system is assembled from the blocks' Hessian parts (up to 64 features,
        or up to 2,048 with short sparse rows: a9a, ijcnn1); else ``'lbfgs'`` (SGD's stop rule ends short of the
        optimum: Fashion-MNIST's raw pixels, tf-idf text), except where rows are fewer than 10 per feature and
        the objective is ill conditioned, :math:`\\lambda_{\\max}(E[x x^T]) / (4 \\alpha) > 10^4` (dorothea):
        L-BFGS's iterations grow with that ratio, and there ``'sgd'``. On a CuPy array of dense rows, ``'auto'``
        picks ``'newton'`` for the log loss where rows outnumber features and there are at most 2,047 of them (the
        GPU forms the Hessian's parts by GEMM), else ``'sgd'``. ``partial_fit`` always runs an SGD epoch,
        continuing from the solution.
    %(block_parameters)s
    client : distributed.Client, 'threads' or None, default=None
        Where to fit (an explicit client, else the active one, else threads).
    %(callback_parameter)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Epochs run (the most any block ran, with ``oneshot``); iterations for ``solver_='newton'`` or ``'lbfgs'``,
        passes for ``'dual'``.
    solver_ : {'sgd', 'newton', 'lbfgs', 'dual'}
        The solver that ran.
    t_ : int
        scikit-learn's count: 1 plus the samples the epochs went over (``n_iter_`` times the rows) since the last
        ``fit``, each ``partial_fit`` adding its rows.
    history_ : list of dict
        One row per round: ``time``, ``objective``, ``eta``, ``n_samples``, ``bytes_sent``, ``block_spread`` (each
        block's distance from the average, relative to its norm), ``block_loss`` (each block's mean loss on its
        own rows) and, in synchronous rounds, ``share`` (the line search's share of the iterate's averaged change,
        1 for an average). A ``'dual'`` fit has one row per certificate: ``time``, ``objective``, and the SVM's
        ``primal``, ``dual``, ``gap`` and ``relative_gap`` (in the SVM's scale, ``1 / alpha`` times this
        objective's) at ``passes`` passes.
    kappa_ : float
        :math:`\\max\\|x\\|^2 / (\\lambda_{\\min} + \\alpha)`, the rows a block needs for one-shot averaging.
    critical_batch_size_ : float
        NaN, as ``kappa_``, where the step's plan reads no moments (a given ``eta0`` or ``'optimal'``, one row a
        step, no scaling rule: :class:`~skpar.SGDClassifier`'s defaults), so none are taken.
    learning_rate_ : float
        This, ``kappa_`` and ``critical_batch_size_`` are SGD's: a ``'newton'``, ``'lbfgs'`` or ``'dual'`` fit
        sets none of them.
    n_blocks_ : int
    n_recoveries_ : int
        Rounds run again because Dask workers holding blocks left the cluster.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    skpar.SGDClassifier : This estimator with scikit-learn's defaults (its steps, to swap in).
    sklearn.linear_model.SGDClassifier : The same objective on one core.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skpar import AveragedSGDClassifier
    >>> X, y = make_classification(n_samples=4000, n_features=20, random_state=0)
    >>> clf = AveragedSGDClassifier(loss="log_loss", averaging="oneshot", n_jobs=2, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.85
    True
    """

    #: the ``loss`` choices and their classes (:mod:`skpar._losses`), as scikit-learn's SGDClassifier lists its own
    loss_functions = MappingProxyType(CLASSIFIER_LOSSES)

    _parameter_constraints: dict = {
        **BaseParallelSGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "multi_class": [StrOptions({"ovr", "multinomial"})],
        "averaging": [StrOptions({"oneshot", "periodic"})],
        "solver": [StrOptions({"auto", "sgd", "newton", "lbfgs", "dual"})],
    }

    def __init__(self, loss="hinge", *, multi_class="ovr", penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, n_iter_no_change=5, early_stopping=False,
                 validation_fraction=0.1, learning_rate="constant", eta0="auto", power_t=0.5, epsilon=0.1,
                 class_weight=None,
                 warm_start=False, average="auto", random_state=None, verbose=0, averaging="periodic", mode="sync",
                 max_staleness=1, replica_steps=None, batch_size="auto", local_steps="epoch",
                 combine="line_search", scaling_rule="linear",
                 warmup=0.1, solver="auto", n_blocks="auto", n_jobs=None, client=None, callback=None):
        self.loss = loss
        self.epsilon = epsilon
        self.multi_class = multi_class
        self.class_weight = class_weight
        self.averaging = averaging
        super().__init__(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, n_iter_no_change=n_iter_no_change, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, learning_rate=learning_rate, eta0=eta0,
                         power_t=power_t, warm_start=warm_start, average=average, random_state=random_state,
                         verbose=verbose, shuffle=shuffle, mode=mode, max_staleness=max_staleness,
                         replica_steps=replica_steps, batch_size=batch_size, local_steps=local_steps, combine=combine,
                         scaling_rule=scaling_rule, warmup=warmup, solver=solver, n_blocks=n_blocks, n_jobs=n_jobs,
                         client=client, callback=callback)

    # ---- hooks of BaseParallelSGD -----------------------------------------------------------------------------
    def _loss(self, n_outputs=1):
        if self.multi_class == "multinomial" and n_outputs > 1:  # SGD's epochs on the softmax (L-BFGS has its own)
            return SoftmaxLogLoss()
        return make_loss(self.loss, classification=True, epsilon=self.epsilon)

    def _validation_targets(self, X_val, y_val, sample_weight_val):
        """The validation labels as indices into ``classes_`` (a label the training data lacks is an error)."""
        unseen = np.setdiff1d(np.unique(y_val), self.classes_)
        if unseen.size:
            raise ValueError(f"y_val has labels that y does not: {unseen.tolist()[:5]}")
        return X_val, np.searchsorted(self.classes_, y_val), sample_weight_val

    def _score_outputs(self, scores, y, sample_weight):
        """Accuracy of the decisions ``scores`` (one column for two classes) on an explicit validation set."""
        predicted = (scores[:, 0] > 0).astype(np.int64) if scores.shape[1] == 1 else np.argmax(scores, axis=1)
        s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
        return float(s @ (predicted == y)) / max(float(s.sum()), 1e-300)

    def _model_attributes(self, W, B, dtype):
        return {"coef_": np.asarray(W, dtype=dtype), "intercept_": np.asarray(B, dtype=dtype)}

    def _check_blocks(self, cbs, n_train):
        self.kappa_ = float(cbs.max_sq_norm / (cbs.lambda_min + self.alpha))
        if self.averaging == "oneshot" and len(n_train) > 1 and min(n_train) < self.kappa_:
            warnings.warn(
                f"one-shot averaging: the smallest block holds {min(n_train)} rows, fewer than kappa = "
                f"max ||x||^2 / (lambda_min + alpha) = {self.kappa_:.3g}, the rows a block needs for one average to be "
                "as good as one fit on all data. Use averaging='periodic', fewer blocks, or more data.",
                SmallBlockWarning, stacklevel=4,
            )

    def _exact_rounds(self, n_outputs):
        return self.multi_class == "multinomial" and n_outputs > 1 and multinomial_by_lbfgs(self, self.early_stopping)

    def _solve_directly(self, rounds, X, kind, early, start, n_outputs, pos_weight, neg_weight):
        """Newton's method, L-BFGS or dual coordinate ascent where the solver is one of them (see ``solver``), else
        None."""
        if self.multi_class == "multinomial" and n_outputs > 1:  # three classes or more: the softmax
            self.solver_ = check_multinomial(self, kind, early)
            if self.solver_ == "sgd":  # SGD's epochs, the kernels on the softmax (see _loss)
                return None
            self._forget_sgd_attributes()
            return solve_multinomial(self, rounds, X, start, n_outputs, np.asarray(pos_weight, float), self._log)
        self.solver_, gram = self._pick_solver(rounds, X, kind, early)
        if self.solver_ == "sgd":
            return None
        if self.solver_ == "dual":
            return solve_dual(self, rounds, X, kind, start, n_outputs, pos_weight, neg_weight)
        d = X.shape[1]
        n = sum(block_train_sizes(rounds))
        bias = 1.0 if self.fit_intercept else 0.0
        history = self._log
        W, n_iter, converged = logistic_newton(
            rounds, np.zeros((n_outputs, d + (1 if bias else 0))), C=1.0 / (self.alpha * n),
            pos_weight=np.asarray(pos_weight, float), neg_weight=np.asarray(neg_weight, float), bias=bias,
            max_iter=self.max_iter, gram=gram, history=history,
            scale=self.alpha, gtol=gradient_bound(self.tol) / self.alpha, start_time=start)
        if not converged and not history.stop:
            method = "L-BFGS" if gram == "lbfgs" else "Newton's method"
            warnings.warn(f"{method} did not converge in {n_iter} iterations (max_iter): the gradient is "
                          f"{history[-1]['gradient']:.3e}. Increase max_iter.", ConvergenceWarning, stacklevel=5)
        self._forget_sgd_attributes()
        state = SGDState.zeros(n_outputs, d)
        state.w[:], state.b[:] = W[:, :d], (W[:, d] * bias if bias else 0.0)
        state.wbar, state.bbar = state.w, state.b  # partial_fit continues from the solution
        return state, history, n_iter

    def _pick_solver(self, rounds, X, kind, early):
        """``(solver, method)``: what ``solver`` asks for, ``'auto'`` resolved as the docstring says, and
        :func:`~skpar.parallel._logistic.logistic_newton`'s ``gram``: ``True`` where Newton's system is assembled
        from the blocks' Hessian parts, ``False`` for conjugate gradients, ``'lbfgs'`` for L-BFGS."""
        if self.solver == "sgd":
            return "sgd", False
        # Newton's and L-BFGS's rounds run on a CuPy array of dense rows (parallel._newton_device); sparse GPU
        # rows and a dask array's GPU chunks (whose storage the driver does not see) run SGD, the dual none of them
        dense_gpu = kind.gpu and kind.sparse is False
        others = [text for bad, text in [
            (self.penalty != "l2", f"penalty={self.penalty!r}"),
            (self.mode != "sync", f"mode={self.mode!r}"), (self.averaging != "periodic", "averaging='oneshot'"),
            (kind.gpu and (self.solver == "dual" or not dense_gpu), "GPU data"), (early, "early_stopping")] if bad]
        losses = DUAL_LOSSES if self.solver == "dual" else ("log_loss",)
        why = ([] if self.loss in losses else [f"loss={self.loss!r}"]) + others
        if self.solver == "dual":
            if why or not rounds.backend.in_process:
                why += [] if rounds.backend.in_process else ["a Dask cluster"]
                raise ValueError("solver='dual' minimises the l2-penalised hinge or squared hinge on CPU data in this "
                                 "process with mode='sync' and averaging='periodic'; it cannot run with "
                                 + ", ".join(why) + ": use solver='sgd'")
            return "dual", None
        if self.solver in ("newton", "lbfgs"):
            if why:
                raise ValueError(f"solver={self.solver!r} minimises the l2-penalised log loss on CPU data or a CuPy "
                                 "array of dense rows, with mode='sync' and averaging='periodic'; it cannot run "
                                 "with " + ", ".join(why) + ": use solver='sgd'")
            if self.solver == "lbfgs":
                return "lbfgs", "lbfgs"
            return "newton", (dense_gpu and X.shape[1] + 1 <= MAX_GRAM_WEIGHTS) or use_gram(rounds, X.shape[1] + 1)
        if others or not rounds.backend.in_process:
            return "sgd", False
        if dense_gpu:
            # on a GPU the Hessian's parts are a float64 GEMM a chunk: Newton's system is assembled wherever it is
            # small, and its answer is the optimum's, as on the host (docs/gpu.md)
            if self.loss == "log_loss" and X.shape[0] >= X.shape[1] and X.shape[1] + 1 <= MAX_GRAM_WEIGHTS:
                return "newton", True
            return "sgd", False
        if self.loss in DUAL_LOSSES:
            # dual coordinate ascent where rows are few per feature (text): SGD's epochs there make slow progress
            # and its stop rule ends far from the optimum (20 Newsgroups: objective 0.95 where the optimum is 0.77
            # and SGDClassifier stops at 0.80), where the dual takes a few passes (docs/benchmarks.md); on one
            # block, as n_blocks='auto' gives there: several blocks took more passes than one (the SVM's figures)
            few_rows = X.shape[0] < FEW_ROWS_PER_FEATURE * X.shape[1]
            return ("dual", None) if few_rows and rounds.n_blocks == 1 else ("sgd", False)
        if why:
            return "sgd", False
        # Newton where its system is assembled (rows outnumber features, few of them; a dask array's unknown row
        # count compares False); elsewhere its conjugate gradients cost more than L-BFGS's gradients (Fashion-MNIST)
        if X.shape[0] >= X.shape[1] and use_gram(rounds, X.shape[1] + 1):
            return "newton", True
        # else L-BFGS: an iteration's pass costs about an SGD epoch and reaches the optimum's accuracy where SGD's
        # stop rule ends short of it (Fashion-MNIST 84.4% against 83.0%, 9 s against LogisticRegression's 14;
        # text), docs/benchmarks.md. SGD keeps the objectives that are ill conditioned where rows are few per
        # feature (dorothea): L-BFGS's iterations grow with the Hessian's condition number, about
        # lambda_max(E[x x^T]) / (4 alpha) for the log loss, and its stop at LogisticRegression's bound lands
        # further from the optimum's accuracy there. The estimate is the one SGD's step needs anyway.
        if X.shape[0] < FEW_ROWS_PER_FEATURE * X.shape[1]:
            cbs = self._moments(rounds, X.shape[1], block_train_sizes(rounds))
            if cbs.lambda_max / (4.0 * self.alpha) > LBFGS_MAX_CONDITION:
                return "sgd", False
        return "lbfgs", "lbfgs"

    # ---- public API -------------------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit by one-shot or periodic averaging of SGD on blocks.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask dataframe, CuPy array} of shape (n_samples, n_features)
            Training data; float32 is kept as float32.
        y : array-like or dask array of shape (n_samples,)
            Class labels.
        coef_init : array-like of shape (n_classes, n_features), default=None
            The coefficients SGD's epochs start from (``(n_features,)`` for two classes), as scikit-learn's
            ``SGDClassifier`` takes them; ``solver='auto'`` then runs SGD.
        intercept_init : array-like of shape (n_classes,), default=None
            The intercepts they start from.
        sample_weight : array-like or dask array of shape (n_samples,), default=None
            Per-sample weights.
        X_val : {array-like, sparse matrix, dask array, CuPy array} of shape (n_val, n_features), default=None
            A validation set for ``early_stopping`` (scikit-learn's names, from ``HistGradientBoostingClassifier``):
            its accuracy is watched instead of that of rows held out of X, and no row of X is held out. It is
            scored on the driver each epoch (a dask array is computed there once; a CuPy array stays on its GPU,
            where early stopping then also runs).
        y_val : array-like of shape (n_val,), default=None
            Its labels, each one of y's.
        sample_weight_val : array-like of shape (n_val,), default=None
            Its weights.

        Returns
        -------
        self : AveragedSGDClassifier
            Fitted estimator.
        """
        return self._fit_sgd(X, y, sample_weight, max_epochs=self.max_iter, incremental=False,
                             strategy=self.averaging, init=self._fit_start(coef_init, intercept_init),
                             validation_set=(X_val, y_val, sample_weight_val))

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One parallel epoch over the given data, continuing the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, CuPy array} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : AveragedSGDClassifier
            Updated estimator.
        """
        self._check_partial()
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # scikit-learn's refusal, in its words: a batch's class counts are not the problem's
            raise ValueError("class_weight 'balanced' is not supported for partial_fit. In order to use 'balanced' "
                             "weights, use compute_class_weight('balanced', classes=classes, y=y). In place of y you "
                             "can use a large enough sample of the full training set target to properly estimate the "
                             "class frequency distributions. Pass the resulting weights as the class_weight "
                             "parameter.")
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._pending_classes = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on the first call to partial_fit "
                             f"({self.classes_.tolist()}).")
        self.solver_ = "sgd"
        return self._fit_sgd(X, y, sample_weight, max_epochs=1, incremental=True, strategy="sync", partial=True)

    def _check_proba(self):
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(f"probability estimates are not available for loss={self.loss!r}")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Class probabilities, for ``loss='log_loss'`` (logistic) or ``'modified_huber'``.

        One-vs-rest outputs are turned into probabilities as scikit-learn's SGDClassifier does: the logistic
        function (or the clipped linear map of modified Huber) of each output, normalised over classes; a
        multinomial model's are the softmax of its scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, CuPy array} of shape (n_samples, n_features)
            The samples whose classes are estimated (a dask array's probabilities are computed).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class (in ``classes_`` order); CuPy for CuPy input.
        """
        scores = self.decision_function(X)
        if is_dask_collection(scores):
            scores = scores.compute()
        xp = array_module(scores)  # CuPy scores (GPU input) give CuPy probabilities
        scores = xp.asarray(scores, dtype=xp.float64)
        if self.multi_class == "multinomial" and scores.ndim == 2:  # the model's own probabilities: the softmax
            e = xp.exp(scores - scores.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if self.loss == "log_loss":
            p = 1.0 / (1.0 + xp.exp(-scores))
        else:
            p = (xp.clip(scores, -1, 1) + 1) / 2
        if p.ndim == 1:
            return xp.column_stack([1 - p, p])
        total = p.sum(axis=1, keepdims=True)
        zero = total[:, 0] == 0
        p[zero] = 1.0 / p.shape[1]
        total[zero] = 1.0
        return p / total

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Logarithm of :meth:`predict_proba`.
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
