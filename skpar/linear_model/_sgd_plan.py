"""The SGD estimators' step-size plan: from the estimator's parameters and the data's moments, the step, its
schedule, the warm-up, where averaging starts and the divergence threshold, as an :class:`~skpar.parallel.SGDPlan`.

Functions of the estimator (its parameters read, nothing written), as :mod:`._classifier_solvers` holds the
classifier's direct solves; :class:`~skpar.linear_model._sgd_base.BaseParallelSGD` calls :func:`make_plan` once a
fresh fit has its moments.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._penalties import Penalty
from ..diagnostics import CriticalBatchSize
from ..exceptions import CriticalBatchSizeWarning
from ..parallel import SGDPlan
from ..parallel._sgd import CONSTANT, INVSCALING

#: a step count never reached: the plan's ``avg_start`` without averaging
NEVER = 1 << 62
#: a task reports divergence when its loss per sample exceeds this many times the loss of the zero model
BLOWUP_FACTOR = 1e4
#: ``batch_size='auto'``: a block's mini-batch, unless many blocks are combined by the line search
DEFAULT_BATCH = 16
#: ``batch_size='auto'`` on blocks combined by the line search: the rows of a round's combined step (K blocks' batches)
#: kept to about this many, as on 4 blocks of :data:`DEFAULT_BATCH` rows (see :func:`block_batch`)
LINE_BATCH = 64


def block_batch(est, cbs, n_blocks, local_steps=None, line=True):
    r"""A block's mini-batch: ``batch_size``, or for ``'auto'`` :data:`DEFAULT_BATCH` rows, fewer on many blocks.

    K blocks whose local epochs the line search combines (:mod:`skpar.parallel._sgd_line`) step, where they agree,
    as one run whose steps each take K blocks' batches: past the critical batch size those steps are no longer
    larger, and the epochs to a target grow as K (a9a's log loss, batches of 16 rows: 4 epochs on 16 blocks, 10 on
    64, against 2 on 2; with 4 rows 3 and 4; ijcnn1 5 and 10 against 4 and 5, docs/benchmarks.md). So on blocks
    whose batches would add up to more than :data:`LINE_BATCH` rows a block's batch is

    .. math::

        b = \min\big(16, \max(w, t, \lceil c / K \rceil)\big), \qquad
        t = \begin{cases} \lceil \tilde b \rho / 4 \rceil & \rho \ge 4 \\ 1 & \rho < 4 \end{cases}, \qquad
        \rho = \frac{\max_i \|x_i\|^2}{\mathbb{E}\|x\|^2},

    with :math:`\tilde b` the critical batch size's lower estimate, and :math:`w = \lceil \tilde b \rceil`,
    :math:`c = 64` where :math:`\tilde b < 16`: no smaller than the batch that still takes the whole scaled step
    (``eta0 min(b, b~)``), and the blocks' batches adding up to about 64 rows. The step of a row of the largest norm
    moves its margin by ``0.5 min(b, b~) rho / b`` times its own (``eta0`` is half the mean row's stable step), so it
    is stable in any batch where ``rho < 4`` and only past ``b~ rho / 4`` rows where not: cpusmall's heavy rows
    (``rho`` 140) keep 16 (4 rows a batch left it above a relative suboptimality of 0.49 after 32 epochs). Where
    :math:`\tilde b \ge 16` every batch up to 16 is under the critical batch and has its noise floor, and the
    blocks' batches may add up to 4 critical batches, as they add up to 4 batches of 16 below it: :math:`w = 1`,
    :math:`c = 4 \tilde b` (mug05_12_12, whose critical batch is 73: 16 rows up to 16 blocks, 5 on 64).
    """
    if est.batch_size != "auto":
        return int(est.batch_size)
    local_steps = est.local_steps if local_steps is None else local_steps
    # ``line``: the fit's rounds are the line search's (BaseParallelSGD._line_searched); the others (asynchronous,
    # Hogwild!, one-shot, GPU blocks) and rounds of a few steps average their blocks and keep 16
    if (n_blocks * DEFAULT_BATCH <= LINE_BATCH or local_steps != "epoch" or not line
            or not (np.isfinite(cbs.lower) and np.isfinite(cbs.max_sq_norm) and cbs.mean_sq_norm > 0)):
        return DEFAULT_BATCH
    whole, combined = math.ceil(cbs.lower), LINE_BATCH
    if cbs.lower >= DEFAULT_BATCH:
        # every batch up to DEFAULT_BATCH is under the critical batch: one noise floor for all of them, and the
        # blocks' batches may add up to 4 critical batches as they add up to 4 default ones below it (mug05_12_12,
        # b~ 73, 64 blocks: 16-row batches 1.2 above the optimum after 32 epochs and 287 epochs to 1e-2, 5-row
        # batches 7.0e-2 after 32; on 16 blocks 10 and 5 rows did worse than 16, 1.07 and 0.99 against 4.0e-2)
        whole, combined = 1, LINE_BATCH * cbs.lower / DEFAULT_BATCH
    rho = cbs.max_sq_norm / cbs.mean_sq_norm
    tails = math.ceil(cbs.lower * rho / 4.0) if rho >= 4.0 else 1
    return int(min(DEFAULT_BATCH, max(whole, tails, math.ceil(combined / n_blocks), 1)))


def optimal_schedule(loss, alpha):
    """``(eta0, t0)`` of scikit-learn's ``learning_rate='optimal'``: the step :math:`1 / (\\alpha (t_0 + s))`
    after ``s`` samples, with ``t0`` from Bottou's heuristic (a typical weight :math:`(1/\\sqrt{\\alpha})^{1/2}`
    and the loss's slope there), so that the first step is ``eta0 = 1 / (alpha t0)``."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    eta0 = typw / max(1.0, float(loss.derivative(-typw, 1.0)))
    return eta0, 1.0 / (eta0 * alpha)


#: the moments of a fit whose plan reads none of them (:func:`reads_moments`): no bound on the batch's growth
NOT_READ = CriticalBatchSize(lower=math.inf, upper=math.inf, lambda_max=math.nan, lambda_min=math.nan,
                             mean_sq_norm=math.nan, max_sq_norm=math.nan, n_samples=0)


def reads_moments(est, n_blocks, local_steps=None):
    """Whether the plan reads the data's moments (:class:`~skpar.diagnostics.CriticalBatchSize`, a round over a
    row sample): for ``eta0='auto'``, a scaling rule on a batch of more than one row, a batch large enough for the
    critical batch size's warning, or one-shot averaging's kappa. A step given as scikit-learn gives it, one row a
    step (the drop-in classes), reads none: on a9a the estimate was 24 ms of a 30 ms one-epoch fit."""
    batch = effective_batch(est, n_blocks, local_steps)
    return ((est.eta0 == "auto" and est.learning_rate != "optimal") or (est.scaling_rule is not None and batch > 1)
            or batch >= 64 or (getattr(est, "averaging", "periodic") == "oneshot" and n_blocks > 1))


def effective_batch(est, n_blocks, local_steps=None, batch=None):
    """Samples behind one gradient step: all blocks' batches when a round is one all-reduced step. ``batch``: a
    block's (:func:`block_batch`; before the moments are read, ``batch_size``, :data:`DEFAULT_BATCH` for 'auto')."""
    if batch is None:
        batch = DEFAULT_BATCH if est.batch_size == "auto" else est.batch_size
    if (est.local_steps if local_steps is None else local_steps) == 1:
        return batch * n_blocks
    return batch


def _step(est, loss, cbs, batch, per_step):
    """``(eta0, eta, factor, schedule, power_t, per_step, penalty)``: the unscaled and the scaled step, the scaling
    rule's factor, the kernels' schedule with its exponent and samples a step, and the penalty."""
    # half the largest stable single-sample step for the loss's curvature (Loss.step_curvature) where the
    # iterates are averaged; an iterate that is not averaged keeps a noise floor that grows with the step, and
    # takes the squared error's (Hogwild! log_loss on 8,000 x 20: 71.0% training accuracy with the larger step,
    # against LogisticRegression's 72.4%)
    curvature = loss.step_curvature if est._average() not in (False, 0) else 1.0
    eta0 = 0.5 / (curvature * cbs.mean_sq_norm) if est.eta0 == "auto" else float(est.eta0)
    # The largest stable step grows linearly with the batch only up to the critical batch size and then
    # saturates at about 1 / lambda_max (McCandlish et al. 2018): scale up to it and no further.
    grow = min(batch, max(1.0, cbs.lower))
    schedule, power_t = (INVSCALING if est.learning_rate == "invscaling" else CONSTANT), float(est.power_t)
    if est.learning_rate == "optimal":
        eta0, t0 = optimal_schedule(loss, est.alpha)
        # 1 / (alpha (t0 + s)) after s samples is invscaling's decay with exponent 1 in units of t0 samples
        schedule, power_t, per_step = INVSCALING, 1.0, per_step / t0
    factor = {"linear": grow, "sqrt": math.sqrt(grow), None: 1.0}[est.scaling_rule]
    penalty = Penalty.from_params(est.penalty, est.alpha, est.l1_ratio)
    # At a step of 1 / l2 or more the penalty's decay alone takes the weights to zero (the kernels stop it there,
    # as scikit-learn does, rather than flip their sign), and the iterates settle at the batch gradient times
    # the step, not at the optimum: alpha = 1e5 on iris ended at an objective of 4,233 against about 3. So the
    # step, however it was set, stays at or under 1 / l2.
    eta = min(eta0 * factor, 1.0 / penalty.l2 if penalty.l2 > 0 else np.inf)
    return eta0, eta, factor, schedule, power_t, per_step, penalty


def _avg_start(est, steps_per_epoch, n_blocks, block):
    """The global step at which Polyak averaging starts (:data:`NEVER` without it)."""
    average = est._average()
    if average is False or average == 0:
        return NEVER
    if isinstance(est.average, str):
        # 'auto' averages from the end of the first epoch: an average from the first step carries the start's
        # distance from the optimum as a 1/t tail that the stop rule waits out (docs/benchmarks.md)
        return steps_per_epoch
    if average is True:
        return 0
    # scikit-learn averages from its ``average``-th sample on (counting from 1): the step that holds that sample
    return max(int(average) - 1, 0) // (block * n_blocks)


def divergence_reference(ref_loss):
    """The plan's divergence test from the zero model's loss per sample on the rows being fitted: ``ref_loss``
    itself (an epoch far above it has diverged) and ``blowup``, the loss per sample of a batch that has."""
    # a zero model that loses nothing (the perceptron's criterion) gives no scale: only a non-finite loss
    return {"blowup": BLOWUP_FACTOR * ref_loss if ref_loss > 0 else np.inf, "ref_loss": float(ref_loss)}


def make_plan(est, loss, cbs, ref_loss, n_blocks, n_train, pos_weight, neg_weight, local_steps=None, workers=None,
              line=True):
    """The step-size plan of ``est`` (a :class:`~skpar.linear_model._sgd_base.BaseParallelSGD`) for ``loss`` on
    blocks of ``n_train`` rows, from the moments ``cbs`` (a :class:`~skpar.diagnostics.CriticalBatchSize`) and the
    zero model's loss per sample ``ref_loss``. ``workers`` are the SGD workers inside each block (warps on a GPU,
    else 1): a global step consumes a batch of each, which sets the invscaling decay and the warm-up length."""
    workers = [1] * n_blocks if workers is None else workers
    block = block_batch(est, cbs, n_blocks, local_steps, line)
    batch = effective_batch(est, n_blocks, local_steps, block)
    eta0, eta, factor, schedule, power_t, per_step, penalty = _step(est, loss, cbs, batch,
                                                                    float(batch * max(workers)))
    steps_per_epoch = max(1, max(math.ceil(n / (block * w)) for n, w in zip(n_train, workers, strict=True)))
    warmup_steps = est.warmup * steps_per_epoch if factor > 1 else 0.0
    # "far past": ten times the upper estimate, and large enough to be a choice rather than the kernel's
    # default grain (a batch of 16 costs hardly more per sample than a batch of 1)
    if batch > 10 * max(cbs.upper, 1.0) and batch >= 64:
        warnings.warn(
            f"the batch of one gradient step ({batch} samples) is more than 10 times the critical batch size "
            f"(estimated between {cbs.lower:.3g} and {cbs.upper:.3g}): past it a larger batch buys no fewer "
            "steps, only more work per step. Lower batch_size or use local_steps > 1.",
            CriticalBatchSizeWarning, stacklevel=4,
        )
    return SGDPlan(
        loss=loss, pos_weight=np.asarray(pos_weight, dtype=np.float64),
        neg_weight=np.asarray(neg_weight, dtype=np.float64), l2=penalty.l2, l1=penalty.l1,
        fit_intercept=bool(est.fit_intercept), batch_size=int(block),
        schedule=schedule, eta=eta, power_t=power_t, samples_per_step=per_step,
        warmup_steps=float(warmup_steps),
        eta_start=min(eta0, eta) if warmup_steps else eta, avg_start=_avg_start(est, steps_per_epoch, n_blocks, block),
        **divergence_reference(ref_loss),
        shuffle=bool(est.shuffle),
        # test-only straggler hook (tests/test_async.py, asv_bench/scripts): per-block task delays in seconds
        delays=tuple(getattr(est, "_straggler_delays", ())),
    )
