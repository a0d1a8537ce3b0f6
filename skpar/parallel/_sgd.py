"""Data-parallel SGD in synchronous rounds: the algorithm behind ``ParallelSGDRegressor``.

Every round, each block runs ``local_steps`` steps of the local SGD kernel from the same model; the driver averages
the blocks' models weighted by the samples each processed, in block order, then applies the deferred l1 proximal
step. ``local_steps=1`` is exact synchronous mini-batch SGD with an all-reduce over a global batch of
``batch_size * n_blocks``; ``local_steps='epoch'`` is local SGD with one average per epoch (periodic averaging).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np

from .._losses import Loss
from .._penalties import Penalty
from .._report import LOGGER, record, stop_requested
from ..exceptions import DivergenceError, DivergenceWarning
from ..kernels import l2_decay
from ._sgd_line import LineSearch
from ._sync import SyncRounds, feature_average, held_feature_decay, weighted_average
from ._tasks import epoch_diverged, eval_task, oneshot_task, sgd_task

CONSTANT, INVSCALING = 0, 1


@dataclass(frozen=True)
class SGDPlan:
    """Everything a block's SGD task needs besides the model: loss, penalty and step-size schedule.

    ``pos_weight`` and ``neg_weight`` (one per output) weight the positive and negative samples of each one-vs-rest
    output (ones for regression). ``eta`` is the step after the scaling rule, ``eta_start`` the unscaled step that
    warm-up starts from,
    ``samples_per_step`` the samples one global step consumes (for ``invscaling``), ``avg_start`` the global step at
    which Polyak averaging starts and ``blowup`` the loss per sample above which a task reports divergence;
    ``ref_loss`` is the zero model's loss per sample (see :func:`epoch_diverged`).
    """

    loss: Loss
    pos_weight: np.ndarray
    neg_weight: np.ndarray
    l2: float
    l1: float
    fit_intercept: bool
    batch_size: int
    schedule: int
    eta: float
    power_t: float
    samples_per_step: float
    warmup_steps: float
    eta_start: float
    avg_start: int
    blowup: float
    ref_loss: float = np.inf
    #: test-only straggler hook (by block index): seconds each block's task sleeps, or a gate it waits on
    #: (``skpar.parallel._tasks._straggle``); empty in real fits
    delays: tuple = ()
    #: mode='hogwild': steps a thread takes on its own replica between folds into the shared model; 0, none (every
    #: step writes the shared model)
    replica_steps: int = 0
    #: the largest mean squared column value (bounds the fold period: skpar.kernels._replica.stable_period)
    replica_curvature: float = 1.0
    #: each epoch visits a block's rows in an order drawn from its seed; False: in their stored order
    shuffle: bool = True
    #: the factor of the intercepts' steps (scikit-learn's ``intercept_decay``: 0.01 for its SGD estimators on
    #: sparse rows, whose drop-ins take it; 1 elsewhere); the kernels take :attr:`intercept_step`
    intercept_decay: float = 1.0
    #: the line search's schedule (:class:`~skpar.parallel._sgd_line.LineSearch`) where the last epoch left it, so
    #: that ``partial_fit``'s epochs run the rounds one fit of as many epochs runs
    line_wait: int = 1
    line_backoff: int = 2

    @property
    def intercept_step(self):
        """The factor on the intercepts' steps that the CPU and GPU kernels take as their ``fit_intercept``
        argument: 0 without an intercept, else :attr:`intercept_decay`."""
        return float(self.intercept_decay) if self.fit_intercept else 0.0

    def order_seed(self, epoch_seed):
        """The seed a block's epoch order is drawn from: ``epoch_seed``, or None (the rows in order) without
        shuffling."""
        return epoch_seed if self.shuffle else None

    @property
    def penalty(self) -> Penalty:
        """The plan's penalty strengths as the penalty object (its value and proximal step)."""
        return Penalty(self.l1, self.l2)


