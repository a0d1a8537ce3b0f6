"""l2-penalised logistic regression by Newton's method or L-BFGS, data-parallel over blocks of rows.

For each one-vs-rest output ``k``, with targets :math:`t_{ik} = \\pm 1` and costs :math:`c_{ik}` (sample and class
weights), :class:`~skpar.AveragedSGDClassifier`'s objective with ``loss='log_loss'``,

.. math::

    \\frac{1}{n} \\sum_i c_{ik} \\log(1 + e^{-t_{ik} (w_k \\cdot x_i + b_k)}) + \\frac{\\alpha}{2} \\|w_k\\|^2,

is :math:`\\alpha` times

.. math::

    P(w_k, b_k) = \\tfrac12 \\|w_k\\|^2 + \\sum_i C_{ik} \\log(1 + e^{-t_{ik} w_k \\cdot \\tilde x_i}),
    \\qquad C_{ik} = \\frac{c_{ik}}{\\alpha n},

the objective :class:`~sklearn.linear_model.LogisticRegression` minimises with ``C = 1 / (alpha n)`` (its intercept
is not penalised either). :math:`P` is smooth and strongly convex in ``w``, so Newton's method converges in a few
iterations (the trust-region Newton method of liblinear, Lin, Weng and Keerthi 2008, and scikit-learn's
``newton-cg``). An iteration is the rounds of :mod:`skpar.parallel._newton`, with the logistic loss: the blocks'
loss, gradient and Hessian parts (or the Hessian diagonal, for conjugate gradients), the direction (solved on the
driver, or by conjugate gradients), then every trial step of an Armijo line search priced in one round. The
margins and the Hessian's row coefficients stay on the blocks between rounds (declared solver state); a block lost
mid-fit ends it with an error, so ``solver='auto'`` picks this only in this process.

Where the Newton system is too large to assemble and conjugate gradients would take many Hessian passes, the same
iterations run limited-memory BFGS instead (Liu and Nocedal 1989; scikit-learn's ``lbfgs``): the direction comes
from the last steps and gradient changes (:class:`LBFGSMemory`, on the driver), with no Hessian round.

An output stops when its gradient's largest entry, in :math:`P`'s scale (LogisticRegression's), is at most the
caller's bound (the estimator's, from its ``tol``, as LogisticRegression bounds it) or :data:`GTOL` times its first
iteration's, whichever is larger; the fit stops when every output has, or after ``max_iter`` iterations.
"""

from __future__ import annotations

import time

import numpy as np

from .._losses import make_loss
from .._report import record, stop_requested
from ..kernels import sparse_arrays
from ..kernels._lbfgs import lbfgs_direction, lbfgs_pair
from ..kernels._newton import logistic_terms, step_losses, transposed_product_csr, transposed_product_dense
from . import _newton_device
from ._newton import (
    ARMIJO,
    LINE_STEPS,
    _conjugate_gradients,
    _hessian_diagonal,
    _line_search,
    _margins,
    block_margins,
    gram_part,
    newton_direction,
)

#: the log loss's compiled scalar function, which the kernels take
LOG_LOSS = make_loss("log_loss").kernel
#: the line search's trial steps in two rounds: Newton's full step passes in all but the first iterations, and
#: pricing the smaller ones only where it does not saves most of the pass (on a process's threads a round is cheap)
LINE_STAGES = (LINE_STEPS[:2], LINE_STEPS[2:])
#: the gradient's largest entry, relative to the first iteration's, at which an output stops whatever the caller's
#: bound (``tol=None``: the optimum to rounding; Newton's quadratic convergence makes the last factor of ten cost
#: about one iteration)
GTOL = 1e-8


