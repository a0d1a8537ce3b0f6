"""Asynchronous data-parallel SGD: a parameter server on futures (Downpour) and Hogwild! on threads.

Downpour (Dean et al. 2012): the driver holds the model; each block's task runs ``local_steps`` local steps from
the model it was sent and returns its new model; the driver applies each result as it arrives (``as_completed``),
``w += (w_k - w_sent) / max(M, 1 + staleness)``, with ``M`` the tasks in flight and staleness the updates applied
since the task was sent, and sends that block its next task with the newest model. Dividing by ``M`` makes the M
changes computed from about the same model an average rather than a sum (each is a whole local move, not one
gradient); a straggler's update, staler than ``M``, is damped further (the staleness-aware step of Zhang et al.
2016). Up to
``max_staleness`` tasks per block are in flight, so a block's next task is already running while the driver
combines its last one (communication overlaps computation). Nobody waits for the slowest worker; the price is that
results depend on timing: they are not reproducible run to run.

Hogwild! (Niu et al. 2011): on the thread backend, every thread runs its block's epoch against one shared model,
written without locks. On Dask, each worker runs Hogwild! over its own threads on its block, and the blocks' models
are averaged once an epoch.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from .._report import record, stop_requested
from ..backend import LostBlocksError
from ._sgd import SGDState, _diverged
from ._sync import weighted_average
from ._tasks import epoch_diverged, hogwild_task, sgd_task


def _epoch_rule(objective, best, no_improvement, tol):
    improved = objective < best - tol
    return min(best, objective), 0 if improved else no_improvement + 1


def _stopping_value(model, objective, validation):
    """What scikit-learn's rule watches at an epoch's end: the epoch's objective, or given ``validation`` minus the
    validation score (R^2 or accuracy) of ``model``, as :func:`~skpar.parallel._sgd.sgd_sync` does. On held-out
    rows the evaluation is a round of read-only tasks, which on each block waits behind the tasks in flight."""
    if validation is None:
        return objective
    return -validation(model)


class _Server:
    """The parameter server of :func:`sgd_async`: the model, the blocks' cursors and the tasks in flight."""

    def __init__(self, rounds, state, plan, penalty, local_steps, n_train, epoch_seeds, max_halvings):
        self.rounds, self.penalty, self.n_train, self.epoch_seeds = rounds, penalty, n_train, epoch_seeds
        self.backend, self.blocks = rounds.backend, list(rounds.blocks)
        self.K, b = len(self.blocks), plan.batch_size
        self.steps_of = [max(1, math.ceil(n / b)) if local_steps == "epoch" else int(local_steps) for n in n_train]
        self.cursor = [[0, 0] for _ in range(self.K)]  # per block: its epoch index, its offset in that epoch's order
        self.W, self.B = state.w.copy(), state.b.copy()
        self.Wbar, self.Bbar, self.n_avg = state.wbar.copy(), state.bbar.copy(), state.n_avg
        self.t, self.version = state.t, 0
        self.plan = plan
        self.local = plan.__class__(**{**plan.__dict__, "avg_start": 1 << 62})  # averaging happens here
        self.halvings, self.max_halvings = 0, max_halvings
        self.epoch_starts = [(self.W.copy(), self.B.copy())] * 2  # the models at the start of the last two epochs
        self.pending = self.backend.as_completed([])
        self.meta = {}

    def submit(self, k):
        e, off = self.cursor[k]
        if e >= len(self.epoch_seeds):
            return
        # each block's tasks run where the block lives, one after another: a straggler delays only its own
        fut = self.backend.submit_to_block(sgd_task, self.blocks[k], (self.W.copy(), self.B.copy(), self.Wbar,
                                                                      self.Bbar, 0),
                                           self.local, int(self.epoch_seeds[e]), off, self.steps_of[k], self.t)
        self.meta[fut] = (k, self.version, self.W.copy(), self.B.copy(), (e, off), self.local.eta)
        self.pending.add(fut)
        off += self.steps_of[k] * self.plan.batch_size
        self.cursor[k] = [e + 1, 0] if off >= self.n_train[k] else [e, off]

    def recover(self, lost):
        """Workers holding blocks left: place those blocks again and send their lost tasks again (from where the
        earliest of them started); the updates of the other blocks' tasks in flight still count."""
        rounds, K = self.rounds, self.K
        if not self.backend.recoverable or rounds.recoveries >= rounds.MAX_RECOVERIES * K:
            raise lost
        placed = self.backend.restore(self.blocks)
        moved = {k for k in range(K) if placed[k] is not self.blocks[k]}
        self.blocks[:] = placed
        rounds.blocks = list(placed)
        rounds.recoveries += 1
        resend = {}
        for fut, (k, _, _, _, where, _) in list(self.meta.items()):
            if k in moved:
                del self.meta[fut]
                resend[k] = resend.get(k, []) + [where]
        self.pending = self.backend.as_completed(list(self.meta))
        for k, wheres in sorted(resend.items()):
            self.cursor[k] = list(min(wheres))
            for _ in wheres:
                self.submit(k)

    def next_result(self):
        """The next finished task as ``(out, meta)``, None when none is left; lost workers are recovered from."""
        while True:
            try:
                fut = next(self.pending)
                if fut not in self.meta:
                    continue  # a task of a lost block, already sent again
                try:
                    out = fut.result()
                except Exception as exc:
                    self.backend.check_holders(cause=exc)  # a lost worker raises LostBlocksError; else as is
                    raise
            except StopIteration:
                return None
            except LostBlocksError as lost:
                self.recover(lost)
                continue
            return out, self.meta.pop(fut)

    def cut_step(self, where):
        """Halve the step (the plan's and the tasks') and go back to the model at the start of the last epoch but
        one: every update since was made with the step that diverged."""
        self.halvings += 1
        self.local = _diverged(self.local, self.halvings, self.max_halvings, where)
        self.plan = self.local.__class__(**{**self.local.__dict__, "avg_start": self.plan.avg_start})
        self.W[...], self.B[...] = self.epoch_starts[0]
        self.version += 1

    def apply(self, out, W_sent, B_sent, scale):
        """Add a task's change of the model, scaled, with its deferred l1 step; average from ``avg_start`` on."""
        self.W += scale * (out.W - W_sent)
        self.B += scale * (out.B - B_sent)
        self.penalty.prox_l1(self.W, scale * out.last_eta)
        self.version += 1
        self.t += out.steps
        if self.t >= self.plan.avg_start:
            self.n_avg += 1
            self.Wbar += (self.W - self.Wbar) / self.n_avg
            self.Bbar += (self.B - self.Bbar) / self.n_avg

    def state(self):
        return SGDState(self.W, self.B, self.Wbar, self.Bbar, self.n_avg, self.t)