@dataclass
class SGDState:
    """The model that travels each round: weights ``w`` (n_outputs, d), intercepts ``b`` (n_outputs,), their Polyak
    averages and the global step count."""

    w: np.ndarray
    b: np.ndarray
    wbar: np.ndarray
    bbar: np.ndarray
    n_avg: int
    t: int

    @classmethod
    def zeros(cls, n_outputs, n_features):
        return cls(np.zeros((n_outputs, n_features)), np.zeros(n_outputs), np.zeros((n_outputs, n_features)),
                   np.zeros(n_outputs), 0, 0)

    def copy(self):
        return SGDState(self.w.copy(), self.b.copy(), self.wbar.copy(), self.bbar.copy(), self.n_avg, self.t)

    def payload(self):
        return (self.w, self.b, self.wbar, self.bbar, self.n_avg)

    def model(self):
        """The model to predict with: the average once averaging has started, else the iterate."""
        if self.n_avg > 0:
            return self.wbar, self.bbar
        return self.w, self.b


def _n_train(block):
    return block.n_train


def block_train_sizes(rounds: SyncRounds):
    """Training rows of every block (one small round)."""
    return [int(n) for n in rounds.run(_n_train).results]


def _n_rows(block):
    return block.n_rows


def block_sizes(rounds: SyncRounds):
    """Rows of every block, held-out rows too (one small round)."""
    return [int(n) for n in rounds.run(_n_rows).results]


def epoch_rounds(n_train, batch_size, local_steps):
    """``(offset, n_steps)`` of each round of an epoch: one round of a whole local epoch, or chunks of steps."""
    steps = max(1, math.ceil(max(n_train) / batch_size))
    if local_steps == "epoch":
        return [(0, steps)]
    k = int(local_steps)
    return [(r * k * batch_size, k) for r in range(math.ceil(steps / k))]


def evaluate(rounds, model, plan, which):
    """Sums of :func:`~skpar.parallel._tasks.eval_task` over the blocks at ``model = (W, B)``."""
    parts = rounds.run(eval_task, model[0], model[1], plan, which).results
    return np.sum(parts, axis=0)


def held_out_score(rounds, plan):
    """The validation score of a model ``(W, B)`` on the blocks' held-out rows (``early_stopping`` without an
    explicit validation set): a round of read-only tasks, whose sums give accuracy or R^2. Held-out rows whose
    weights are all zero have no score (it would read 0 every epoch and stop the fit): scikit-learn's error."""
    def score(model):
        sums = evaluate(rounds, model, plan, "val")
        if sums[2] <= 0:
            raise ValueError("The sample weights for validation set are all zero, consider using a different "
                             "random state.")
        return score_from_sums(sums, plan.loss.margin)

    return score


def score_from_sums(s, classification):
    """Validation score from the sums of :func:`evaluate`: accuracy, or R^2 for regression."""
    if classification:
        return s[1] / s[2] if s[2] > 0 else 0.0
    return r2_from_sums(s)


def r2_from_sums(s):
    """R^2 from ``[sum s l, SSE, sum s, sum s y, sum s y^2]``."""
    sst = s[4] - s[3] ** 2 / s[2] if s[2] > 0 else 0.0
    if sst <= 0:
        return 1.0 if s[1] <= 0 else 0.0
    return 1.0 - s[1] / sst