def logistic_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram, live):
    """Round 1 of an iteration at ``W``: per output the loss, the gradient of the loss term and, for the live
    outputs, the Hessian's parts (``gram`` True) or the first iteration's diagonal (False; ``None``: neither, 0).

    The margins are the previous iteration's moved by ``step`` along the direction's margins where the block holds
    those of iteration ``prev``, else computed. The block keeps the margins and the Hessian's row coefficients
    ``c s (1 - s)`` (what :func:`~skpar.parallel._newton.newton_hess_vec_task` reads), under ``token``.
    """
    if getattr(block, "on_gpu", False):
        return _newton_device.logistic_state_task(block, W, step, prev, token, C, pos_weight, neg_weight, bias, gram,
                                                  live)
    st, P = block_margins(block, W, step, prev, C, pos_weight, neg_weight, bias)
    loss, grad, coef = _loss_and_gradient(block, st, P, bias, W.shape)
    if gram is None:
        parts = 0.0
    elif gram:
        parts = _hessian_parts(block, coef, bias, live, W.shape)
    else:
        # conjugate gradients' preconditioner, from the first iteration's Hessian, as for the squared hinge
        if "diagonal" not in st:
            st["diagonal"] = _hessian_diagonal(block, coef, bias)
        parts = st["diagonal"]
    st.update(token=token, P=P, Z=None, coef=coef)
    block.persist("newton")
    return loss, grad, parts


def _loss_and_gradient(block, st, P, bias, shape):
    """At margins ``P``: each output's loss, the loss term's gradient (``shape``: the model's) and the Hessian's row
    coefficients, in one pass over the margins and one over the rows."""
    loss, dloss, coef = np.zeros(shape[0]), np.empty_like(P), np.empty_like(P)
    logistic_terms(LOG_LOSS, P, st["T"], st["C"], dloss, coef, loss)
    X = block.X
    grad = np.zeros(shape)
    d = X.shape[1]
    if block.is_sparse:  # compiled, without the GIL: the blocks' rounds run on threads at once
        transposed_product_csr(*sparse_arrays(X), dloss, grad[:, :d])
    elif X.flags.c_contiguous:  # compiled: BLAS's D @ X from the blocks' threads at once ran one call at a time
        transposed_product_dense(X, dloss, grad[:, :d])
    else:  # column-major rows: BLAS's dots down the columns (the compiled loop would stride along each row)
        grad[:, :d] = dloss @ X
    if bias != 0.0:
        grad[:, d] = bias * dloss.sum(axis=1)
    return loss, grad, coef


def _hessian_parts(block, coef, bias, live, shape):
    """The live outputs' Hessian parts ``sum_i coef[k, i] x~_i x~_i^T`` on the block, (K, d~, d~)."""
    parts = np.zeros((shape[0], shape[1], shape[1]))
    for k in np.flatnonzero(live):
        gram_part(block, coef[k], bias, parts[k])
    return parts


def logistic_trial_task(block, W, S, steps, it, adopt, bias):
    """A trial of the line search in one round: at ``W + steps[k] S[k]``, each output's loss and the loss term's
    gradient (what the next iteration's first round would compute, were the steps taken).

    The block keeps the margins at ``W`` (iteration ``it``'s), those of ``S`` (computed at the iteration's first
    trial) and the trial's margins and Hessian row coefficients. ``adopt``: ``W`` is iteration ``it - 1``'s last
    trial, which the driver took, so the margins at it are the ones this task kept then; otherwise they are the
    block's (its first round of iteration ``it``) or, lacking those, computed.
    """
    if getattr(block, "on_gpu", False):
        return _newton_device.logistic_trial_task(block, W, S, steps, it, adopt, bias)
    st = block.newton
    if st.get("trial") != it:  # the iteration's first trial
        if not _adopt(st, it, adopt):
            st.update(P=_margins(block, W, bias), token=it)
        st["Z"] = _margins(block, S, bias)
    P = st["P"] + steps[:, None] * st["Z"]
    loss, grad, coef = _loss_and_gradient(block, st, P, bias, W.shape)
    st.update(trial=it, trial_P=P, trial_coef=coef)
    block.persist("newton")
    return loss, grad


def _adopt(st, it, adopt):
    """Make iteration ``it - 1``'s last trial the block's point of iteration ``it`` where the driver took it and the
    block has not yet; True where the block's point is iteration ``it``'s after it."""
    if adopt and st["token"] != it and st.get("trial") == it - 1:
        st.update(P=st["trial_P"], coef=st["trial_coef"], token=it)
    return st["token"] == it