def sgd_async(rounds, state, plan, *, local_steps, n_train, epoch_seeds, max_epochs, max_staleness=1,
              tol=None, n_iter_no_change=5, validation=None, history=None, start_time=None, max_halvings=30):
    """Asynchronous parameter-server SGD over the blocks of ``rounds``; returns ``(state, plan, epochs, converged)``.

    An epoch is ``sum(n_train)`` samples applied; the stopping rule is scikit-learn's, on each epoch's mean loss
    (given ``validation``, on the validation score of the server's model at the epoch's end).
    ``history`` gets one row per applied update with its ``staleness``. On a Dask cluster, a worker that leaves
    costs only its tasks in flight: its blocks are placed again on live workers and those tasks sent again.
    """
    penalty = plan.penalty
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    server = _Server(rounds, state, plan, penalty, local_steps, n_train, epoch_seeds, max_halvings)
    total = sum(n_train)
    done_samples, epoch, best, no_improvement, converged = 0, 0, np.inf, 0, False
    epoch_loss, epoch_n = 0.0, 0
    lowest = np.inf  # the lowest epoch objective since the step was last cut (see epoch_diverged)
    stop = False
    for k in range(server.K):
        for _ in range(max_staleness):
            server.submit(k)
    in_flight = float(server.K * max_staleness)
    while (got := server.next_result()) is not None:
        out, (k, sent_version, W_sent, B_sent, where, sent_eta) = got
        if stop:
            continue  # drain: the fit is over, results still in flight are dropped
        staleness = server.version - sent_version
        if sent_eta != server.local.eta:
            # sent before the step was cut: its move was made with the step that diverged; do it again
            server.cursor[k] = list(min(tuple(server.cursor[k]), where))
            server.submit(k)
            continue
        if out.diverged or not np.isfinite(out.W).all() or epoch_diverged(out.loss_sum / max(out.n_seen, 1),
                                                                          server.local):
            lowest = np.inf
            server.cut_step("an asynchronous task")
            server.cursor[k] = list(where)  # the same samples again, with the smaller step
            server.submit(k)
            continue
        server.apply(out, W_sent, B_sent, 1.0 / max(in_flight, 1.0 + staleness))
        done_samples += out.n_seen
        epoch_loss += out.loss_sum
        epoch_n += out.n_seen
        record(history, {"round": len(history), "epoch": epoch, "time": time.perf_counter() - start_time,
                         "objective": out.loss_sum / max(out.n_seen, 1) + penalty.value(server.W),
                         "eta": server.local.eta, "n_samples": out.n_seen, "staleness": staleness, "block": k},
               model=lambda: server.state().model())
        if stop_requested(history):  # the callback said stop: the model as this update left it
            stop = True
            continue
        if done_samples >= (epoch + 1) * total:
            objective = epoch_loss / max(epoch_n, 1) + penalty.value(server.W)
            epoch_loss, epoch_n = 0.0, 0
            if epoch_diverged(objective, server.local, lowest):
                # no task blew up, yet the epoch's mean loss says the step swings the model: as in sgd_sync, go
                # back to the start of the epoch before with half the step (results in flight are sent again)
                lowest = np.inf
                server.cut_step(f"epoch {epoch + 1}")
                done_samples = epoch * total
                server.submit(k)
                continue
            epoch += 1
            lowest = min(lowest, objective)
            server.epoch_starts = [server.epoch_starts[1], (server.W.copy(), server.B.copy())]
            if tol is not None:
                watched = _stopping_value(server.state().model(), objective, validation)
                best, no_improvement = _epoch_rule(watched, best, no_improvement, tol)
                if no_improvement >= n_iter_no_change:
                    converged = True
            if converged or epoch >= max_epochs:
                stop = True
                continue
        server.submit(k)
    if not stop and epoch < max_epochs and not stop_requested(history):
        warnings.warn(f"asynchronous SGD stopped after {epoch} of {max_epochs} epochs: the blocks ran out of epoch "
                      "seeds", RuntimeWarning, stacklevel=2)
    return server.state(), server.plan, max(epoch, 1), converged


