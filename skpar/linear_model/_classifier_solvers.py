"""The classifier's fits that run no SGD epochs and no Newton steps: the hinge's dual (dual coordinate ascent over
the blocks, as the SVM's) and the multinomial log loss (L-BFGS over the blocks)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._losses import make_loss
from ..parallel import SGDState
from ..parallel._cocoa import dual_ascent
from ..parallel._multinomial import multinomial_lbfgs
from ..parallel._sgd import block_train_sizes

#: L-BFGS's bound on the largest entry of the objective's gradient (the objective a mean over rows, as
#: LogisticRegression's) is the estimator's ``tol`` times this: the default tol (1e-3) gives LogisticRegression's
#: default bound, 1e-4 (on 20 Newsgroups' softmax, 1e-6 took 92 iterations where 1e-4 takes about
#: LogisticRegression's 55-59, at the same accuracy); ``tol=None`` asks for the optimum to rounding
GTOL_PER_TOL = 0.1


def gradient_bound(tol):
    """The exact solvers' bound on the largest gradient entry of the mean objective: L-BFGS's (softmax or
    one-vs-rest) and Newton's (see :data:`GTOL_PER_TOL`)."""
    return 1e-12 if tol is None else GTOL_PER_TOL * tol


def multinomial_by_lbfgs(est, early):
    """Whether ``multi_class='multinomial'`` is fitted by L-BFGS over the blocks (``solver='auto'`` or ``'lbfgs'``,
    the l2 penalty or none, synchronous rounds of the periodic averaging's blocks, no early stopping), rather than
    by SGD's epochs on the softmax (:func:`check_multinomial`)."""
    return (est.solver in ("auto", "lbfgs") and est.penalty in ("l2", None) and est.mode == "sync"
            and est.averaging == "periodic" and not early)


def check_multinomial(est, kind, early):
    """``'lbfgs'`` or ``'sgd'``: how ``multi_class='multinomial'`` is fitted (:func:`multinomial_by_lbfgs`, else
    SGD's epochs on the softmax in the CPU kernels, or the GPU's Hogwild! kernel ``sgd_wild_softmax``); refuse what
    neither does, naming it. L-BFGS's rounds run on a CuPy array of dense rows too
    (:mod:`skpar.parallel._multinomial_device`), not on sparse GPU rows."""
    lbfgs = multinomial_by_lbfgs(est, early)
    why = [text for bad, text in [
        (est.loss != "log_loss", f"loss={est.loss!r} (the softmax is the log loss's)"),
        (kind.gpu and lbfgs and kind.sparse is not False,
         "sparse GPU rows fitted by L-BFGS (solver='sgd' fits them by SGD's epochs)"),
        (est.solver in ("newton", "dual"), f"solver={est.solver!r}")] if bad]
    if est.solver == "lbfgs" and not lbfgs:
        why += [text for bad, text in [
            (est.penalty not in ("l2", None), f"penalty={est.penalty!r}"), (est.mode != "sync", f"mode={est.mode!r}"),
            (est.averaging != "periodic", "averaging='oneshot'"), (early, "early_stopping")] if bad]
    if why:
        raise ValueError("multi_class='multinomial' fits the softmax log loss by L-BFGS over the blocks "
                         "(solver='lbfgs', or 'auto' in synchronous rounds; CPU data or a CuPy array of dense rows) "
                         "or by SGD's epochs (solver='sgd'; CPU data in any mode, GPU data in mode='sync'); it cannot "
                         "run with "
                         + ", ".join(why) + ": use multi_class='ovr'")
    return "lbfgs" if lbfgs else "sgd"


def solve_multinomial(est, rounds, X, start, n_classes, class_weight, history):
    """``(state, history, n_iter)``: the softmax model fitted from zero (:func:`multinomial_lbfgs`), as an
    :class:`SGDState`; warns where L-BFGS stopped before its gradient bound."""
    d = X.shape[1]
    n = sum(block_train_sizes(rounds))
    alpha = 0.0 if est.penalty is None else float(est.alpha)
    W, B, n_iter, converged = multinomial_lbfgs(
        rounds, n_classes, d, alpha=alpha, fit_intercept=est.fit_intercept, class_weight=class_weight, n=n,
        max_iter=est.max_iter, gtol=gradient_bound(est.tol), history=history,
        start_time=start)
    if not converged and not history.stop:
        warnings.warn(f"L-BFGS did not converge in {n_iter} iterations (max_iter) on the multinomial log loss. "
                      "Increase max_iter.", ConvergenceWarning, stacklevel=5)
    state = SGDState.zeros(n_classes, d)
    state.w[:], state.b[:] = W, (B if est.fit_intercept else 0.0)
    state.wbar, state.bbar = state.w, state.b
    return state, history, n_iter


def solve_dual(est, rounds, X, kind, start, n_outputs, pos_weight, neg_weight):
    """Dual coordinate ascent on the blocks (:func:`~skpar.parallel._cocoa.dual_ascent`), as
    :class:`~skpar.DualCoordinateAscentSVM` with ``C = 1 / (alpha n)``; it stops once the duality gap, in this
    objective's scale, is at most ``tol`` per output."""
    n = sum(block_train_sizes(rounds))
    C = 1.0 / (est.alpha * n)
    bias = 1.0 if est.fit_intercept else 0.0
    history = est._log
    # the SVM's primal is this objective over alpha: a gap of n_outputs tol here is n_outputs tol / alpha there
    gap_tol = 0.0 if est.tol is None else n_outputs * float(est.tol) / est.alpha
    W, rel, n_passes, converged = dual_ascent(
        rounds, np.zeros((n_outputs, X.shape[1] + (1 if bias else 0))), C=C, loss=make_loss(est.loss),
        pos_weight=np.asarray(pos_weight, float), neg_weight=np.asarray(neg_weight, float), bias=bias,
        max_rounds=est.max_iter, tol=0.0, gap_tol=gap_tol, seed=est._base_seed, history=history, start_time=start)
    for row in history:  # the objective in this estimator's scale, as SGD's rows give it
        row["objective"] = est.alpha * row["primal"]
    # tol=None asks for max_iter passes, as SGD's epochs; a stop the callback asked for is no failure
    if not converged and est.tol is not None and not history.stop:
        warnings.warn(f"Dual coordinate ascent did not converge in {n_passes} passes (max_iter): the duality gap "
                      f"is {est.alpha * history[-1]['gap']:.3e}, above tol per output. Increase max_iter.",
                      ConvergenceWarning, stacklevel=5)
    est._forget_sgd_attributes()
    d = X.shape[1]
    state = SGDState.zeros(n_outputs, d)
    state.w[:], state.b[:] = W[:, :d], (W[:, d] * bias if bias else 0.0)
    state.wbar, state.bbar = state.w, state.b  # partial_fit continues from the solution
    return state, history, n_passes