def logistic_hessian_task(block, it, adopt, bias, live):
    """The live outputs' Hessian parts at iteration ``it``'s point, the trial the driver took (Newton's assembled
    system, after :func:`logistic_trial_task`: assembled only once the gradient there says the fit goes on)."""
    if getattr(block, "on_gpu", False):
        return _newton_device.logistic_hessian_task(block, it, adopt, bias, live)
    st = block.newton
    if not _adopt(st, it, adopt):
        raise RuntimeError("the block lost the Newton iteration's margins")
    return _hessian_parts(block, st["coef"], bias, live, (len(live), block.X.shape[1] + (bias != 0.0)))


def logistic_line_task(block, S, steps, bias):
    """The block's loss of every output at ``W + steps[m] S`` for every trial step; keeps the margins of ``S``
    (computed on the first call of an iteration, whose token they take)."""
    if getattr(block, "on_gpu", False):
        return _newton_device.logistic_line_task(block, S, steps, bias)
    st = block.newton
    if st["Z"] is None:
        st["Z"] = _margins(block, S, bias)
    out = np.zeros((S.shape[0], steps.shape[0]))
    step_losses(LOG_LOSS, st["P"], st["Z"], st["T"], st["C"], steps, out)
    return out


def logistic_newton(rounds, W, *, C, pos_weight, neg_weight, bias, max_iter, gram, history, scale=1.0,
                    gtol=None, start_time=None):
    """Minimise :math:`P` over the blocks of ``rounds`` (see the module's docstring) from ``W`` (K, d~), the
    intercept unpenalised in the last column when ``bias``.

    ``gram``: ``True``, Newton's method, its system assembled from the blocks' Hessian parts and solved exactly;
    ``False``, Newton's method, its system solved by conjugate gradients; ``'lbfgs'``, limited-memory BFGS
    (:class:`LBFGSMemory`: directions from the last steps and gradient changes, no Hessian pass at all). Every
    iteration adds a ``history`` row whose objective is :math:`P` times ``scale`` (the estimator's scale). Each output
    stops on its own gradient's largest entry: at most ``gtol`` (in :math:`P`'s scale; None: 0) or :data:`GTOL`
    times its first iteration's. Returns ``(W, n_iter, converged)``. The caller holds BLAS to a thread
    a call (:func:`skpar.parallel._blas.one_blas_thread_each`), as the fits do.
    """
    start_time = time.perf_counter() if start_time is None else start_time
    W = np.array(W, dtype=np.float64)
    reg = np.ones(W.shape[1])  # the penalty's Hessian: the intercept is not penalised
    if bias != 0.0:
        reg[-1] = 0.0
    K = W.shape[0]
    live = np.ones(K, dtype=bool)
    lbfgs = gram == "lbfgs"
    memory = LBFGSMemory(reg) if lbfgs else None
    name = "L-BFGS" if lbfgs else "Newton"
    step, it, g_first = None, 0, None
    taken = None  # (loss, gradient, bytes) at W when the last trial round priced it
    # from the zero model, the first round only prices it (no Hessian parts) and the fit starts from the best
    # intercept-only model, whose intercepts that round gives in closed form
    intercept_start = bias != 0.0 and not W.any()
    while True:
        first = intercept_start and it == 0
        if taken is None:
            # L-BFGS takes the Hessian's diagonal once, for the scale of its first steps
            wants = (False if memory.scale is None and not first else None) if lbfgs else gram
            res = rounds.run(logistic_state_task, W, step, it - 1, it, C, pos_weight, neg_weight, bias, wants,
                             live & (not first))
            loss, grad, parts = (sum(part) for part in zip(*res.results, strict=True))
            sent = res.bytes_sent
        else:
            (loss, grad, sent), parts = taken, None
        primal = 0.5 * (reg * W * W).sum(axis=1) + loss
        G = reg * W + grad
        g_max = np.abs(G).max(axis=1)
        g_first = g_max if g_first is None else g_first
        record(history, {"round": it, "epoch": it, "time": time.perf_counter() - start_time,
                         "objective": float(scale * primal.sum()), "gradient": float(g_max.max()),
                         "bytes_sent": sent}, model=lambda W=W: W)
        if not np.isfinite(primal).all():
            raise FloatingPointError(f"{name} produced a non-finite objective")
        live &= g_max > np.maximum(gtol or 0.0, GTOL * np.maximum(g_first, 1e-300))
        if not live.any() or it >= max_iter or stop_requested(history):
            return W, it, not live.any()
        if first:
            W, step, it = _best_intercepts(W, loss, grad, bias), None, it + 1
            continue
        adopt = taken is not None
        if lbfgs:
            memory.update(W, G, parts)
            S = memory.direction(G, live)
        else:
            if adopt:  # the trial taken priced the gradient: its Hessian, now that the fit goes on
                parts = sum(rounds.run(logistic_hessian_task, it, adopt, bias, live).results)
            S = _directions(rounds, G, parts, reg, live, gram, bias)
        if lbfgs or gram is True:
            step, taken = _trial_step(rounds, W, S, G, primal, live, bias, reg, it, adopt)
        else:  # conjugate gradients' Hessian passes read the coefficients at W from the blocks: no trial ahead
            step = _line_search(rounds, W, S, G, primal, live, bias, task=logistic_line_task, reg=reg,
                                stages=LINE_STAGES)
        live &= step > 0.0  # rounding ended this output's progress
        if not live.any():
            return W, it, True
        W = W + step[:, None] * S
        it += 1