def sgd_hogwild(rounds, state, plan, *, inv_q, epoch_seeds, max_epochs, tol=None, n_iter_no_change=5,
                validation=None, history=None, start_time=None, max_halvings=30, own_models=False):
    """Hogwild!: per epoch, every thread runs its block's epoch on one shared model, without locks.

    With ``plan.replica_steps > 0`` each thread steps on a replica of the weights of its own and folds its
    progress into the shared model every fold period, without locks (:mod:`skpar.kernels._replica`).

    ``own_models`` (Dask, where blocks live in other processes): each block's task runs Hogwild! over its share of
    its worker's threads on its own copy of the epoch's model, and the driver averages the copies weighted by the
    rows each saw (one average an epoch, as ``mode='sync'`` with ``local_steps='epoch'``). Returns ``(state, plan,
    epochs, converged)``; ``history`` gets one row per epoch, with the threads of each block (``threads``). The
    stopping rule is scikit-learn's on the epoch's objective, or given ``validation`` on the validation score.
    """
    penalty = plan.penalty
    history = [] if history is None else history
    start_time = time.perf_counter() if start_time is None else start_time
    W, B = state.w.copy(), state.b.copy()
    t = state.t
    best, no_improvement, converged, halvings, epoch = np.inf, 0, False, 0, 0
    previous = None  # the start of the last epoch (see sgd_sync)
    retry = False  # this epoch runs again after diverging
    lowest = np.inf  # the lowest epoch objective since the step was last cut (see epoch_diverged)
    while epoch < max_epochs:
        snapshot = (W.copy(), B.copy(), len(history), epoch, t, best, no_improvement)
        if own_models:  # each block's task gets its share of its worker's threads
            per_block = [(n,) for n in rounds.backend.threads_per_block(rounds.blocks)]
            res = rounds.run(hogwild_task, W, B, plan, int(epoch_seeds[epoch]), t, inv_q, True, per_block=per_block)
        elif plan.replica_steps and rounds.n_blocks > 1:  # replicas folded into W (skpar.kernels._replica)
            res = rounds.run(hogwild_task, W, B, plan, int(epoch_seeds[epoch]), t, inv_q, False, 1, True,
                             rounds.n_blocks)
        else:
            res = rounds.run(hogwild_task, W, B, plan, int(epoch_seeds[epoch]), t, inv_q, False, 1,
                             rounds.n_blocks > 1)
        loss, n = sum(r.loss_sum for r in res.results), sum(r.n_seen for r in res.results)
        if own_models:  # the blocks' copies, averaged by the rows each saw, in block order
            weights = [r.n_seen for r in res.results]
            if sum(weights) > 0:
                W[...] = weighted_average([r.W for r in res.results], weights)
                B[...] = weighted_average([r.B for r in res.results], weights)
        threads = tuple(int(r.n_threads) for r in res.results) if own_models else (1,) * rounds.n_blocks
        blew_up = any(r.diverged for r in res.results) or not (np.isfinite(W).all() and np.isfinite(B).all())
        if blew_up or epoch_diverged(loss / max(n, 1), plan, lowest):
            halvings += 1
            lowest = np.inf
            plan = _diverged(plan, halvings, max_halvings, f"epoch {epoch + 1}")
            if (retry or not blew_up) and previous is not None:
                # the epoch before may have spoiled the model (see sgd_sync): again too
                snapshot, previous = previous, None
            W[...], B[...] = snapshot[0], snapshot[1]
            del history[snapshot[2]:]
            epoch, t, best, no_improvement = snapshot[3:]
            retry = True
            continue
        previous, retry = snapshot, False
        lowest = min(lowest, loss / max(n, 1))
        penalty.prox_l1(W, max(r.last_eta for r in res.results))
        t += max(r.steps for r in res.results)
        objective = loss / max(n, 1) + penalty.value(W)
        record(history, {"round": len(history), "epoch": epoch, "time": time.perf_counter() - start_time,
                         "objective": objective, "eta": plan.eta, "n_samples": n, "threads": threads},
               model=lambda: (W, B))
        epoch += 1
        if stop_requested(history):
            break
        if tol is not None:
            watched = _stopping_value((W, B), objective, validation)
            best, no_improvement = _epoch_rule(watched, best, no_improvement, tol)
            if no_improvement >= n_iter_no_change:
                converged = True
                break
    return SGDState(W, B, W.copy(), B.copy(), 0, t), plan, epoch, converged
