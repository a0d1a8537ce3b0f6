"""``DualCoordinateAscentSVM``: linear SVMs by dual coordinate ascent, distributed as CoCoA+."""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._losses import LOSSES, make_loss
from .._report import CallbackSupportMixin, reporting
from ..backend import contiguous, get_backend
from ..parallel import SyncRounds
from ..parallel._blas import one_blas_thread_each
from ..parallel._cocoa import cocoa, passcode
from ..parallel._dcd_tasks import alpha_task
from ..parallel._newton import MAX_GRAM_WEIGHTS, primal_newton, use_gram
from ._classifier_mixin import LinearClassifierMixin
from ._n_blocks import n_threads, resolve_n_blocks
from ._persistence import ClientParamMixin
from ._shared_docs import shared_parameters
from ._validation import check_fit_data

_LOSSES = tuple(name for name, cls in LOSSES.items() if cls.dual is not None)


@shared_parameters
class DualCoordinateAscentSVM(ClientParamMixin, LinearClassifierMixin, ClassifierMixin, CallbackSupportMixin,
                              BaseEstimator):
    """Linear SVM by dual coordinate ascent on blocks of rows, combined as in CoCoA.

    Minimises the primal of scikit-learn's :class:`~sklearn.svm.LinearSVC`, for each output ``k`` (one per class,
    one-vs-rest; one for two classes),

    .. math::

        \\min_{w_k} \\; \\frac12 \\|w_k\\|^2 + C \\sum_{i=1}^n s_i\\, c_{ik}\\, \\ell(t_{ik}\\, w_k^\\top \\tilde x_i),

    with :math:`t_{ik} = \\pm 1`, :math:`\\ell(z) = \\max(0, 1 - z)` (hinge) or its square, sample weights
    :math:`s_i` (a per-sample C) and class weights :math:`c_{ik}`; :math:`\\tilde x_i` carries an appended
    constant ``intercept_scaling`` when an intercept is fitted, so the intercept is penalised as liblinear does.

    It works on the dual, whose variables belong to the rows: each block improves its own dual variables against
    the shared ``w`` with local passes of dual coordinate ascent (the closed-form clipped step of Hsieh et al.
    2008), every class in the same pass, and the driver adds the blocks' changes of ``w`` (CoCoA+, whose local
    subproblems are made safe by the factor ``sigma' = number of blocks``) or averages them (CoCoA). Every round
    computes the duality gap from the blocks' losses and dual terms: the fit stops on that certificate.

    With more rows than features and the squared hinge it runs Newton's method on the primal instead
    (``solver='auto'``), as :class:`~sklearn.svm.LinearSVC` does there: the blocks sum the gradient, the Hessian's
    parts (or Hessian-vector products) and a line search's losses, and the dual variables that the primal point
    gives, :math:`\\alpha_{ik} = 2 C s_i c_{ik} \\max(0, 1 - t_{ik} w_k^\\top \\tilde x_i)`, certify it with the same
    duality gap. Where rows outnumber features it needs a handful of iterations where dual coordinate ascent takes
    tens of passes (docs/benchmarks.md).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength.
    loss : {'hinge', 'squared_hinge'}, default='squared_hinge'
    fit_intercept : bool, default=True
        Append the constant ``intercept_scaling`` to every row (liblinear's penalised intercept).
    intercept_scaling : float, default=1.0
        The constant appended to every row; the intercept is ``intercept_scaling`` times its weight.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies C for the samples of a class (the positive samples of each one-vs-rest output).
    tol : float, default=1e-4
        Stop when the duality gap relative to the primal objective is at most ``tol``.
    max_iter : int, default=1000
        Passes over the data (in ``mode='sync'``: rounds times ``local_iters``); Newton iterations for the primal
        solver.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the rows in each block's passes (a fresh order every pass).
    verbose : int, default=0
        The level of the ``skpar`` logger during the fit: 0 leaves it as the application set it; 1 or more logs
        every round at INFO (the round's ``history_`` row in the record as ``record.row``), to stdout where no
        handler is configured. With 0, a fit that runs past two seconds where a person is watching (a terminal, a
        notebook) shows a progress bar instead.
    combine : {'line_search', 'add', 'average'}, default='line_search'
        How ``mode='sync'`` combines the blocks' changes. ``'line_search'``: the driver takes the share (at most
        all) of the summed change that maximises the dual objective (it is quadratic along the change; the dual
        never falls), and each block's local problem counts the others' steps by sigma', from 1 (as if alone) to
        the number of blocks, as much as the blocks' last changes overlapped; ``'add'``: CoCoA+ (sigma' = number
        of blocks, the changes added); ``'average'``: CoCoA. scikit-learn has no counterpart (liblinear runs on one
        core); ``'line_search'`` is the default because it took the fewest passes on two blocks of the real sets
        (docs/benchmarks.md). One block takes its change whole, and GPU blocks (whose warps take damped steps
        against one shared ``w``) run ``'line_search'`` as ``'add'``.
    mode : {'sync', 'passcode'}, default='sync'
        ``'sync'``: CoCoA rounds, on threads or Dask, reproducible bit for bit (one block on threads with
        ``local_iters='auto'`` runs as one thread of ``'passcode'``, which is then deterministic: plain dual
        coordinate ascent, certified where the gap's rate says). ``'passcode'`` (thread backend
        only): the threads update one shared ``w`` without locks (PASSCoDe-Wild, Hsieh et al. 2015), taking full
        steps; every round restarts from the exact ``w(alpha)`` and certifies the gap there. Not bit-reproducible
        run to run (the order of racing writes varies).
    local_iters : int or 'auto', default='auto'
        Local passes over its rows a block makes per round. Passes after a round's first leave out the dual
        variables that sit at a bound and look set to stay there (liblinear's shrinking). ``'auto'``: one in
        ``mode='sync'`` and in ``mode='passcode'`` on several threads (the threads meet every pass: in longer
        rounds a thread left alone runs many passes on its block, which converges slowly); on one thread, as many
        as the duality gap's rate of decrease says the remaining way to ``tol`` takes, at most as many again as
        were done (a few passes are certified, not every one).
    kappa : float or 'auto', default='auto'
        Catalyst acceleration (Lin, Mairal and Harchaoui 2015): each round is a pass on the proximal problem with
        ``kappa / 2 ||w - y||^2`` added, whose centre ``y`` moves with momentum; the passes needed grow with the
        square root of the problem's condition instead of the condition (95 passes to a gap of 1e-3 become 58 on
        the sparse benchmark, 929 become 213 on dense 20,000 x 30 data). The certificate stays the SVM's own
        duality gap. ``0``: plain dual coordinate ascent. ``'auto'``: chosen from the gaps of plain passes (the
        first two on several blocks, passes 3 to 7 on one; 0 where they show a fast problem; at most 100), and 0 on
        GPUs, whose damped steps are tuned for the plain problem.
    solver : {'auto', 'dual', 'primal'}, default='auto'
        ``'dual'``: dual coordinate ascent (CoCoA+, PASSCoDe), as described above. ``'primal'``: Newton's method on
        the primal, for the squared hinge on CPU data or a CuPy array, dense or CSR (its passes cuBLAS or cuSPARSE
        products in float64) in ``mode='sync'`` (the hinge has no Hessian). ``'auto'``:
        ``'primal'`` where it applies and the data has more rows than features and the fit runs in this process
        (scikit-learn's ``LinearSVC(dual='auto')`` draws the same line), or on CSR rows in GPU memory with an
        intercept, whatever their shape (the intercept's column in every row keeps the GPU's dual to few rows in
        flight at once), else ``'dual'`` (on a Dask cluster the
        dual's checkpoints recover from lost workers; the primal's rounds raise). Newton's method needs
        a handful of iterations whatever the problem's condition, and each costs a few passes; dual coordinate
        ascent wins where there are more features than rows (text), whose dual is the smaller problem.
    n_blocks : int or 'auto', default='auto'
        How many blocks the rows are cut into (a dask array's row chunks are its blocks: a count rechunks its rows
        into that many, cut where local data is cut). The blocks, not the threads or workers, decide the model:
        for a given ``random_state``, ``n_blocks`` and ``solver_``, ``mode='sync'`` gives the same coefficients to
        the bit on any number of threads and on a Dask cluster of any size. ``'auto'``: a dask array's chunks;
        ``n_jobs`` blocks where ``n_jobs`` is a positive count (a block a thread); else from the data alone, never
        from the machine: one block for the dual, and for the primal (whose rounds are exact sums over the blocks)
        a power of two up to 16, one per 200,000 non-zeros. CoCoA+ makes each block's steps ``sigma'`` times more
        cautious, and on the real sets measured (a9a, ijcnn1, Reuters: rows that share their features) two blocks
        took 4 to 30 times the passes of one, more than two threads give back. ``mode='passcode'``: the blocks'
        threads take full steps on one shared ``w``, not reproducibly.
    n_jobs : int or None, default=None
        Threads of the thread backend, never more than there are blocks, except that one block of the dual passes
        its outputs (one-vs-rest) to every thread where they are worth it; ``None`` or -1: every core. On a Dask
        cluster the workers' threads run the blocks, and ``n_jobs`` only counts blocks (``n_blocks='auto'``).
    client : distributed.Client, 'threads' or None, default=None
        Where to fit: an explicit client, else the active one, else threads (on a cluster, a block a worker).
    %(callback_parameter)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    dual_coef_ : ndarray of shape (n_outputs, n_samples)
        The dual variables alpha (row order of the training data). Without acceleration (``kappa_ == 0``) the
        dual solver's coefficients are their ``w_k = sum_i alpha_ik t_ik x~_i`` exactly; under Catalyst the
        coefficients are the proximal iterate, and for the primal solver the Newton iterate, and ``duality_gap_``
        certifies that primal point against these dual variables.
    n_iter_ : int
        Passes over the data that led to the returned model (the dual), or Newton iterations (the primal).
    solver_ : {'dual', 'primal'}
        The solver that ran.
    kappa_ : float
        Catalyst's weight used (0: none).
    duality_gap_ : float
        Relative duality gap at the returned model: it bounds the relative suboptimality of the primal.
    history_ : list of dict
        One row per round (certificate): ``round``, ``time``, ``primal``, ``dual``, ``gap``, ``relative_gap``,
        ``bytes_sent``, ``passes`` (over the data before the certified state).
    n_blocks_ : int
    n_recoveries_ : int
        Roll-backs after Dask workers holding blocks left the cluster: the lost blocks are placed again, every
        block's dual variables go back to the driver's last checkpoint and the rounds since run again, so the fit
        ends as an undisturbed one would.
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skpar import DualCoordinateAscentSVM
    >>> X, y = make_classification(n_samples=2000, n_features=20, random_state=0)
    >>> svm = DualCoordinateAscentSVM(C=0.1, n_jobs=2, random_state=0).fit(X, y)
    >>> svm.duality_gap_ <= 1e-4
    True
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "loss": [StrOptions(set(_LOSSES))],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "combine": [StrOptions({"line_search", "add", "average"})],
        "mode": [StrOptions({"sync", "passcode"})],
        "local_iters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "kappa": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "solver": [StrOptions({"auto", "dual", "primal"})],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [Integral, None],
        "client": [None, StrOptions({"threads"}), object],
        "callback": [callable, None],
    }

    def __init__(self, C=1.0, *, loss="squared_hinge", fit_intercept=True, intercept_scaling=1.0, class_weight=None,
                 tol=1e-4, max_iter=1000, random_state=None, verbose=0, combine="line_search", mode="sync",
                 local_iters="auto", kappa="auto", solver="auto", n_blocks="auto", n_jobs=None,
                 client=None, callback=None):
        self.C = C
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.combine = combine
        self.mode = mode
        self.local_iters = local_iters
        self.kappa = kappa
        self.solver = solver
        self.n_blocks = n_blocks
        self.n_jobs = n_jobs
        self.client = client
        self.callback = callback

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit by dual coordinate ascent (CoCoA+ across blocks), or by Newton's method on the primal where ``solver``
        picks it (``'auto'``: the squared hinge on data of more rows than features).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, CuPy array} of shape (n_samples, n_features)
            Training data.
        y : array-like or dask array of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (a per-sample C).

        Returns
        -------
        self : DualCoordinateAscentSVM
            Fitted estimator.
        """
        with reporting(self, self.max_iter):
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        start = time.perf_counter()
        X, y, sample_weight, kind = check_fit_data(self, X, y, sample_weight, reset=True, y_numeric=False)
        y_given = y  # the labels, which scikit-learn's scoring callbacks score the rounds' models on
        gpu = kind.gpu
        if gpu and self.mode == "passcode":
            raise ValueError("mode='passcode' shares one w between the threads of this process; on GPUs every "
                             "block already runs its warps wild on one w (TPA-SCD style): use mode='sync'")
        y, n_outputs, pos_weight, neg_weight = self._encode_targets(y, sample_weight, first=True)
        rng = check_random_state(self.random_state)
        base = int(rng.randint(np.iinfo(np.int32).max))
        self.solver_ = self._pick_solver(X.shape, kind)
        n_blocks = self._n_blocks_for(X, kind)
        threads = n_threads(self.n_jobs, n_blocks)
        backend = get_backend(self.client, threads, gpu_local=kind.local_gpu)
        if self.solver == "auto" and not backend.in_process and self.solver_ != "dual":
            # a cluster: the dual, whose state the driver checkpoints against lost workers
            self.solver_ = "dual"
            n_blocks = self._n_blocks_for(X, kind)
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        d = X.shape[1]
        self.history_ = self._log  # the rounds begin: their rows are reported (skpar._report)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        # every solver's model is W of shape (outputs, d [+ 1]), the intercept's column scaled by bias
        self._log.report_model(lambda W: {"coef_": np.asarray(W[:, :d], dtype=dtype), "intercept_": np.asarray(
            W[:, d] * bias if bias else np.zeros(W.shape[0]), dtype=dtype)}, X, y_given, sample_weight)
        try:
            n_seeds = len(X.chunks[0]) if n_blocks is None else n_blocks
            seeds = np.random.default_rng(base).integers(1 << 30, size=n_seeds + 1)
            blocks = backend.partition(X, y, sample_weight, n_blocks=n_blocks, seeds=seeds[:n_seeds],
                                       validation_fraction=0.0, gpu=gpu)
            rounds = SyncRounds(backend, blocks)
            W0 = np.zeros((n_outputs, d + (1 if bias else 0)))
            common = dict(C=float(self.C), loss=make_loss(self.loss), pos_weight=np.asarray(pos_weight, float),
                          neg_weight=np.asarray(neg_weight, float), bias=bias,
                          max_rounds=self.max_iter, tol=self.tol, seed=int(seeds[-1]), history=self.history_,
                          start_time=start,
                          kappa=0.0 if gpu and self.kappa == "auto" else self.kappa)
            with one_blas_thread_each(rounds):  # the blocks' threads are the parallelism (see parallel._blas)
                W, rel, n_passes, converged, kappa = self._solve(rounds, W0, gpu, common)
            parts = sorted(rounds.run(alpha_task).results, key=lambda p: p[0])
            if any(rows is not None and not contiguous(rows) for _, rows, _ in parts):  # rows dealt or drawn
                self.dual_coef_ = np.empty((n_outputs, X.shape[0]))
                for _, rows, a in parts:
                    self.dual_coef_[:, rows] = a
            else:
                self.dual_coef_ = np.concatenate([a for _, _, a in parts], axis=1)
            self.n_blocks_ = rounds.n_blocks
            self.n_recoveries_ = int(rounds.recoveries)
        finally:
            backend.close()
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        self.coef_ = np.asarray(W[:, :d], dtype=dtype)
        self.intercept_ = np.asarray(W[:, d] * bias if bias else np.zeros(n_outputs), dtype=dtype)
        self.duality_gap_ = float(rel)
        self.n_iter_ = int(n_passes)
        self.kappa_ = float(kappa)
        if not converged and not self._log.stop:
            method, steps = (("Newton's method on the primal", "iterations") if self.solver_ == "primal" else
                             ("Liblinear-style dual coordinate ascent", "passes"))
            warnings.warn(f"{method} did not converge: relative duality gap {rel:.3e} > tol {self.tol:g} after "
                          f"{n_passes} {steps}. Increase max_iter.", ConvergenceWarning, stacklevel=2)
        return self

    def _n_blocks_for(self, X, kind):
        """The fit's blocks for ``solver_`` (None: a dask array's chunks), from the data and the arguments, never
        from the machine. The dual's ``'auto'`` is one block: two took more passes than one on every real set
        measured, more than the threads give back (4 to 30 times with CoCoA+'s adding, 1.2 to over 10 times with the
        line search, docs/benchmarks.md); the primal's rounds are exact sums over the blocks, which cost nothing in
        passes."""
        n_blocks = resolve_n_blocks(self.n_blocks, self.n_jobs, X, kind, averaged=False)
        counted = self.n_blocks != "auto" or (self.n_jobs is not None and self.n_jobs > 0)
        return 1 if self.solver_ == "dual" and n_blocks is not None and not counted else n_blocks

    def _pick_solver(self, shape, kind):
        """``'primal'`` or ``'dual'``: what ``solver`` asks for, ``'auto'`` resolved as the docstring says."""
        if self.solver == "dual":
            return "dual"
        # a GPU runs the Newton rounds on the rows in its memory, dense or CSR (parallel._newton_device); a dask
        # array's GPU chunks (whose storage the driver does not see) take the dual
        gpu_ok = kind.local_gpu or not kind.gpu
        primal_ok = self.loss == "squared_hinge" and gpu_ok and self.mode == "sync"
        if self.solver == "primal":
            if not primal_ok:
                raise ValueError("solver='primal' is Newton's method on the squared hinge, on CPU data or a CuPy "
                                 f"array, in mode='sync'; got loss={self.loss!r}, mode={self.mode!r}"
                                 + ("" if gpu_ok else " and chunked GPU data") + ": use solver='dual'")
            return "primal"
        # sparse GPU rows with an intercept: its column is in every row, so the dual's rows in flight share one
        # direction and the GPU may run only a few of them at once (kernels._dcd_cuda.in_flight); Newton's passes
        # are cuSPARSE products whatever the shape
        shared = kind.local_gpu and kind.sparse and self.fit_intercept
        return "primal" if primal_ok and not kind.dask and (shape[0] > shape[1] or shared) else "dual"

    def _solve(self, rounds, W0, gpu, common):
        """Run the dual solver over the blocks; returns ``(W, relative gap, passes, converged, kappa)``.

        One block on threads in mode 'sync' with ``local_iters='auto'`` has no other block to combine with: the
        PASSCoDe driver on its one thread is plain dual coordinate ascent with shrinking across the passes of a
        round and certificates at the passes the gap's rate asks for, which was faster than a certificate every
        pass on every real set (docs/benchmarks.md).
        """
        if self.solver_ == "primal":
            # on a GPU the Hessian parts are a GEMM a chunk, cheaper than conjugate gradients' passes
            gram = (gpu and W0.shape[1] <= MAX_GRAM_WEIGHTS) or use_gram(rounds, W0.shape[1])
            W, rel, n_iter, converged = primal_newton(
                rounds, W0, C=common["C"], pos_weight=common["pos_weight"], neg_weight=common["neg_weight"],
                bias=common["bias"], tol=self.tol, max_iter=self.max_iter, gram=gram, history=common["history"],
                start_time=common["start_time"])
            return W, rel, n_iter, converged, 0.0
        in_process = rounds.backend.in_process
        alone = rounds.n_blocks == 1 and not gpu and in_process and self.local_iters == "auto"
        if self.mode == "passcode" or alone:
            if not in_process:
                raise ValueError("mode='passcode' shares one w between the threads of this process; on a Dask "
                                 "cluster use mode='sync' (CoCoA+)")
            return passcode(rounds, W0, local_iters=self.local_iters, incremental=alone, **common)
        local = 1 if self.local_iters == "auto" else int(self.local_iters)
        common = {**common, "max_rounds": -(-self.max_iter // local)}
        # GPU blocks take damped steps of warps running wild on one w (kernels/_dcd_cuda.py): the line search's
        # first share was many times that change and the fit then stalled (docs/benchmarks.md), so GPU blocks keep
        # CoCoA+'s safe adding
        combine = "add" if gpu and self.combine == "line_search" else self.combine
        W, rel, n_rounds, converged, kappa = cocoa(rounds, W0, combine=combine, local_iters=local, **common)
        return W, rel, n_rounds * local, converged, kappa

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
