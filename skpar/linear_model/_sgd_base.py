"""What every data-parallel SGD estimator shares: parameters, seeds and the fit driver (the step-size plan is
:mod:`._sgd_plan`'s).

Estimators subclass :class:`BaseParallelSGD` and supply their loss; the algorithm itself lives in
:mod:`skpar.parallel` and knows nothing of estimators.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._report import CallbackSupportMixin, reporting
from ..backend import get_backend
from ..diagnostics import estimate_on_blocks
from ..kernels._loss import SOFTMAX
from ..parallel import SGDState, SyncRounds, sgd_oneshot, sgd_sync
from ..parallel._async import sgd_async, sgd_hogwild
from ..parallel._blas import one_blas_thread_each
from ..parallel._sgd import block_sizes, held_out_score
from ._n_blocks import n_threads, resolve_n_blocks
from ._persistence import ClientParamMixin
from ._sgd_blocks import (
    batch_inverse_frequency_from_counts,
    column_counts,
    column_sq_sums,
    presence,
    sparse_rows,
    survey_task,
)
from ._sgd_plan import NEVER, NOT_READ, divergence_reference, make_plan, reads_moments
from ._sgd_validation import ValidationMixin
from ._validation import check_fit_data

#: rows sampled to estimate the moments behind the critical batch size and the automatic step size
MOMENT_SAMPLES = 20_000


def _seed(base, *keys):
    """A 31-bit seed determined by ``base`` and ``keys`` (epoch or block index): drawn up front, never from a clock."""
    return int(np.random.SeedSequence([base, *keys]).generate_state(1)[0] & 0x7FFFFFFF)


class _EpochSeeds:
    """The seeds of epochs ``first, first + 1, ...`` (``_seed(base, 3, epoch)``), drawn when an epoch asks for its own.

    A list of ``max_iter`` seeds cost 20 ms a fit at the default ``max_iter=1000`` (a ``SeedSequence`` is 20 us),
    more than a whole small fit; the values are those of the list, so fits are unchanged."""

    def __init__(self, base, first, n):
        self.base, self.first, self.n = base, first, n

    def __len__(self):
        return self.n

    def __getitem__(self, e):
        if isinstance(e, slice):
            return [self[i] for i in range(*e.indices(self.n))]
        if not 0 <= e < self.n:
            raise IndexError(e)
        return _seed(self.base, 3, self.first + e)


class BaseParallelSGD(ClientParamMixin, SparseCoefMixin, CallbackSupportMixin, ValidationMixin, BaseEstimator):
    """Shared parameters and fit machinery of the data-parallel SGD estimators (not for direct use); ``sparsify`` and
    ``densify`` as scikit-learn's SGD estimators have them (``coef_`` as CSR for prediction, dense again to fit)."""

    #: the factor of the intercepts' steps on sparse rows (the drop-ins take scikit-learn's 0.01, which slows the
    #: intercept where rows are sparse; the fast classes step it as the weights)
    _sparse_intercept_decay = 1.0

    def __init__(self, *, penalty, alpha, l1_ratio, fit_intercept, max_iter, tol, n_iter_no_change, early_stopping,
                 validation_fraction, learning_rate, eta0, power_t, warm_start, average, random_state, verbose, shuffle,
                 mode, max_staleness, replica_steps, batch_size, local_steps, scaling_rule, warmup, solver, n_blocks,
                 n_jobs, client, callback, combine="line_search"):
        # the parameters both SGD estimators take, set once here (each estimator passes its own on, in its own
        # signature's order): scikit-learn's BaseSGD does the same
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.warm_start = warm_start
        self.average = average
        self.random_state = random_state
        self.verbose = verbose
        self.shuffle = shuffle
        self.mode = mode
        self.max_staleness = max_staleness
        self.replica_steps = replica_steps
        self.batch_size = batch_size
        self.local_steps = local_steps
        self.combine = combine
        self.scaling_rule = scaling_rule
        self.warmup = warmup
        self.solver = solver
        self.n_blocks = n_blocks
        self.n_jobs = n_jobs
        self.client = client
        self.callback = callback

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, None, None, closed="neither"), None],
        "verbose": ["verbose"],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions({"constant", "optimal", "invscaling", "adaptive"})],
        "eta0": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean", StrOptions({"auto"})],
        "mode": [StrOptions({"sync", "async", "hogwild"})],
        "max_staleness": [Interval(Integral, 1, None, closed="left")],
        "replica_steps": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "local_steps": [Interval(Integral, 1, None, closed="left"), StrOptions({"epoch"})],
        "combine": [StrOptions({"line_search", "average"})],
        "scaling_rule": [StrOptions({"linear", "sqrt"}), None],
        "warmup": [Interval(Real, 0, None, closed="left")],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
        "client": [None, StrOptions({"threads"}), object],
        "callback": [callable, None],
    }

    # ---- plan -------------------------------------------------------------------------------------------------
    def _average(self):
        """``average`` with ``'auto'`` resolved: Polyak averaging in the modes that keep it (``'sync'`` and
        ``'async'``), none for ``'hogwild'``, whose threads write one shared model with no average of it, and none
        with an l1 penalty, whose proximal steps leave exact zeros in the iterates that their average loses.
        Where it averages, it starts after the first epoch (:func:`~skpar.linear_model._sgd_plan.make_plan`)."""
        if isinstance(self.average, str):  # 'auto'
            l1 = self.penalty == "l1" or (self.penalty == "elasticnet" and self.l1_ratio > 0)
            return self.mode != "hogwild" and not l1
        return self.average

    # ---- hooks for subclasses -----------------------------------------------------------------------------------
    def _loss(self, n_outputs):
        """The loss object (a :class:`skpar._losses.Loss`) of a fit with ``n_outputs`` outputs."""
        raise NotImplementedError

    def _encode_targets(self, y, sample_weight, first):
        """Return ``(y, n_outputs, pos_weight, neg_weight)``: targets as the kernels read them."""
        raise NotImplementedError

    def _exact_rounds(self, n_outputs):
        """Hook: whether the fit's rounds are exact sums over the blocks (no average of the blocks' models), so
        that ``n_blocks='auto'`` needs no rows per feature (the multinomial classifier's L-BFGS)."""
        return False

    def _model_attributes(self, W, B, dtype):
        """``coef_`` and ``intercept_`` of the model ``W`` (n_outputs, d), ``B`` (n_outputs,), as a dict."""
        raise NotImplementedError

    def _round_attributes(self, model, *, d, dtype):
        """``coef_`` and ``intercept_`` of a round's ``model`` as a driver hands it to the log: ``(W, B)`` (SGD,
        the normal equations, the softmax), or ``W`` with the intercepts' column (Newton's method, L-BFGS and the
        dual, bias 1); what the fit stores (``_model_attributes``)."""
        if isinstance(model, tuple):
            W, B = model
        else:
            W, B = model[:, :d], (model[:, d] if model.shape[1] > d else np.zeros(model.shape[0]))
        if not self.fit_intercept:
            B = np.zeros_like(B)
        return self._model_attributes(W, B, dtype)

    # ---- fit driver -------------------------------------------------------------------------------------------
    def _fit_sgd(self, X, y, sample_weight, *, max_epochs, incremental, strategy="sync", partial=False,
                 init=(None, None), validation_set=(None, None, None)):
        """Fit for ``max_epochs`` epochs; ``incremental`` continues the stored model (warm_start, partial_fit),
        ``partial`` says it is ``partial_fit`` (an SGD epoch, whatever the solver), ``init`` is ``fit``'s
        ``(coef_init, intercept_init)``: where either is given, SGD's epochs start from them.

        ``strategy`` is ``'sync'`` (synchronous rounds of ``local_steps``) or ``'oneshot'`` (each block fits alone
        for up to ``max_epochs`` epochs, then one average). The rounds' rows go to a :class:`~skpar._report.FitLog`
        (logged, a progress bar, the callback), and ``history_`` keeps them as a plain list. ``validation_set``:
        ``fit``'s ``(X_val, y_val, sample_weight_val)``, early stopping's data in place of held-out rows.
        """
        with reporting(self, max_epochs):
            return self._fit_rounds(X, y, sample_weight, max_epochs=max_epochs, incremental=incremental,
                                    strategy=strategy, partial=partial, init=init, validation_set=validation_set)

    def _fit_rounds(self, X, y, sample_weight, *, max_epochs, incremental, strategy, partial, init,
                    validation_set=(None, None, None)):
        start = time.perf_counter()
        self._check_mode(strategy)
        if partial:
            self._check_partial()
        resume = incremental and hasattr(self, "_sgd_state")
        # the data's kind (GPU or host, dask or local, sparse) is decided here, once, and passed down
        X, y, sample_weight, kind = check_fit_data(self, X, y, sample_weight, reset=not resume,
                                                   y_numeric=not is_classifier(self))
        gpu = kind.gpu
        if gpu:
            self._check_gpu(validation_given=validation_set[0] is not None, partial=partial)
        self._log.report_model(functools.partial(self._round_attributes, d=X.shape[1], dtype=(
            X.dtype if X.dtype in (np.float32, np.float64) else np.float64)), X, y, sample_weight)
        y, n_outputs, pos_weight, neg_weight = self._encode_targets(y, sample_weight, first=not resume)
        val = self._checked_validation_set(validation_set, partial)
        loss = self._loss(n_outputs)
        # the validation rows are held out whenever early_stopping is on, as scikit-learn holds them out, even
        # where tol=None lets no epoch stop the fit; an explicit validation set takes their place. They are drawn
        # before the blocks' seeds, as scikit-learn draws them before its own from the same random_state.
        early = self.early_stopping and not partial
        held_out = self._held_out_rows(y, sample_weight, kind) if early and val is None else None
        if not resume:
            self._base_seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self._epochs_done = 0
        # the blocks come from the data and the arguments, never from the machine; threads only run them
        n_blocks = resolve_n_blocks(self.n_blocks, self.n_jobs, X, kind,
                                    averaged=self.mode != "hogwild" and not self._exact_rounds(n_outputs))
        backend = get_backend(self.client, n_threads(self.n_jobs, n_blocks), gpu_local=kind.local_gpu)
        # GPU rounds are local epochs of thousands of warp workers (skpar.kernels._sgd_cuda), whatever local_steps says
        local_steps = "epoch" if gpu else self.local_steps
        try:
            blocks = self._partition(backend, X, y, sample_weight, early and val is None, kind, n_blocks, held_out)
            # SGD keeps no state on the blocks (the driver holds the model): a round lost with a worker is run again
            # on the blocks placed anew; the asynchronous loop sends a lost block's tasks again itself
            rounds = SyncRounds(backend, blocks, recoverable=True)
            # the rows, validation rows too, as scikit-learn counts them in t_ (a dask array's unknown count is read
            # from its blocks)
            n_rows = X.shape[0] if isinstance(X.shape[0], Integral) else sum(block_sizes(rounds))
            with one_blas_thread_each(rounds):
                start_state = self._initial_state(init, n_outputs, X.shape[1])
                direct = None if partial or start_state is not None else self._solve_directly(
                    rounds, X, kind, early, start, n_outputs, pos_weight, neg_weight)
                if direct is not None:
                    (state, history, n_epochs), plan, tol, converged = direct, None, None, True
                else:
                    # one round for what the plan needs of every block (on a cluster each round is a trip to
                    # every worker); the zero model's loss on this call's rows scales the divergence test, of a
                    # fresh plan and of one that partial_fit continues on new rows
                    survey = rounds.run(survey_task, loss, pos_weight, neg_weight).results
                    state, history, plan, tol, n_epochs, converged = self._fit_epochs(
                        strategy, rounds, X, kind, survey, resume, incremental, early, max_epochs, local_steps,
                        loss, n_outputs, pos_weight, neg_weight, start, start_state, val)
        finally:
            backend.close()
            self.__dict__.pop("_moments_memo", None)
        self._store_fit(state, plan, history, rounds, n_epochs, X.dtype,
                        (self.t_ if resume and hasattr(self, "t_") else 1) + int(n_epochs) * n_rows)
        if (not incremental or max_epochs > 1) and tol is not None and not converged and n_epochs == max_epochs \
                and not self._log.stop:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider increasing max_iter to "
                "improve the fit.", ConvergenceWarning, stacklevel=3,
            )
        return self

    def _store_fit(self, state, plan, history, rounds, n_epochs, dtype, t):
        """The fitted attributes from the fit's final ``state`` (never non-finite ones); ``t`` is ``t_``,
        scikit-learn's count: 1 plus the samples this fit's epochs went over, partial_fit's calls adding theirs."""
        W, B = state.model()
        if not (np.isfinite(W).all() and np.isfinite(B).all()):  # the strategies guard this; never hand out NaN
            raise FloatingPointError("SGD produced non-finite coefficients")
        if not self.fit_intercept:
            B = np.zeros_like(B)
        self._sgd_state, self._sgd_plan = state, plan
        self._epochs_done += n_epochs
        dtype = dtype if dtype in (np.float32, np.float64) else np.float64
        for name, value in self._model_attributes(W, B, dtype).items():
            setattr(self, name, value)
        self._store_iterates(state, plan, dtype)
        self.n_iter_ = int(n_epochs)
        self.t_ = int(t)
        self.history_ = history
        self.n_blocks_ = rounds.n_blocks
        self.n_recoveries_ = int(rounds.recoveries)
        if plan is not None:
            self.learning_rate_ = float(plan.eta)

    def _store_iterates(self, state, plan, dtype):
        """With averaging on, the last iterate and the average apart, under scikit-learn's names
        (``_standard_coef``, ``_standard_intercept``, ``_average_coef``, ``_average_intercept``), beside ``coef_``
        (the average once it has started); a fit without averaging has none of them, as scikit-learn's has not."""
        names = ("_standard_coef", "_standard_intercept", "_average_coef", "_average_intercept")
        for name in names:
            self.__dict__.pop(name, None)
        if plan is None or plan.avg_start >= NEVER:
            return
        for prefix, (W, B) in (("_standard", (state.w, state.b)), ("_average", (state.wbar, state.bbar))):
            model = self._model_attributes(W, B if self.fit_intercept else np.zeros_like(B), dtype)
            setattr(self, prefix + "_coef", model["coef_"])
            setattr(self, prefix + "_intercept", model["intercept_"])

    def _partition(self, backend, X, y, sample_weight, early, kind, n_blocks, held_out=None):
        """The fit's ``n_blocks`` blocks (None: a dask array's row chunks; a worker process each for Hogwild! on
        Dask, whose threads share the block's model), each with its seed and, with ``early``, its validation rows
        (its rows of ``held_out``, where given). Block ``k``'s seed depends on ``k`` alone, so a block runs the
        same steps on any thread or worker."""
        if self.mode == "hogwild" and not backend.in_process:
            n_blocks = backend.n_processes
        n_seeds = len(X.chunks[0]) if n_blocks is None else n_blocks
        seeds = [_seed(self._base_seed, 1, k) for k in range(n_seeds)]
        return backend.partition(X, y, sample_weight, n_blocks=n_blocks, seeds=seeds,
                                 validation_fraction=self.validation_fraction if early else 0.0, gpu=kind.gpu,
                                 held_out=held_out)

    def _fit_epochs(self, strategy, rounds, X, kind, survey, resume, incremental, early, max_epochs, local_steps,
                    loss, n_outputs, pos_weight, neg_weight, start, start_state=None, val=None):
        """Run SGD's epochs from a fresh model, the stored one, or ``start_state`` (``fit``'s ``coef_init`` and
        ``intercept_init``); returns ``(state, history, plan, tol, n_epochs, converged)``."""
        n_train = [s.n_train for s in survey]
        state, plan = (self._sgd_state, self._sgd_plan) if resume else (SGDState.zeros(n_outputs, X.shape[1]), None)
        if start_state is not None:
            state, plan = start_state, None
        if resume:  # the rows before, kept without being reported again
            self._log.extend(self.history_)
        # filled as the epochs run (as the SVM's is), so that a fit can be watched live
        history = self.history_ = self._log
        if plan is None:  # a fresh fit, or SGD continuing a direct solve
            plan = self._new_plan(rounds, X.shape[1], loss, survey, pos_weight, neg_weight, local_steps,
                                  line=self._line_searched(strategy, kind))
            if resume and plan.avg_start < NEVER:  # (averaging on)
                # from a direct solve's exact model, as from a converged SGD fit: past the warm-up, with the
                # average under way, the solution counting as an epoch of iterates, so that one more epoch's noise
                # is averaged away rather than handed out
                state.t = max(state.t, plan.avg_start)
                state.n_avg = max(1, math.ceil(max(n_train) / plan.batch_size))
        else:
            # partial_fit on new rows: their targets may sit far from the first call's (y = 1 there, 2 here: the
            # first call's zero-model loss of 0.5 made the second's objective of 1.3 a divergence, halved 30 times)
            plan = replace(plan, pos_weight=np.asarray(pos_weight, float), neg_weight=np.asarray(neg_weight, float),
                           **divergence_reference(sum(s.zero_loss for s in survey) / max(sum(n_train), 1)))
        # scikit-learn's SGD estimators damp the intercepts' steps on sparse rows; their drop-ins do too
        plan = replace(plan, intercept_decay=self._sparse_intercept_decay if kind.sparse else 1.0)
        # asynchronous blocks run at their own pace: a fast block may run up to n_blocks times the epochs
        n_seeds = max_epochs * (rounds.n_blocks if self.mode == "async" else 1)
        epoch_seeds = _EpochSeeds(self._base_seed, self._epochs_done, n_seeds)
        tol = None if incremental and max_epochs == 1 else self.tol
        if tol is not None and not early and loss.margin != SOFTMAX:
            # one-vs-rest: the objective is the sum of the K outputs' objectives, and scikit-learn stops each
            # binary problem when its own loss stops improving by tol: the sum is asked for K tol (the softmax's
            # is one objective of all the outputs: tol itself)
            tol = tol * n_outputs
        common = dict(epoch_seeds=epoch_seeds, max_epochs=max_epochs, tol=tol,
                      n_iter_no_change=self.n_iter_no_change, history=history, start_time=start)
        validation = None
        if early:  # the score early stopping watches: an explicit validation set's, or the held-out rows'
            validation = self._explicit_score(*val) if val is not None else held_out_score(rounds, plan)
        state, plan, n_epochs, converged = self._run_strategy(strategy, rounds, X, state, plan, local_steps,
                                                              n_train, validation, kind, common)
        return state, history, plan, tol, n_epochs, converged

    def _fit_start(self, coef_init, intercept_init):
        """``fit``'s ``init``: ``(coef_init, intercept_init)``, with ``warm_start`` the last fit's ``coef_`` and
        ``intercept_`` where they are not given. This is scikit-learn's warm start, a fit that starts from them
        with its step schedule and averages restarted (``partial_fit`` continues a fit's own steps instead); where
        the fit's solver starts from zero (an exact solver asked for, the softmax's L-BFGS) there is nothing to
        start from."""
        if not (self.warm_start and hasattr(self, "coef_")) or self.solver not in ("auto", "sgd") \
                or self._exact_rounds(self.coef_.shape[0]):
            return coef_init, intercept_init
        coef = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_
        return (coef if coef_init is None else coef_init), (self.intercept_ if intercept_init is None
                                                             else intercept_init)

    def _initial_state(self, init, n_outputs, d):
        """The state SGD starts from where ``fit`` was given ``coef_init`` or ``intercept_init`` (scikit-learn's
        shapes: ``(n_outputs, d)`` or ``(d,)`` for one output, ``(n_outputs,)``), else None."""
        coef, intercept = init
        if coef is None and intercept is None:
            return None
        if self.solver not in ("auto", "sgd") or self._exact_rounds(n_outputs):
            solver = "multi_class='multinomial' (L-BFGS)" if self._exact_rounds(n_outputs) else \
                f"solver={self.solver!r}"
            raise ValueError(f"coef_init and intercept_init start SGD's epochs; {solver} starts from zero: use "
                             "solver='sgd' or 'auto'" + (" with multi_class='ovr'" if "multi" in solver else ""))
        self.solver_ = "sgd"
        state = SGDState.zeros(n_outputs, d)
        if coef is not None:
            coef = np.asarray(coef, dtype=np.float64)
            if coef.shape not in ((n_outputs, d),) + (((d,),) if n_outputs == 1 else ()):
                raise ValueError(f"Provided coef_init does not match dataset: shape {coef.shape}, expected "
                                 f"{(n_outputs, d)}" + (f" or {(d,)}" if n_outputs == 1 else ""))
            state.w[:] = coef.reshape(n_outputs, d)
        if intercept is not None:
            intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
            if intercept.shape != (n_outputs,):
                raise ValueError(f"Provided intercept_init does not match dataset: shape {intercept.shape}, "
                                 f"expected {(n_outputs,)}")
            state.b[:] = intercept
        state.wbar, state.bbar = state.w.copy(), state.b.copy()
        return state

    def _solve_directly(self, rounds, X, kind, early, start, n_outputs, pos_weight, neg_weight):
        """Hook: ``(state, history, n_iter)`` of a solver that runs no SGD epochs (the model as an
        :class:`SGDState`, its own iterations), or None to run SGD's epochs; it warns where it did not converge."""
        return None

    def _forget_sgd_attributes(self):
        """Drop what an earlier SGD fit set that a direct solve does not (the step and its estimates)."""
        for name in ("critical_batch_size_", "critical_batch_size_upper_", "learning_rate_", "kappa_"):
            self.__dict__.pop(name, None)

    def _new_plan(self, rounds, d, loss, survey, pos_weight, neg_weight, local_steps, line=True):
        """The plan of a fresh fit, from the blocks' survey and a moment sample (the critical batch
        size, stored as ``critical_batch_size_``; NaN where the plan reads no moments and none are taken)."""
        n_train = [s.n_train for s in survey]
        read = reads_moments(self, rounds.n_blocks, local_steps)
        cbs = self._moments(rounds, d, n_train) if read else NOT_READ
        zero_loss = sum(s.zero_loss for s in survey)
        plan = make_plan(self, loss, cbs, zero_loss / max(sum(n_train), 1), rounds.n_blocks, n_train, pos_weight,
                         neg_weight, local_steps, [s.workers for s in survey], line)
        self._check_blocks(cbs, n_train)
        self.critical_batch_size_ = float(cbs.lower) if read else math.nan
        self.critical_batch_size_upper_ = float(cbs.upper) if read else math.nan
        return plan

    def _moments(self, rounds, d, n_train):
        """The critical batch size's estimate on the fit's blocks (:func:`~skpar.diagnostics.estimate_on_blocks`),
        taken once a fit: a solver choice that reads it leaves it to SGD's plan."""
        memo = self.__dict__.get("_moments_memo")
        if memo is not None and memo[0] is rounds:
            return memo[1]
        cbs = estimate_on_blocks(rounds, d, fit_intercept=self.fit_intercept, max_samples=MOMENT_SAMPLES,
                                 seed=_seed(self._base_seed, 2), n_rows=n_train)
        self.__dict__["_moments_memo"] = (rounds, cbs)
        return cbs

    def _run_strategy(self, strategy, rounds, X, state, plan, local_steps, n_train, validation, kind, common):
        """Run the fit's strategy (``mode``, or one-shot averaging) over the blocks; returns ``(state, plan,
        n_epochs, converged)``."""
        if self.mode == "async":
            return sgd_async(
                rounds, state, plan, local_steps=self.local_steps, n_train=n_train,
                max_staleness=self.max_staleness, validation=validation, **common)
        if self.mode == "hogwild":
            inv_q = np.ones(X.shape[1])
            if sparse_rows(rounds, kind):
                counts = sum(rounds.run(column_counts, X.shape[1]).results)
                inv_q = batch_inverse_frequency_from_counts(counts, sum(n_train), plan.batch_size)
            plan = replace(plan, replica_steps=int(self.replica_steps or 0))
            if self.replica_steps:  # the weights' largest curvature bounds the fold period (stable_period)
                sq = sum(rounds.run(column_sq_sums, X.shape[1]).results)
                plan = replace(plan, replica_curvature=float(np.max(sq, initial=0.0)) / max(sum(n_train), 1))
            # on Dask the blocks live in other processes: each worker's threads share its own copy
            return sgd_hogwild(rounds, state, plan, inv_q=inv_q, own_models=not rounds.backend.in_process,
                               validation=validation, **common)
        if strategy == "oneshot":
            return sgd_oneshot(rounds, state, plan, presence=presence(rounds, X, 2, kind), **common)
        return sgd_sync(rounds, state, plan, local_steps=local_steps, n_train=n_train,
                        validation=validation, adaptive=self.learning_rate == "adaptive",
                        presence=presence(rounds, X, local_steps, kind),
                        line_search=self._line_searched(strategy, kind), **common)

    def _line_searched(self, strategy, kind):
        """Whether the fit's rounds are combined by the line search (:mod:`skpar.parallel._sgd_line`): synchronous
        periodic rounds on CPU blocks with ``combine='line_search'``; the plan's ``batch_size='auto'`` follows it."""
        return self.combine == "line_search" and strategy != "oneshot" and self.mode == "sync" and not kind.gpu

    def _check_mode(self, strategy):
        if self.penalty == "elasticnet" and self.l1_ratio is None:  # scikit-learn's words
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.learning_rate == "optimal" and self.alpha == 0:  # scikit-learn's words
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal'. alpha is used to compute the "
                             "optimal learning rate.")
        if self.power_t < 0:  # scikit-learn 1.8 deprecated them; the same warning, for a drop-in
            warnings.warn("Negative values for `power_t` are deprecated in scikit-learn 1.8 and will raise an error "
                          "in 1.10; skpar follows it.", FutureWarning, stacklevel=4)
        if self.replica_steps is not None and self.mode != "hogwild":
            raise ValueError(f"replica_steps is a setting of mode='hogwild' (threads folding replicas into the "
                             f"shared model), not of mode={self.mode!r}: leave it None")
        if self.mode == "sync":
            return
        if strategy == "oneshot":
            raise ValueError(f"one-shot averaging is a synchronous strategy; mode={self.mode!r} needs "
                             "averaging='periodic'")
        if self.mode == "hogwild" and self._average():
            raise ValueError("mode='hogwild' has no average of iterates (every thread writes the one shared model): "
                             "set average=False or 'auto'")

    def _check_partial(self):
        """What ``partial_fit`` refuses, before anything else (scikit-learn's order and words)."""
        if self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit: a single epoch has no epochs to stop")

    def _check_gpu(self, validation_given=False, partial=False):
        """What the GPU path does not do (yet): say so before any work starts (``partial``: for ``partial_fit``)."""
        if not self.shuffle:
            raise ValueError("shuffle=False: the GPU's warps read their rows in stripes of a random order; fit GPU "
                             "data with shuffle=True")
        if self.mode != "sync":
            raise ValueError(f"mode={self.mode!r} runs on CPU blocks; GPU data fits with mode='sync' (inside a GPU "
                             "the warps already update asynchronously or in local epochs)")
        if self.early_stopping and not validation_given:
            raise ValueError("early_stopping holds out validation rows on the CPU path only; on GPU data give fit "
                             "an explicit validation set (X_val, y_val) or set early_stopping=False")

    def _check_blocks(self, cbs, n_train):
        """Hook: warn about blocks too small for the chosen strategy (nothing to check for synchronous rounds)."""