def _combine(out, state, penalty, presence=None, decays=None):
    """Average the blocks' results (weighted by the samples each processed, in block order) into a new state.

    With ``presence`` (each block's mask of the features its rows hold: sparse blocks, rounds of many local steps)
    the weights and their averages are averaged feature by feature over the blocks holding each feature
    (:func:`~skpar.parallel._sync.feature_average`), and with ``decays`` (each block's l2 factor of the round)
    the weights get the penalty's share that goes with their progress
    (:func:`~skpar.parallel._sync.held_feature_decay`). Applies the deferred l1 proximal step once to the average.
    Returns the state, the loss sum, the sample count, a divergence flag, the spread of the blocks' models
    (distance to the average relative to its norm) and each block's mean loss on its own rows.
    """
    weights = [r.n_seen for r in out]
    if sum(weights) == 0:
        return state, 0.0, 0, False, [], []
    if len(out) == 1:
        # one block's model is the average: taken as it is (a task's arrays are the driver's own, fresh from the
        # kernel or the wire), with no spread to measure: the copies and the distance cost as much as a part of the
        # epoch on a wide many-class model
        r = out[0]
        new = SGDState(*(np.asarray(a, dtype=np.float64) for a in (r.W, r.B, r.Wbar, r.Bbar)), r.n_avg,
                       state.t + r.steps)
        last_eta = float(r.last_eta)
        spread = [0.0]
        penalty.prox_l1(new.w, last_eta)
    else:
        average = weighted_average if presence is None else (lambda a, w: feature_average(a, w, presence))
        w = average([r.W for r in out], weights)
        if decays is not None:  # (given with presence only)
            w += held_feature_decay(state.w, weights, presence, decays)
        new = SGDState(
            w,
            weighted_average([r.B for r in out], weights),
            average([r.Wbar for r in out], weights),
            weighted_average([r.Bbar for r in out], weights),
            max(r.n_avg for r in out),
            state.t + max(r.steps for r in out),
        )
        last_eta = float(weighted_average([np.array(r.last_eta) for r in out], weights))
        penalty.prox_l1(new.w, last_eta)
        norm = max(float(np.linalg.norm(new.w)), 1e-300)
        spread = [float(np.linalg.norm(r.W - new.w)) / norm for r in out]
    block_loss = [float(r.loss_sum) / r.n_seen if r.n_seen else float("nan") for r in out]
    diverged = any(r.diverged for r in out) or not (np.isfinite(new.w).all() and np.isfinite(new.b).all())
    return new, float(sum(r.loss_sum for r in out)), int(sum(weights)), diverged, spread, block_loss


def _diverged(plan, halvings, max_halvings, where):
    """Warn and return the plan with half the step, or raise once the step was cut ``max_halvings`` times."""
    if halvings > max_halvings:
        raise DivergenceError(
            f"SGD kept diverging after the step size was halved {max_halvings} times (now {plan.eta:.3g}). "
            "Scale the features (e.g. StandardScaler), lower eta0, or choose a robust loss such as 'huber'."
        )
    warnings.warn(
        f"SGD diverged in {where} with step size {plan.eta:.3g}; restarting it with {plan.eta / 2:.3g}. "
        "Consider a smaller eta0 or scaled features.", DivergenceWarning, stacklevel=4,
    )
    return replace(plan, eta=plan.eta / 2, eta_start=min(plan.eta_start, plan.eta / 2))


def sgd_oneshot(rounds, state, plan, *, epoch_seeds, max_epochs, tol=None, n_iter_no_change=5,
                history=None, start_time=None, max_halvings=30, presence=None):
    """One-shot parameter averaging (Zinkevich et al. 2010): every block fits alone, then one average.

    Each block runs up to ``max_epochs`` local epochs from ``state`` (stopping on its own by scikit-learn's ``tol``
    rule), all in one round, and the driver averages the blocks' models once. By convexity the average is no worse
    than the mean of the blocks' losses; it is statistically as good as one fit on all the data when each block
    holds enough rows (about kappa; Zhang, Duchi and Wainwright 2013). Returns what :func:`sgd_sync` returns;
    ``n_epochs`` is the most local epochs a block ran and ``converged`` whether every block's stopping rule fired.
    """
    penalty = plan.penalty
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    halvings = 0
    while True:
        res = rounds.run(oneshot_task, state.payload(), plan, list(epoch_seeds[:max_epochs]), state.t, tol,
                         n_iter_no_change)
        new, loss_sum, n_seen, diverged, spread, block_loss = _combine(res.results, state, penalty, presence)
        if not diverged:
            break
        halvings += 1
        plan = _diverged(plan, halvings, max_halvings, "a block's local fit")
    n_epochs = max(r.epochs for r in res.results)
    record(history, {
        "round": len(history), "epoch": n_epochs - 1, "time": time.perf_counter() - start_time,
        "objective": loss_sum / max(n_seen, 1) + penalty.value(new.w), "eta": plan.eta, "n_samples": n_seen,
        "bytes_sent": res.bytes_sent, "block_spread": spread, "block_loss": block_loss,
    }, model=new.model)
    return new, plan, n_epochs, all(r[11] for r in res.results)