def _trial_step(rounds, W, S, G, primal, live, bias, reg, it, adopt):
    """Each output's step along the directions ``S`` (0 where none decreases the objective), and ``(loss, gradient,
    bytes)`` at ``W + step S`` (None where an output found no step).

    Each trial is one round that prices the steps with the gradient there (:func:`logistic_trial_task`): the last
    one is the next iteration's first round (Newton's adds its Hessian, :func:`logistic_hessian_task`, only once
    the gradient says the fit goes on), so an iteration costs one pass of the loss where the unit step passes
    Armijo's test, as L-BFGS's and Newton's do in nearly every iteration. An output that fails it backtracks to
    the minimiser of the quadratic through its objective and slope at 0 and its objective at the failed step, kept
    within a tenth and a half of that step (Nocedal and Wright 2006, section 3.5); where rounding hides the
    decrease near the optimum, the approximate Wolfe test of Hager and Zhang (2005) accepts a step. ``adopt``:
    ``W`` is the previous iteration's last trial.
    """
    slope = (G * S).sum(axis=1)
    steps = np.where(live, 1.0, 0.0)
    pending = live.copy()
    for _ in range(MAX_TRIALS):
        res = rounds.run(logistic_trial_task, W, S, steps, it, adopt, bias)
        loss, grad = (sum(part) for part in zip(*res.results, strict=True))
        Wt = W + steps[:, None] * S
        value = 0.5 * (reg * Wt * Wt).sum(axis=1) + loss
        # Armijo's decrease, or where rounding hides it near the optimum, Hager and Zhang's approximate test: the
        # objective up by no more than rounding and the slope at the trial no steeper upwards than at 0 downwards
        # (the trial's gradient is at hand)
        rounding = (value <= primal + ROUNDING * np.abs(primal)) & (
            ((reg * Wt + grad) * S).sum(axis=1) <= (2.0 * ARMIJO - 1.0) * slope)
        failed = pending & ~((value <= primal + ARMIJO * steps * slope) | rounding)
        if not failed.any():
            return steps, (loss, grad, res.bytes_sent)
        pending = failed
        t = steps[failed]
        curve = value[failed] - primal[failed] - slope[failed] * t
        guess = np.where(curve > 0.0, -slope[failed] * t * t / (2.0 * np.where(curve > 0.0, curve, 1.0)), 0.5 * t)
        steps[failed] = np.clip(guess, 0.1 * t, 0.5 * t)
    # rounding ends these outputs' progress: they take no step, and the next iteration prices its own point
    return np.where(pending, 0.0, steps), None


