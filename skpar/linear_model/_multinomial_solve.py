"""The classifier's multinomial fit: ``multi_class='multinomial'`` checked and handed to L-BFGS over the blocks."""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning

from ..parallel import SGDState
from ..parallel._multinomial import multinomial_lbfgs
from ..parallel._sgd import block_train_sizes

#: L-BFGS-B's bound on the largest entry of the projected gradient (the objective is a mean over rows) is the
#: estimator's ``tol`` times this: the default tol (1e-3) gives LogisticRegression's default bound, 1e-4 (on 20
#: Newsgroups, 1e-6 took 92 iterations where 1e-4 takes about LogisticRegression's 55-59, at the same accuracy);
#: ``tol=None`` asks for the optimum to rounding
GTOL_PER_TOL = 0.1


def check_multinomial(est, kind, early):
    """Refuse what the multinomial fit does not do, naming it."""
    why = [text for bad, text in [
        (est.loss != "log_loss", f"loss={est.loss!r} (the softmax is the log loss's)"),
        (est.penalty not in ("l2", None), f"penalty={est.penalty!r}"),
        (est.mode != "sync", f"mode={est.mode!r}"), (est.solver not in ("auto", "lbfgs"), f"solver={est.solver!r}"),
        (kind.gpu, "GPU data"), (early, "early_stopping")] if bad]
    if why:
        raise ValueError("multi_class='multinomial' fits the l2-penalised softmax log loss by L-BFGS over the blocks "
                         "on CPU data; it cannot run with " + ", ".join(why) + ": use multi_class='ovr'")


def solve_multinomial(est, rounds, X, start, n_classes, class_weight, history):
    """``(state, history, n_iter)``: the softmax model fitted from zero (:func:`multinomial_lbfgs`), as an
    :class:`SGDState`; warns where L-BFGS stopped before its gradient bound."""
    d = X.shape[1]
    n = sum(block_train_sizes(rounds))
    alpha = 0.0 if est.penalty is None else float(est.alpha)
    W, B, n_iter, converged = multinomial_lbfgs(
        rounds, n_classes, d, alpha=alpha, fit_intercept=est.fit_intercept, class_weight=class_weight, n=n,
        max_iter=est.max_iter, gtol=1e-12 if est.tol is None else GTOL_PER_TOL * est.tol, history=history,
        start_time=start)
    if not converged and not history.stop:
        warnings.warn(f"L-BFGS did not converge in {n_iter} iterations (max_iter) on the multinomial log loss. "
                      "Increase max_iter.", ConvergenceWarning, stacklevel=5)
    state = SGDState.zeros(n_classes, d)
    state.w[:], state.b[:] = W, (B if est.fit_intercept else 0.0)
    state.wbar, state.bbar = state.w, state.b
    return state, history, n_iter