def _round(rounds, state, plan, penalty, seed, offset, n_steps, presence=None, line=None):
    """One synchronous round of ``n_steps`` local steps on every block from ``state``; see :func:`_combine`.
    ``line`` (a :class:`~skpar.parallel._sgd_line.LineSearch`, or None): the combined change is then taken by the
    share that minimises the objective, in the rounds where it searches; returns the share as well (1: the
    average)."""
    res = rounds.run(sgd_task, state.payload(), plan,
                     per_block=[(seed, offset, n_steps, state.t)] * rounds.n_blocks)
    decays = None
    if presence is not None and plan.l2 > 0:
        decays = [l2_decay(int(state.t), int(r.steps), float(plan.l2), int(plan.schedule), float(plan.eta),
                           float(plan.power_t), float(plan.samples_per_step), float(plan.warmup_steps),
                           float(plan.eta_start)) for r in res.results]
    new, *rest = _combine(res.results, state, penalty, presence, decays)
    share = 1.0
    if line is not None and not rest[2]:  # (rest[2]: the round diverged)
        new, share = line(rounds, state, new, plan, penalty)
    return (new, *rest, res, share)


def _epoch(rounds, state, plan, penalty, schedule, seed, presence, history, epoch, start_time, line=None):
    """One epoch of synchronous rounds (``schedule``: each round's offset and steps), a ``history`` row a round.
    Returns the state, the epoch's objective (progressive loss plus penalty) and whether a round diverged."""
    loss_sum, n_seen = 0.0, 0
    for offset, n_steps in schedule:
        state, ls, ns, diverged, spread, block_loss, res, share = _round(rounds, state, plan, penalty, seed, offset,
                                                                         n_steps, presence, line)
        loss_sum += ls
        n_seen += ns
        if diverged:
            return state, np.nan, True
        pen = penalty.value(state.w)
        record(history, {
            "round": len(history), "epoch": epoch, "time": time.perf_counter() - start_time,
            "objective": (ls / ns if ns else np.nan) + pen,
            "eta": plan.eta, "n_samples": ns, "bytes_sent": res.bytes_sent, "block_spread": spread,
            "block_loss": block_loss, "share": share,
        }, model=state.model)
        if stop_requested(history):  # the callback said stop: the epoch ends with this round
            break
    # the last round's penalty is the epoch's: the model it ended at
    return state, loss_sum / max(n_seen, 1) + pen, False


def _rebase(averaging_began, young_average, n_blocks):
    """Where the stopping rule's reference moves: returns ``(rebase, young_average)``.

    When averaging begins in an epoch, its objective is the average's from then on, no longer the iterate's, and
    the rule starts again from it (the caller resets it; against the first epoch's iterate the young average looked
    like no improvement). With several blocks the epoch after that one becomes the reference whether or not it
    improved (``rebase``): in the first averaged epoch each block's progressive loss is at its own young average,
    which follows its own iterate, and the average of the blocks' models measured next sits above it (20
    Newsgroups' log_loss: 3.34 against a true 3.90), so against it every later epoch looked like no improvement
    and the fit stopped after 7 epochs at 42% accuracy. It still counts as an epoch of the rule, so a fit whose
    blocks agree stops no later than before.
    """
    if averaging_began:
        return False, n_blocks > 1
    return young_average, False