#: the objective's relative rise that the line search's approximate test puts down to rounding (its sums over rows
#: carry about 1e-13 of it)
ROUNDING = 1e-10
#: trials of the line search before an output takes no step (a tenth at least each time: below 1e-11)
MAX_TRIALS = 12
#: the steps and gradient changes L-BFGS keeps per output (scipy's and scikit-learn's choice)
LBFGS_MEMORY = 10


class LBFGSMemory:
    """Limited-memory BFGS directions for K independent outputs at once (Nocedal 1980; Liu and Nocedal 1989;
    compiled in :mod:`skpar.kernels._lbfgs`).

    Each output keeps its last :data:`LBFGS_MEMORY` pairs ``s = W_{t+1} - W_t``, ``y = G_{t+1} - G_t`` (a pair
    whose curvature ``s . y`` is not positive is left out for that output) and its direction is :math:`-H G` by the
    two-loop recursion from :math:`H_0 = \\gamma M^{-1}`: ``M`` the Hessian's diagonal at the first step (``reg``
    plus the loss term's, one pass of the rows' squares, so that features of every scale take steps of their own
    size), ``gamma = s . y / y . M^{-1} y`` of the newest pair (1 before the first). The driver holds the pairs:
    2 m K (d + 1) numbers.
    """

    def __init__(self, reg, m=LBFGS_MEMORY):
        self.reg, self.m = reg, m
        self.scale = None  # M^{-1}, (K, d~)
        self.S = self.Y = self.rho = self.ymy = None
        self.n_pairs, self.newest = 0, -1
        self._last = None

    def update(self, W, G, diagonal):
        """Take the step that led to ``(W, G)`` (none at the first call) and, at the first call, the diagonal."""
        if self.scale is None:
            M = self.reg + diagonal
            self.scale = np.ascontiguousarray(np.broadcast_to(1.0 / np.where(M > 0.0, M, 1.0), W.shape))
            K, d = W.shape
            self.S, self.Y = np.empty((self.m, K, d)), np.empty((self.m, K, d))
            self.rho, self.ymy = np.zeros((self.m, K)), np.zeros((self.m, K))
        if self._last is not None:
            p = (self.newest + 1) % self.m
            sy, ss, yy, ymy = lbfgs_pair(W, self._last[0], G, self._last[1], self.scale, self.S[p], self.Y[p])
            ok = sy > 1e-12 * np.sqrt(ss * yy)
            self.rho[p] = np.where(ok, 1.0 / np.where(ok, sy, 1.0), 0.0)
            self.ymy[p] = ymy
            self.newest, self.n_pairs = p, min(self.n_pairs + 1, self.m)
        self._last = (W, G)

    def direction(self, G, live):
        """``-H G`` for the live outputs, 0 for the others."""
        out = np.empty_like(G)
        lbfgs_direction(self.S, self.Y, self.rho, self.ymy, self.n_pairs, max(self.newest, 0), self.scale,
                        np.ascontiguousarray(G), live, out)
        return out


def _best_intercepts(W, loss, grad, bias):
    """The intercept-only model that minimises each output's loss, from the loss and gradient at zero: there every
    row's loss is ``c log 2`` and the intercept's gradient ``-bias c t / 2``, which give the positive and negative
    rows' cost totals, and the optimum ``b = log(C+ / C-) / bias``."""
    total = loss / np.log(2.0)
    signed = -2.0 * grad[:, -1] / bias
    pos, neg = 0.5 * (total + signed), 0.5 * (total - signed)
    W = W.copy()
    ok = (pos > 0) & (neg > 0)
    W[ok, -1] = np.log(pos[ok] / neg[ok]) / bias
    return W


def _directions(rounds, G, parts, reg, live, gram, bias):
    """The live outputs' Newton directions: the assembled systems solved by Cholesky (least squares where an
    output's Hessian is singular in floating point), or conjugate gradients preconditioned by the diagonal."""
    if not gram:
        M = reg + parts
        return _conjugate_gradients(rounds, G, np.where(M > 0.0, M, 1.0), live, bias, reg=reg)
    S = np.zeros_like(G)
    for k in np.flatnonzero(live):
        H = parts[k] + np.diag(reg)
        S[k] = newton_direction(H, G[k])
    return S