def sgd_sync(rounds, state, plan, *, local_steps, n_train, epoch_seeds, max_epochs, tol=None,
             n_iter_no_change=5, validation=None, adaptive=False, history=None, start_time=None,
             max_halvings=30, presence=None, line_search=False):
    """Run synchronous data-parallel SGD for up to ``max_epochs`` epochs.

    Stopping follows scikit-learn's SGD: with ``tol`` set, the fit stops once the epoch's objective (or, given
    ``validation``, a function of the model, the validation score: R^2 or accuracy, :func:`held_out_score` or an
    explicit validation set's) has failed to improve by ``tol`` for ``n_iter_no_change`` epochs in a row;
    with ``adaptive``, the step is divided by 5 instead, until it falls below ``1e-4`` times its first value.

    A round whose loss blows up or turns non-finite sends the fit back to the start of the epoch with half the
    step, with a :class:`~skpar.exceptions.DivergenceWarning`; an epoch whose objective says the step swings the
    iterates (:func:`~skpar.parallel._tasks.epoch_diverged`) sends it back to the start of the epoch before;
    after ``max_halvings`` such cuts a :class:`~skpar.exceptions.DivergenceError` is raised. Non-finite
    coefficients are never returned.

    ``line_search``: on several blocks whose rounds are local epochs, a round's averaged change is taken by the
    share that minimises the objective (:mod:`skpar.parallel._sgd_line`); shorter rounds are averaged.

    Returns ``(state, plan, n_epochs, converged)``: the :class:`SGDState`, the :class:`SGDPlan` as it ended (its
    step cut by divergence or by ``adaptive``, the line search's schedule), the epochs run and whether the rule
    stopped the fit.
    """
    penalty = plan.penalty
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    schedule = epoch_rounds(n_train, plan.batch_size, local_steps)
    line = LineSearch.of(plan) if line_search and rounds.n_blocks > 1 and len(schedule) == 1 else None
    eta_first = plan.eta
    best = np.inf
    no_improvement = 0
    halvings = 0
    converged = False
    epoch = 0
    previous = None  # the start of the last epoch: (state, history length, epoch, best, no_improvement)
    retry = False  # this epoch runs again after diverging
    young_average = False  # the last epoch was the first with averaging, on several blocks (see below)
    while epoch < max_epochs:
        snapshot, t_snap = state.copy(), len(history)
        # no line search in the stop rule's count of epochs that did not improve (see _sgd_line.LineSearch)
        state, objective, diverged = _epoch(rounds, state, plan, penalty, schedule, int(epoch_seeds[epoch]),
                                            presence, history, epoch, start_time, line if not no_improvement else None)
        if diverged or epoch_diverged(objective, plan):
            halvings += 1
            plan = _diverged(plan, halvings, max_halvings, f"epoch {epoch + 1}")
            if (retry or not diverged) and previous is not None:
                # no batch blew up, yet the epoch's mean loss is far above the zero model's, or the epoch diverged
                # again with half the step: the epoch before may have left a model that no smaller step repairs (a
                # margin loss's epoch ends finite however large its model); run that epoch again too
                (snapshot, t_snap, epoch, best, no_improvement), previous = previous, None
            state, retry = snapshot, True
            del history[t_snap:]
            continue
        previous, retry = (snapshot, t_snap, epoch, best, no_improvement), False
        epoch += 1
        if stop_requested(history):  # the callback said stop, after this epoch
            break
        if tol is None:
            continue
        averaging_began = validation is None and state.n_avg > 0 and snapshot.n_avg == 0
        rebase, young_average = _rebase(averaging_began, young_average, rounds.n_blocks)
        if averaging_began:
            best, no_improvement = np.inf, 0
        if validation is not None:
            score = validation(state.model())
            improved = -score < best - tol
            best = min(best, -score)
        else:
            improved = objective < best - tol
            best = objective if rebase else min(best, objective)
        no_improvement = 0 if improved else no_improvement + 1
        if no_improvement >= n_iter_no_change:
            if adaptive and plan.eta > 1e-4 * eta_first:
                plan = replace(plan, eta=plan.eta / 5)
                no_improvement = 0
                LOGGER.info("step size divided by 5 to %.3g", plan.eta)
            else:
                converged = True
                break
    return state, (plan if line is None else line.into(plan)), epoch, converged
